"""Train a cross-encoder on labelled pairs with sentence-transformers' ``CrossEncoderTrainer``.

A cross-encoder reads both texts at once and gives one score; it is often more accurate than
a sentence encoder's cosine, but scores pairs only (no vectors, no neighbours) and costs a
forward pass per pair. It is not automatically better: compare it on held-out pairs.

>>> trained = train_cross_encoder("minilm", df.query, df.result, df.grade, epochs=4)  # doctest: +SKIP
>>> trained.report                         # base sentence encoder vs the cross-encoder  # doctest: +SKIP
>>> sw.score_pairs(df.query, df.result, models=["minilm", trained.spec])              # doctest: +SKIP
"""

from __future__ import annotations

import shutil
import time

from ..errors import InputError, OptionError
from ..files import staged_folder
from ..models.specs import parse_spec
from .encoder import base_source
from .pairs import Pairs, prepare_pairs, split_validation
from .result import TrainedModel
from .store import locate, model_name, named, pair_job_key, pair_record, write_done
from .trainer_args import arguments, quiet, require_training
from .trainer_args import history as read_history

#: The loss: binary cross-entropy on gold rescaled to 0-1 (soft targets for graded gold).
OBJECTIVE = "bce"


def _source(base) -> tuple[str, str, bool]:
    """``(label, path_or_name, is_cross_encoder)`` of a base to start from."""
    if isinstance(base, str) and parse_spec(base)[0] == "ce":
        family, target, options = parse_spec(base)
        if options or not target:
            raise InputError(f"give a cross-encoder base as 'ce:PATH_OR_NAME' without options, got {base!r}")
        from ..models.cross_encoder import check_cross_encoder
        from ..models.sources import check_source

        source = check_source(target, "cross-encoder")
        check_cross_encoder(source)
        return base, source, True
    label, source = base_source(base)
    return label, source, False


def train_cross_encoder(
    base="minilm",
    left=None,
    right=None,
    gold=None,
    *,
    epochs: int = 1,
    batch_size: int = 16,
    learning_rate: float = 2e-5,
    warmup_ratio: float = 0.1,
    max_tokens: int = 256,
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
    """Train a cross-encoder on your labelled pairs; judge it on pairs it never saw.

    Parameters
    ----------
    base
        ``"minilm"`` (the bundled all-MiniLM-L6-v2's transformer, with a new one-output head:
        works offline), ``"st:PATH"`` / ``"hf:PATH"`` (any BERT-family encoder), or
        ``"ce:PATH_OR_NAME"`` (a cross-encoder trained further).
    left, right, gold
        The pairs and their labels (graded or binary); gold is rescaled to 0-1 from
        ``gold_range`` or its observed range and learnt with binary cross-entropy.
    epochs, batch_size, learning_rate, warmup_ratio, seed
        sentence-transformers' training arguments.
    max_tokens
        Longest input read, both texts together (default 256 word pieces).
    validation, output_dir, overwrite, cache_dir, device, progress
        As for :func:`~simwidgets.fine_tune`.

    name
        The trained model's name in score columns (``score_<name>``); default: what it was
        made from, what made it and a short hash of its data and settings.

    Returns
    -------
    TrainedModel
        ``.spec`` is ``"ce:PATH"``: :func:`~simwidgets.score_pairs`,
        :func:`~simwidgets.evaluate_pairs`, :func:`~simwidgets.score_file` and the widgets take
        it; its scores are the sigmoid of the model's logit, in [0, 1]. ``.report`` compares
        the base (as a sentence encoder's cosine, or the base cross-encoder) with the trained
        model on the validation pairs.
    """
    if left is None or right is None or gold is None:
        raise OptionError("train_cross_encoder needs left and right texts and their gold labels")
    label, source, from_cross_encoder = _source(base)
    pairs = prepare_pairs(left, right, gold, gold_range=gold_range)
    train, held = split_validation(pairs, validation, seed, gold_range=gold_range)
    settings = {
        "objective": OBJECTIVE,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "warmup_ratio": warmup_ratio,
        "max_tokens": max_tokens,
        "seed": seed,
        "gold_range": gold_range,
    }
    key = pair_job_key("ce", f"{label}|{source}", train, held, settings)
    target, record = locate("ce", key, output_dir, cache_dir, overwrite)
    spec = named(f"ce:{target.resolve()}", model_name(label, "ce", key, name))
    if record is not None:
        return TrainedModel.from_record(spec, target, record, reused=True)

    require_training()
    import torch
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer
    from sentence_transformers.cross_encoder import CrossEncoderTrainingArguments as Arguments
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderCorrelationEvaluator
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    from ..models.sources import quiet_loading
    from ..models.transformer import pick_device

    device = pick_device(device)
    start = time.perf_counter()
    torch.manual_seed(seed)  # the new head's initial weights
    with quiet_loading():
        model = CrossEncoder(source, num_labels=None if from_cross_encoder else 1, max_length=max_tokens, device=device)
    model.float()  # weights stored in half precision train in full precision
    evaluator = None
    if held is not None:
        evaluator = CrossEncoderCorrelationEvaluator(
            list(zip(held.left, held.right)), held.gold.tolist(), name="validation", write_csv=False
        )
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
        trainer = CrossEncoderTrainer(
            model=model,
            args=args,
            train_dataset=_dataset(train),
            loss=BinaryCrossEntropyLoss(model),
            evaluator=evaluator,
        )
        quiet(trainer, progress)
        trainer.train()
        history = read_history(trainer.state.log_history, "spearman" if evaluator is not None else None)
        model.save(str(tmp))
        seconds = time.perf_counter() - start
        report = None
        if held is not None:
            report = _report(held, source, from_cross_encoder, str(tmp), device)
        record = pair_record(
            key,
            "ce",
            label,
            settings,
            pairs,
            train,
            held,
            seconds=seconds,
            history=history.to_dict(orient="records"),
            report=report,
            source=source,
        )
        shutil.rmtree(tmp / "checkpoints", ignore_errors=True)
        write_done(tmp, record, trained_on=train)
    return TrainedModel.from_record(spec, target, record, reused=False)


def _dataset(pairs: Pairs):
    from datasets import Dataset

    return Dataset.from_dict({"sentence1": pairs.left, "sentence2": pairs.right, "label": pairs.gold.tolist()})


def _report(held: Pairs, source: str, from_cross_encoder: bool, folder: str, device: str):
    """The base and the trained model on the validation pairs (:func:`~simwidgets.evaluate_pairs`)."""
    from ..evaluation import evaluate_pairs
    from ..models.cross_encoder import CrossEncoderModel
    from ..models.transformer import SentenceTransformerModel

    if from_cross_encoder:
        before = CrossEncoderModel(source, name="before", device=device, dtype="float32")
    else:
        before = SentenceTransformerModel(source, name="before", device=device)
    after = CrossEncoderModel(folder, name="after", device=device, dtype="float32")
    return evaluate_pairs(held.left, held.right, held.gold, models=[before, after], n_boot=200)
