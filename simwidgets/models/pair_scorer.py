"""Pair scorers: models that score a pair of texts directly and have no vectors.

A pair scorer (a cross-encoder, or any function of two lists of texts) goes wherever pairs
are scored: :func:`~simwidgets.score_pairs`, :func:`~simwidgets.evaluate_pairs`,
:func:`~simwidgets.fit_ensemble`, the threshold tuner, the model comparison,
:func:`~simwidgets.score_file`. Each distinct pair of usable texts is scored once. What needs
vectors (a similarity matrix, neighbours, a map) refuses it with :class:`NoVectorsError`.

>>> overlap = PairFunction(lambda a, b: [len(set(x.split()) & set(y.split())) / 5 for x, y in zip(a, b)],
...                        name="overlap")
>>> overlap.score_batch(["a red car"], ["a red bus"]).tolist()
[0.4000000059604645]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError, NoVectorsError, OptionError
from ..texts import MISSING, clean_texts
from .base import Model
from .pair_reasons import pair_reasons


def refuse_pair_scorer(model: Model, what: str) -> None:
    """Raise :class:`NoVectorsError` naming ``what`` was asked when ``model`` only scores pairs."""
    if model.scores_pairs:
        kind = "a cross-encoder" if getattr(model, "is_cross_encoder", False) else "a pair scorer"
        raise NoVectorsError(
            f"{model.name} is {kind}: it scores pairs and has no vectors, so it cannot give {what}. "
            "Use it with score_pairs, evaluate_pairs, fit_ensemble, ThresholdTuner, ModelComparison or "
            "score_file; for vectors use a sentence encoder (e.g. 'minilm' or a fine_tune result)"
        )


class PairScorer(Model):
    """Base class of pair scorers, the sibling of :class:`~simwidgets.models.base.Embedder`: a
    family implements :meth:`score_batch`; each distinct pair of usable texts is scored once
    and the scores gathered back to every row."""

    scores_pairs = True

    def __init__(self, *, memory_cache: int = 500_000, cache_dir=None):
        super().__init__(memory_cache=memory_cache)  # pairs are cached in memory only: cache_dir has no use

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def score_coded(self, uniques, left_rows, right_rows, *, progress=None, warn=True, chunk=65_536):
        clean, why = clean_texts(uniques)
        clean.append(None)
        reasons = np.array([*why, MISSING], dtype=object)
        usable = np.array([c is not None for c in clean], dtype=bool)
        width = np.int64(len(clean))
        pair_codes, keys = pd.factorize(np.asarray(left_rows, dtype=np.int64) * width + right_rows)
        lk, rk = np.divmod(np.asarray(keys, dtype=np.int64), width)
        todo = np.flatnonzero(usable[lk] & usable[rk])
        lefts, rights = [clean[i] for i in lk[todo].tolist()], [clean[i] for i in rk[todo].tolist()]
        if warn:
            self.warn_truncated(self.count_truncated(lefts, rights), len(todo), "distinct pairs")
        distinct = np.full(len(keys), np.nan, dtype=np.float32)
        distinct[todo] = self.score_distinct(lefts, rights, progress=progress)
        scores = distinct[pair_codes]
        texts, scored = pair_reasons(reasons, left_rows, right_rows, np.zeros(len(left_rows), dtype=bool))
        scores[~scored] = np.nan
        return scores, texts

    def score_batch(self, lefts: list[str], rights: list[str], *, progress: bool | None = None) -> np.ndarray:
        """float32 scores of clean, non-empty pairs (``lefts[i]`` with ``rights[i]``)."""
        raise NotImplementedError

    def count_truncated(self, lefts: list[str], rights: list[str]) -> int:
        """How many of these pairs are longer than the model reads (0 when it reads everything)."""
        return 0

    def score_distinct(self, lefts: list[str], rights: list[str], *, progress: bool | None = None) -> np.ndarray:
        """:meth:`score_batch` of distinct pairs, each scored once per process: pairs scored
        before (by an earlier call, or an earlier partition of a batch job on this worker)
        come from a memory cache of up to ``memory_cache`` pairs. Threads take turns (the
        model runs in one at a time, and a pair another thread scored meanwhile is a hit)."""
        with self.compute_lock():
            return self._score_distinct_locked(lefts, rights, progress)

    def _score_distinct_locked(self, lefts: list[str], rights: list[str], progress: bool | None) -> np.ndarray:
        cache = self.__dict__.setdefault("_pair_cache", {})
        out = np.empty(len(lefts), dtype=np.float32)
        todo = []
        for i, key in enumerate(zip(lefts, rights)):
            hit = cache.get(key)
            if hit is None:
                todo.append(i)
            else:
                out[i] = hit
        if todo:
            new = self.score_batch([lefts[i] for i in todo], [rights[i] for i in todo], progress=progress)
            out[todo] = new
            limit = max(0, int(self._memory_limit))
            for i, value in zip(todo, new.tolist()):
                if len(cache) >= limit:
                    if not limit:
                        break
                    cache.pop(next(iter(cache)))  # the oldest pair makes room
                cache[(lefts[i], rights[i])] = value
        return out

    # what needs vectors is refused by name, not missing (a user may try it on a cross-encoder)
    def embed(self, texts, *, progress: bool | None = None):
        refuse_pair_scorer(self, "vectors of single texts")

    def embed_report(self, texts, *, progress: bool | None = None):
        refuse_pair_scorer(self, "vectors of single texts")

    def vocabulary(self):
        refuse_pair_scorer(self, "a vocabulary to map or search")


class PairFunction(PairScorer):
    """Any function ``f(lefts, rights) -> scores`` (one number per pair) as a pair scorer."""

    def __init__(self, function, name: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise OptionError(f"expected a callable, got {type(function).__name__}")
        self.function = function
        self.name = name or getattr(function, "__name__", "pair-function")
        if self.name == "<lambda>":
            self.name = "pair-function"

    def score_batch(self, lefts, rights, *, progress=None) -> np.ndarray:
        result = self.function(list(lefts), list(rights))
        try:
            scores = np.asarray(result, dtype=np.float32).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise OptionError(f"pair scorer {self.name!r} must return one number per pair") from exc
        if len(scores) != len(lefts):
            raise InputError(f"pair scorer {self.name!r} returned {len(scores)} scores for {len(lefts)} pairs")
        return scores
