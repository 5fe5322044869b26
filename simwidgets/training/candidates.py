"""Trainers: recipes that make a model from labelled pairs, for :func:`~simwidgets.cross_validate`
and :class:`~simwidgets.ModelComparison` to fit on each training fold and judge on its held-out fold.

>>> candidates = ["minilm", FineTune("minilm", epochs=4), CrossEncoderTrainer("minilm"),
...               WordVectorTrainer("fasttext"), "ensemble:forest"]     # doctest: +SKIP

A trainer of your own is any object with a ``name`` and ``fit(left, right, gold, *, seed,
gold_range, progress)`` returning a model (a spec string, an embedder or a pair scorer).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError


class Trainer:
    """Base class of trainers: :meth:`fit` makes a model from training pairs."""

    name = "trained"

    def fit(self, left: list, right: list, gold: np.ndarray, *, seed: int = 0, gold_range=None, progress=False):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


#: The fewest pairs a trainer's inner validation split holds (a fold too small for that has none).
MIN_VALIDATION = 20


class _PairTrainer(Trainer):
    """A training function of this package run on each training fold with its options; with
    ``adapt_on``, from the base first adapted to unlabelled texts (:func:`~simwidgets.adapt`)."""

    suffix = "trained"
    #: The share of each training fold held out inside it (to keep the best epoch); 0: none.
    validation = 0

    def __init__(
        self,
        base: str = "minilm",
        *,
        name: str | None = None,
        adapt_on=None,
        adapt: str | None = None,
        adapt_column=None,
        adapt_options: dict | None = None,
        silver: int = 0,
        teacher=None,
        silver_from=None,
        **options,
    ):
        self.base, self.options = base, options
        self.adapt_on, self.adapt_column = adapt_on, adapt_column
        self.adapt_options = dict(adapt_options or {})
        self.silver, self.teacher = int(silver), teacher
        self.silver_from = silver_from if silver_from is not None else (None if _is_training(adapt_on) else adapt_on)
        if self.silver and self.silver_from is None:
            raise InputError("silver labels need unlabelled pairs or texts: give silver_from= (or adapt_on=) your log")
        from .adaptation import METHODS

        if adapt is None:
            adapt = "lm" if str(base).startswith("ulmfit") else "simcse"
        if adapt_on is not None and adapt not in (*METHODS, "lm"):
            raise InputError(f"adapt must be one of {sorted(METHODS)} (or 'lm' for ULMFiT), got {adapt!r}")
        self.adapt = adapt
        adapted = "" if adapt_on is None else f"{adapt} + "
        silvered = f"silver {self.silver:,} + " if self.silver else ""
        self.name = name or f"{base} {adapted}{silvered}{self.suffix}"

    def _train(self):
        raise NotImplementedError

    def _start(self, left, right, seed: int) -> str:
        """The base to train from: ``base``, or ``base`` adapted to ``adapt_on`` (a list, a
        column, a file or folder of the log; ``"training"``: the training fold's own texts)."""
        if self.adapt_on is None:
            return self.base
        from .adaptation import adapt

        texts = list(left) + list(right) if _is_training(self.adapt_on) else self.adapt_on
        options = {"method": self.adapt, "column": self.adapt_column, "seed": seed, "progress": False,
                   **self.adapt_options}  # fmt: skip
        if "device" in self.options:
            options.setdefault("device", self.options["device"])
        return adapt(self.base, texts, **options).spec

    def fit(self, left, right, gold, *, seed=0, gold_range=None, progress=False):
        if gold_range is None:
            finite = np.asarray(gold, dtype=np.float64)
            finite = finite[np.isfinite(finite)]
            gold_range = (float(finite.min()), float(finite.max())) if finite.size else None
        options = {"validation": self._validation(len(left)), "progress": progress, "seed": seed,
                   "gold_range": gold_range, **self.options}  # fmt: skip
        start = self._start(left, right, seed)
        if self.silver:
            left, right, gold = self._with_silver(list(left), list(right), np.asarray(gold, dtype=np.float64), seed,
                                                  gold_range)  # fmt: skip
        return self._train()(start, left, right, gold, **options).spec

    def _validation(self, n: int) -> float:
        """The share of ``n`` training pairs held out inside the fold: :attr:`validation`, at least
        :data:`MIN_VALIDATION` pairs, and none when the fold is too small to spare them."""
        if not self.validation:
            return 0
        held = max(MIN_VALIDATION, round(self.validation * n))
        return held / n if n - held >= 2 * held else 0

    def _with_silver(self, left, right, gold, seed: int, gold_range):
        """The gold pairs and ``silver`` log pairs labelled by a teacher fitted on the gold
        pairs only (default: an anchored cross-encoder from ``base``, never below ``base`` on its
        validation pairs)."""
        from ..models import load_model
        from .silver import silver_pairs, teacher_labels

        device = self.options.get("device")
        silver_left, silver_right = silver_pairs(self.silver_from, self.silver, column=self.adapt_column,
                                                 base=self.base, seed=seed, device=device)  # fmt: skip
        teacher = self.teacher
        if teacher is None:
            teacher = CrossEncoderTrainer(self.base, **({"device": device} if device else {}))
        spec = teacher.fit(left, right, gold, seed=seed, gold_range=gold_range, progress=False)
        silver_gold = teacher_labels(load_model(spec), silver_left, silver_right, gold_range=gold_range)
        return left + silver_left, right + silver_right, np.concatenate([gold, silver_gold])


def _is_training(adapt_on) -> bool:
    return isinstance(adapt_on, str) and adapt_on == "training"


class FineTune(_PairTrainer):
    """:func:`~simwidgets.fine_tune` of ``base`` on each training fold (no inner validation split).

    ``adapt_on`` first adapts the base to unlabelled texts (``adapt``: ``"simcse"``,
    ``"tsdae"`` or ``"mlm"``; :func:`~simwidgets.adapt`): a list, a column, or a file or
    folder of the log (``adapt_column`` names its text columns). Those texts may include the
    held-out folds' texts, without their labels, as adapting on the whole log does; no label
    ever reaches the adaptation. ``adapt_on="training"`` adapts on each training fold's own
    texts only. The adapted model is made once per distinct corpus and reused.

    ``silver=N`` adds N pairs from the log labelled by a ``teacher`` fitted on the training
    fold's gold labels only (Augmented SBERT; default teacher: :class:`CrossEncoderTrainer`
    from ``base`` at its defaults, anchored to ``base``'s cosine; any trainer will do): ``silver_from`` (default
    ``adapt_on``) gives the log as ``(left, right)`` pairs that occur, or as texts, then paired
    with their nearest neighbours under ``base`` and at random
    (:func:`~simwidgets.training.silver.silver_pairs`).

    >>> FineTune("minilm", epochs=4).name
    'minilm fine-tuned'
    >>> FineTune("minilm", adapt_on=["a query", "a result"], adapt="simcse").name
    'minilm simcse + fine-tuned'
    >>> FineTune("minilm", silver=2000, silver_from=["a query", "a result"]).name
    'minilm silver 2,000 + fine-tuned'
    """

    suffix = "fine-tuned"

    def _train(self):
        from .encoder import fine_tune

        return fine_tune


class CrossEncoderTrainer(_PairTrainer):
    """:func:`~simwidgets.train_cross_encoder` from ``base`` on each training fold (10% of the
    fold, at least 20 pairs, held out inside it, where the anchored correction is judged; a fold
    under 60 pairs has no such split; ``validation=`` to change).

    >>> CrossEncoderTrainer("minilm", epochs=4).name
    'minilm cross-encoder'
    """

    suffix = "cross-encoder"
    #: An anchored cross-encoder keeps its correction only when pairs it did not train on are
    #: sure of it: 10% of each training fold is held out inside it for that (``validation=``).
    validation = 0.1

    def _train(self):
        from .cross_encoder import train_cross_encoder

        return train_cross_encoder


class WordVectorTrainer(Trainer):
    """:func:`~simwidgets.train_word_vectors` on the texts of each training fold, or on a
    ``corpus`` of unlabelled texts you give (labels are never used: no leakage either way): a
    list, or your log as a file, folder or table with ``corpus_column`` (its distinct texts,
    sampled to ``max_texts``). A training fold's texts alone are far too few for word vectors:
    give the log.

    >>> WordVectorTrainer("fasttext").name
    'fasttext trained'
    """

    def __init__(self, kind: str = "fasttext", *, corpus=None, corpus_column=None, max_texts: int = 1_000_000,
                 name: str | None = None, **options):  # fmt: skip
        self.kind, self.corpus, self.options = kind, corpus, options
        self.corpus_column, self.max_texts = corpus_column, max_texts
        self.name = name or f"{kind} trained"

    def fit(self, left, right, gold, *, seed=0, gold_range=None, progress=False):
        from pathlib import Path

        import pandas as pd

        from .corpus import corpus_sample
        from .word_vectors import train_word_vectors

        texts = list(left) + list(right) if self.corpus is None else self.corpus
        if isinstance(texts, (str, Path, pd.DataFrame)):  # the log: a file, a folder or a table
            texts = corpus_sample(texts, column=self.corpus_column, most=self.max_texts, seed=seed)
        options = {"progress": progress, "seed": seed, **self.options}
        return train_word_vectors(texts, kind=self.kind, **options).spec


class StackedTrainer(Trainer):
    """A stacked model (``"ensemble:forest"`` or ``"ensemble:linear"``) over the off-the-shelf
    candidates' scores and pair features, fitted on each training fold.

    >>> StackedTrainer("forest").name
    'ensemble (forest)'
    """

    stacks = True

    def __init__(self, kind: str = "forest", *, name: str | None = None, n_estimators: int = 300):
        if kind not in ("forest", "linear"):
            raise InputError(f"a stacked model is 'ensemble:forest' or 'ensemble:linear', got kind {kind!r}")
        self.kind, self.n_estimators = kind, n_estimators
        self.name = name or f"ensemble ({kind})"

    def fit_predict(self, train_features, train_gold, test_features, *, task: str, seed: int = 0) -> np.ndarray:
        """Fit on the training fold's features, predict the held-out fold's."""
        from ..evaluation.ensemble import stacked_estimator

        model = stacked_estimator(self.kind, task, seed, self.n_estimators)
        y = train_gold.astype(np.int64) if task == "classification" else train_gold
        model.fit(train_features, y)
        if task == "classification":
            return model.predict_proba(test_features)[:, 1]
        return model.predict(test_features)


def as_candidate(candidate):
    """A trainer as it is; ``"ensemble:forest"`` / ``"ensemble:linear"`` as a :class:`StackedTrainer`;
    anything else (a spec, an embedder, a callable) is an off-the-shelf model."""
    if isinstance(candidate, str) and candidate.startswith("ensemble:"):
        return StackedTrainer(candidate.partition(":")[2])
    return candidate


def is_trainer(candidate) -> bool:
    """A :class:`Trainer`, or any object with ``name`` and ``fit`` that is not a model: a model's own
    ``fit`` (TF-IDF's, word vectors' SIF) fits it on texts, it does not train on labelled pairs."""
    from ..models import Model

    if isinstance(candidate, Trainer):
        return True
    return not isinstance(candidate, Model) and callable(getattr(candidate, "fit", None)) and hasattr(candidate, "name")
