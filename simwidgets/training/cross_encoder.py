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
from pathlib import Path

from ..errors import InputError, OptionError
from .encoder import encoder_source
from .job import Base, Recipe, parse_base, run_pair_job
from .pairs import Pairs
from .result import TrainedModel
from .trainer_args import (
    arguments,
    best_epoch,
    early_stopping,
    no_widget_examples,
    quiet,
    require_training,
    resolve_epochs,
)
from .trainer_args import history as read_history

#: The loss: binary cross-entropy on gold rescaled to 0-1 (soft targets for graded gold).
OBJECTIVE = "bce"


def train_cross_encoder(
    base="minilm",
    left=None,
    right=None,
    gold=None,
    *,
    epochs="auto",
    batch_size: int = 16,
    learning_rate: float = 2e-5,
    warmup_ratio: float = 0.1,
    max_tokens: int = 256,
    anchor: bool = True,
    head_learning_rate: float = 1e-4,
    keep_confidence: float = 0.9,
    warm_start="auto",
    log_pairs=None,
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
    epochs
        ``"auto"`` (default) or a whole number, as for :func:`~simwidgets.fine_tune` (at least
        200 optimizer steps; with validation pairs the best epoch is kept, and training stops
        after 3 epochs without a better one).
    batch_size, learning_rate, warmup_ratio, seed
        sentence-transformers' training arguments.
    max_tokens
        Longest input read, both texts together (default 256 word pieces).
    anchor
        From a sentence encoder (default True): the cross-encoder learns a *correction* to the
        encoder's cosine. Its score is ``sigmoid(logit + scale * cosine + offset)``, with
        ``scale`` and ``offset`` fitted to the training labels and the new head starting at
        zero, so before any step it ranks pairs exactly as the encoder does; the epoch with
        the best validation Spearman is kept if it beats the start in at least
        ``keep_confidence`` of bootstrap resamples of the validation pairs, else the head is
        set back to zero (the report then shows the two level, and ``.record["anchor"]``
        says so). The saved folder holds the encoder too (``anchor/``): scoring runs both.
        False: a plain cross-encoder, its score the sigmoid of its logit alone.
    keep_confidence
        How sure the validation pairs must be that the correction helps before it is kept
        (default 0.9; 0 keeps the best epoch whenever it is better at all).
    head_learning_rate
        The anchored head's learning rate (default 1e-4; the encoder under it learns at
        ``learning_rate``): a head starting at zero moves too slowly at the encoder's rate,
        and at 1e-3 it overshot on one MRPC fold (``docs/benchmarks.md``).
    warm_start
        For a plain cross-encoder from a sentence encoder (``"auto"``, the default, warms a
        plain one and not an anchored one, which starts at its encoder already): before any
        label, the new cross-encoder is trained to reproduce the encoder's cosine (soft binary
        cross-entropy, at least 200 steps) on the training pairs, as many random pairings of
        their texts, and ``log_pairs``; so it starts about where the encoder is, not from a
        random head. False: the labels alone, from a new head.
    log_pairs
        ``(left, right)`` unlabelled pairs from your log for the warm start (their labels
        are never needed: the encoder's cosine is the target).
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
    recipe = CrossEncoderRecipe(
        parse_base(base), epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
        warmup_ratio=warmup_ratio, max_tokens=max_tokens, seed=seed, gold_range=gold_range, device=device,
        progress=progress, warm_start=warm_start, log_pairs=log_pairs, anchor=anchor,
        head_learning_rate=head_learning_rate, keep_confidence=keep_confidence,
    )  # fmt: skip
    return run_pair_job(
        recipe, left, right, gold, validation=validation, gold_range=gold_range, seed=seed,
        output_dir=output_dir, cache_dir=cache_dir, overwrite=overwrite, name=name,
    )  # fmt: skip


class CrossEncoderRecipe(Recipe):
    """A cross-encoder trained with sentence-transformers' ``CrossEncoderTrainer`` and binary
    cross-entropy; from a sentence encoder (a new one-output head, anchored to the encoder's
    cosine by default: :mod:`simwidgets.training.anchor`) or a cross-encoder."""

    kind, made_by = "ce", "ce"

    def __init__(self, base: Base, *, epochs, batch_size, learning_rate, warmup_ratio, max_tokens, seed,
                 gold_range, device, progress, warm_start="auto", log_pairs=None, anchor=False,
                 head_learning_rate=1e-4, keep_confidence=0.9):  # fmt: skip
        if base.family == "ce":
            if not base.target:
                raise InputError(f"give a cross-encoder base as 'ce:PATH_OR_NAME' without options, got {base.spec!r}")
            from ..models.cross_encoder import check_cross_encoder
            from ..models.sources import check_source

            self.label, self.source, self.from_cross_encoder = (
                base.spec,
                check_source(base.target, "cross-encoder"),
                True,
            )
            check_cross_encoder(self.source)
        else:
            (self.label, self.source), self.from_cross_encoder = encoder_source(base), False
        self.identity = f"{self.label}|{self.source}"
        if warm_start not in ("auto", True, False):
            raise OptionError(f"warm_start must be 'auto', True or False, got {warm_start!r}")
        if not (isinstance(head_learning_rate, (int, float)) and head_learning_rate > 0):
            raise OptionError(f"head_learning_rate must be a number > 0, got {head_learning_rate!r}")
        self.anchored = bool(anchor) and not self.from_cross_encoder  # a cross-encoder has its own head
        self.head_learning_rate = float(head_learning_rate)
        if not (isinstance(keep_confidence, (int, float)) and 0 <= keep_confidence <= 1):
            raise OptionError(f"keep_confidence must be a number in [0, 1], got {keep_confidence!r}")
        self.keep_confidence = float(keep_confidence)
        # a cross-encoder base is warm already, and an anchored one starts at its encoder
        if warm_start is True and self.anchored:
            raise OptionError("warm_start=True is for a plain cross-encoder (anchor=False): an anchored one starts "
                              "at its encoder's ranking already")  # fmt: skip
        wanted = (not self.anchored) if warm_start == "auto" else bool(warm_start)
        self.warm = wanted and not self.from_cross_encoder
        self.log_left, self.log_right = _log_pairs(log_pairs)
        self.epochs, self.batch_size, self.learning_rate, self.warmup_ratio = (
            epochs,
            batch_size,
            learning_rate,
            warmup_ratio,
        )
        self.max_tokens, self.seed, self.gold_range, self.device, self.progress = (
            max_tokens,
            seed,
            gold_range,
            device,
            progress,
        )

    def spec(self, folder: Path) -> str:
        return f"ce:{folder}"

    def settings(self, train: Pairs) -> dict:
        self.epochs_used = resolve_epochs(self.epochs, len(train), self.batch_size)
        return {
            "objective": OBJECTIVE,
            "epochs": self.epochs_used,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "warmup_ratio": self.warmup_ratio,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "gold_range": self.gold_range,
            "warm_start": self.warm,
            "anchor": self.anchored,
            "head_learning_rate": self.head_learning_rate if self.anchored else None,
            "keep_confidence": self.keep_confidence if self.anchored else None,
            "log_pairs": _digest(self.log_left, self.log_right) if self.warm and self.log_left else None,
        }

    def train(self, folder: Path, train: Pairs, held: Pairs | None) -> list[dict]:
        require_training()
        import torch
        from sentence_transformers.cross_encoder import CrossEncoder
        from sentence_transformers.cross_encoder.evaluation import CrossEncoderCorrelationEvaluator
        from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

        from ..models.sources import quiet_loading
        from ..models.transformer import pick_device

        self.device = pick_device(self.device)
        torch.manual_seed(self.seed)  # the new head's initial weights
        with quiet_loading():
            model = CrossEncoder(
                self.source,
                num_labels=None if self.from_cross_encoder else 1,
                max_length=self.max_tokens,
                device=self.device,
            )
        model.float()  # weights stored in half precision train in full precision
        if self.warm:
            self.warmed = self._warm_start(model, folder, train)
        if self.anchored:
            return self._train_anchored(model, folder, train, held)
        evaluator = None
        if held is not None:
            evaluator = CrossEncoderCorrelationEvaluator(
                list(zip(held.left, held.right)), held.gold.tolist(), name="validation", write_csv=False
            )
        history = self._fit(model, folder, _dataset(train), BinaryCrossEntropyLoss(model), evaluator)
        model.save(str(folder))
        shutil.rmtree(folder / "checkpoints", ignore_errors=True)
        return history.to_dict(orient="records")

    def _fit(self, model, folder: Path, data, loss, evaluator, learning_rates: dict | None = None):
        """Run sentence-transformers' trainer with this recipe's settings (the best epoch on the
        validation pairs kept, early stopping); ``learning_rates``: a rate per parameter-name
        pattern. Returns the per-epoch history; :attr:`best` is the epoch kept."""
        from sentence_transformers.cross_encoder import CrossEncoderTrainer
        from sentence_transformers.cross_encoder import CrossEncoderTrainingArguments as Arguments

        args = arguments(
            Arguments, folder, epochs=self.epochs_used, batch_size=self.batch_size, learning_rate=self.learning_rate,
            warmup_ratio=self.warmup_ratio, seed=self.seed, evaluate=evaluator is not None, progress=self.progress,
            device=self.device, best="eval_validation_spearman" if evaluator is not None else None,
        )  # fmt: skip
        if learning_rates and isinstance(getattr(args, "learning_rate_mapping", None), dict):
            args.learning_rate_mapping = dict(learning_rates)  # older sentence-transformers: one rate for all
        no_widget_examples(model)
        trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=loss, evaluator=evaluator)
        quiet(trainer, self.progress)
        early_stopping(trainer, args)
        trainer.train()
        metric = "spearman" if evaluator is not None else None
        self.best = best_epoch(trainer.state.log_history, metric)
        return read_history(trainer.state.log_history, metric)

    def _train_anchored(self, model, folder: Path, train: Pairs, held: Pairs | None) -> list[dict]:
        """Train the head (from zero) and the encoder under it to correct the calibrated cosine;
        keep the best epoch, or the start when the validation pairs are not sure the epoch beats it;
        save the encoder beside it."""
        import re

        import numpy as np
        from datasets import Dataset

        from ..models.cross_encoder import ANCHOR_FOLDER, write_anchor
        from ..models.transformer import SentenceTransformerModel
        from ..similarity import score_pairs
        from . import anchor

        encoder = SentenceTransformerModel(self.source, name="base", device=self.device)

        def cosine(pairs: Pairs) -> np.ndarray:
            scores = score_pairs(pairs.left, pairs.right, [encoder], progress=False)["score_base"]
            return scores.to_numpy(np.float64)

        train_cosine = cosine(train)
        scale, offset = anchor.calibrate(train_cosine, train.gold)

        def term(cosines: np.ndarray) -> np.ndarray:  # a pair the encoder cannot score: cosine 0
            return scale * np.nan_to_num(cosines, nan=0.0) + offset

        train_term = term(train_cosine)
        data = Dataset.from_dict({"sentence1": list(train.left), "sentence2": list(train.right),
                                  "label": [[float(g), float(t)] for g, t in zip(train.gold, train_term)]})  # fmt: skip
        anchor.zero_head(model)
        evaluator = start = None
        if held is not None:
            held_term = term(cosine(held))
            evaluator = anchor.anchored_evaluator(held.left, held.right, held.gold, held_term)
            start = anchor.start_spearman(held.gold, held_term)
        head_name, _ = anchor.head(model)
        learning_rates = {re.escape(head_name) + r"\.": self.head_learning_rate}
        history = self._fit(model, folder, data, anchor.anchored_loss(model), evaluator, learning_rates)
        share = None
        if held is not None:  # the kept epoch against the start, on the validation pairs
            import torch

            logits = model.predict(list(zip(held.left, held.right)), batch_size=max(self.batch_size, 64),
                                   show_progress_bar=False, activation_fn=torch.nn.Identity())  # fmt: skip
            trained = np.asarray(logits, dtype=np.float64).reshape(-1) + held_term
            share = anchor.share_better(held.gold, trained, held_term, seed=self.seed)
        kept_start = share is not None and (share < self.keep_confidence or share == 0)
        if kept_start:
            anchor.zero_head(model)
            self.best = 0
        self.anchor_record = {"scale": scale, "offset": offset, "start_validation_spearman": start,
                              "share_better": share, "kept_start": bool(kept_start)}  # fmt: skip
        model.save(str(folder))
        shutil.rmtree(folder / "checkpoints", ignore_errors=True)
        encoder.model.save(str(folder / ANCHOR_FOLDER))
        write_anchor(folder, scale=scale, offset=offset, base=self.label)
        return history.to_dict(orient="records")

    def before(self):
        from ..models.cross_encoder import CrossEncoderModel
        from ..models.transformer import SentenceTransformerModel

        if self.from_cross_encoder:
            return CrossEncoderModel(self.source, name="before", device=self.device, dtype="float32")
        return SentenceTransformerModel(self.source, name="before", device=self.device)

    def after(self, folder: Path):
        from ..models.cross_encoder import CrossEncoderModel

        return CrossEncoderModel(str(folder), name="after", device=self.device, dtype="float32")

    def record(self) -> dict:
        return {
            "source": self.source,
            "best_epoch": getattr(self, "best", None),
            "warm_start": getattr(self, "warmed", None),
            "anchor": getattr(self, "anchor_record", None),
        }

    def _warm_start(self, model, folder: Path, train: Pairs) -> dict:
        """Train the new head (and the encoder under it) to give the base encoder's cosine on
        unlabelled pairs: the training pairs (not their labels), random pairings of their
        texts and the log's pairs. Returns what it did, for the record."""
        import numpy as np
        from datasets import Dataset
        from sentence_transformers.cross_encoder import CrossEncoderTrainer
        from sentence_transformers.cross_encoder import CrossEncoderTrainingArguments as Arguments
        from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

        from ..models.transformer import SentenceTransformerModel
        from ..similarity import score_pairs

        rng = np.random.default_rng(self.seed)
        shuffled = [train.right[i] for i in rng.permutation(len(train.right))]
        left = list(train.left) + list(train.left) + self.log_left
        right = list(train.right) + shuffled + self.log_right
        encoder = SentenceTransformerModel(self.source, name="base", device=self.device)
        cosine = score_pairs(left, right, [encoder], progress=False)["score_base"].to_numpy(np.float64)
        keep = np.flatnonzero(np.isfinite(cosine))
        targets = np.clip(cosine[keep], 0.0, 1.0).tolist()
        data = Dataset.from_dict({"sentence1": [left[i] for i in keep], "sentence2": [right[i] for i in keep],
                                  "label": targets})  # fmt: skip
        epochs = resolve_epochs("auto", len(keep), self.batch_size)
        args = arguments(
            Arguments, folder / "warm", epochs=epochs, batch_size=self.batch_size, learning_rate=self.learning_rate,
            warmup_ratio=self.warmup_ratio, seed=self.seed, evaluate=False, progress=self.progress, device=self.device,
        )  # fmt: skip
        trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=BinaryCrossEntropyLoss(model))
        quiet(trainer, self.progress)
        trainer.train()
        shutil.rmtree(folder / "warm", ignore_errors=True)
        return {"pairs": len(keep), "log_pairs": len(self.log_left), "epochs": epochs}


def _dataset(pairs: Pairs):
    from datasets import Dataset

    return Dataset.from_dict({"sentence1": pairs.left, "sentence2": pairs.right, "label": pairs.gold.tolist()})


def _log_pairs(log_pairs) -> tuple[list[str], list[str]]:
    """``(left, right)`` texts of the log's pairs for the warm start (missing and empty texts dropped)."""
    if log_pairs is None:
        return [], []
    try:
        left, right = log_pairs
    except (TypeError, ValueError):
        raise InputError("log_pairs must be (left_texts, right_texts)") from None
    left, right = list(left), list(right)
    if len(left) != len(right):
        raise InputError(f"log_pairs' two sides must have the same length, got {len(left)} and {len(right)}")
    kept = [
        (a, b) for a, b in zip(left, right) if isinstance(a, str) and isinstance(b, str) and a.strip() and b.strip()
    ]
    return [a for a, _ in kept], [b for _, b in kept]


def _digest(left: list[str], right: list[str]) -> str:
    import hashlib

    h = hashlib.blake2b(digest_size=12)
    for a, b in zip(left, right):
        h.update(a.encode("utf-8", "surrogatepass") + b"\x00" + b.encode("utf-8", "surrogatepass") + b"\x01")
    return h.hexdigest()
