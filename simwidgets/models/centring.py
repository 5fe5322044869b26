"""Centring of sentence vectors: "all-but-the-top" (Mu and Viswanath, 2018).

Mean-pooled language-model states share one dominant direction, so every cosine between
them is high (ULMFiT's land between 0.90 and 0.98) and hard to threshold. Subtracting the
mean vector and the projections on the top principal directions of a corpus of the model's
own vectors spreads the scores out. The corpus is the texts being compared (fitted once,
on the first texts the model embeds, or on every text of a comparison when the similarity
and evaluation functions call :meth:`~simwidgets.extend.Embedder.prepare`): no labels are used.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

#: Fewest distinct vectors a centring is fitted on: fewer give directions that are noise.
MIN_TEXTS = 20


class Centring:
    """Subtract the mean and the top ``components`` principal directions of fitted vectors.

    Examples
    --------
    >>> c = Centring(2).fit(np.random.default_rng(0).normal(size=(100, 8)) + 5)  # doctest: +SKIP
    >>> c.transform(vectors)  # doctest: +SKIP
    """

    def __init__(self, components: int = 1):
        if isinstance(components, bool) or not isinstance(components, int) or components < 0:
            raise InputError(f"centre must be a whole number of principal directions >= 0, got {components!r}")
        self.components = components
        self.mean_: np.ndarray | None = None
        self.directions_: np.ndarray | None = None

    @property
    def fitted(self) -> bool:
        return self.mean_ is not None

    def fit(self, vectors: np.ndarray) -> Centring:
        x = np.asarray(vectors, dtype=np.float64)
        usable = x[np.isfinite(x).all(axis=1) & (np.abs(x).sum(axis=1) > 0)]
        if len(usable) < max(MIN_TEXTS, 2 * self.components + 2):
            raise InputError(
                f"centring needs at least {max(MIN_TEXTS, 2 * self.components + 2)} embeddable texts to fit on, "
                f"got {len(usable)}: compare more texts at once, or call model.fit_centring(corpus) first"
            )
        self.mean_ = usable.mean(axis=0)
        k = min(self.components, len(usable) - 1, x.shape[1])
        if k > 0:
            _, _, vt = np.linalg.svd(usable - self.mean_, full_matrices=False)
            self.directions_ = vt[:k]
        else:
            self.directions_ = np.zeros((0, x.shape[1]))
        return self

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        """Centred copies of the rows; NaN and all-zero rows (texts with no vector) are kept."""
        x = np.asarray(vectors, dtype=np.float32)
        keep = np.isfinite(x).all(axis=1) & (np.abs(x).sum(axis=1) > 0)
        out = x.copy()
        centred = x[keep].astype(np.float64) - self.mean_
        if len(self.directions_):
            centred -= (centred @ self.directions_.T) @ self.directions_
        out[keep] = centred.astype(np.float32)
        return out

    def state(self) -> dict:
        """Arrays to save beside a model (read back with :meth:`from_state`)."""
        return {"mean": self.mean_, "directions": self.directions_}

    @classmethod
    def from_state(cls, state) -> Centring:
        out = cls(int(len(state["directions"])))
        out.mean_ = np.asarray(state["mean"], dtype=np.float64)
        out.directions_ = np.asarray(state["directions"], dtype=np.float64)
        return out

    def save(self, path, pooling: str) -> None:
        """Write the fitted arrays and the pooling they were fitted on (``numpy.savez``), under a
        temporary name renamed into place, so a reader never sees half a file."""
        from ..files import replaced

        with replaced(path) as tmp:
            np.savez(tmp, pooling=np.array(pooling), **self.state())

    @classmethod
    def load(cls, path, pooling: str) -> Centring | None:
        """A centring saved by :meth:`save`, read without pickle; None when it was fitted on
        vectors of another pooling."""
        with np.load(path, allow_pickle=False) as arrays:
            return cls.from_state(arrays) if str(arrays["pooling"]) == pooling else None
