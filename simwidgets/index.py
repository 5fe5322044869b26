"""Fast cosine neighbours with faiss: exact by default, approximate (IVF) for large sets.

The approximate index is tuned when it is built: ``nprobe`` (how many inverted lists a query
visits) is raised until recall@k against exact search, measured on a sample of the indexed
vectors, reaches ``target_recall``; the measured recall is kept in ``index.recall``. Built
indexes can be cached on disk so the build is paid once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .errors import InputError
from .files import replaced, write_atomic
from .vectors import content_digest, unit_rows

#: Above this many floats (rows x dim), ``kind="auto"`` builds an approximate index.
EXACT_LIMIT = 60_000_000


def _faiss(feature: str = "approximate neighbour search (IVF)"):
    from .extras import require

    return require("faiss", feature)


def _has_faiss() -> bool:
    try:
        _faiss()
    except ImportError:
        return False
    return True


class _ExactNumpy:
    """Exact inner-product search in numpy, for installs without faiss (the ``[scale]`` extra)."""

    def __init__(self, vectors: np.ndarray):
        self.vectors = vectors

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.vectors)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        rows = np.full((len(queries), k), -1, dtype=np.int64)
        take = min(k, n)
        for start in range(0, len(queries), 1024):
            block = queries[start : start + 1024] @ self.vectors.T
            top = (
                np.argpartition(-block, take - 1, axis=1)[:, :take]
                if take < n
                else np.tile(np.arange(n), (len(block), 1))
            )
            top_scores = np.take_along_axis(block, top, axis=1)
            order = np.lexsort((top, -top_scores), axis=1)  # by score, ties by row, as faiss
            rows[start : start + len(block), :take] = np.take_along_axis(top, order, axis=1)
            scores[start : start + len(block), :take] = np.take_along_axis(top_scores, order, axis=1)
        return scores, rows


class NeighbourIndex:
    """Cosine nearest-neighbour search over a fixed set of vectors.

    Parameters
    ----------
    vectors
        ``(n, dim)`` array; rows are normalised (NaN rows become zero and match nothing).
    kind
        ``"exact"`` (faiss flat inner product), ``"ivf"`` (inverted file, approximate) or
        ``"auto"``: exact up to :data:`EXACT_LIMIT` floats, IVF beyond.
    target_recall
        For IVF: the recall@``k`` that the tuned ``nprobe`` must reach on a sample.
    cache_dir
        Folder to save the built index in and load it from (keyed by the vectors' content
        and the parameters).

    Attributes
    ----------
    recall
        Measured recall@k of the approximate index against exact search (1.0 for exact).
    nprobe
        Lists visited per query (IVF only).
    """

    def __init__(
        self,
        vectors,
        kind: str = "auto",
        *,
        target_recall: float = 0.95,
        k: int = 10,
        cache_dir: str | os.PathLike | None = None,
        seed: int = 0,
    ):
        if kind not in ("auto", "exact", "ivf"):
            raise InputError(f"kind must be 'auto', 'exact' or 'ivf', got {kind!r}")
        self.vectors = unit_rows(vectors)
        n, dim = self.vectors.shape
        self.kind = kind if kind != "auto" else ("exact" if n * dim <= EXACT_LIMIT else "ivf")
        self.recall, self.nprobe, self.k = 1.0, None, k
        if self.kind == "exact":
            if _has_faiss():
                self.index = _faiss().IndexFlatIP(dim)
                self.index.add(self.vectors)
            else:
                self.index = _ExactNumpy(self.vectors)
            return
        faiss = _faiss(f"approximate neighbour search (IVF, {n:,} x {dim} vectors)")
        params = {"kind": "ivf", "target_recall": target_recall, "k": k, "seed": seed, "v": 1}
        path = self._cache_path(cache_dir, params)
        if path is not None and path.exists():
            self.index = faiss.read_index(str(path))
            meta = json.loads(path.with_suffix(".json").read_text())
            self.index.nprobe = self.nprobe = meta["nprobe"]
            self.recall = meta["recall"]
            return
        self._build_ivf(target_recall, seed)
        if path is not None:
            # its settings first: a reader that finds the index finds them too
            write_atomic(path.with_suffix(".json"), json.dumps({"nprobe": self.nprobe, "recall": self.recall}))
            with replaced(path) as tmp:
                faiss.write_index(self.index, str(tmp))

    def _cache_path(self, cache_dir, params) -> Path | None:
        if cache_dir is None:
            return None
        return Path(cache_dir).expanduser() / f"ivf-{content_digest(self.vectors, params)}.faiss"

    def _build_ivf(self, target_recall: float, seed: int) -> None:
        faiss = _faiss()
        n, dim = self.vectors.shape
        nlist = int(max(16, min(4096, 2 ** round(np.log2(np.sqrt(n) * 1.6)))))
        rng = np.random.default_rng(seed)
        train = self.vectors[rng.choice(n, min(n, 40 * nlist), replace=False)]
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = seed
        index.train(train)
        index.add(self.vectors)
        self.index = index
        # tune nprobe on a sample of the indexed vectors, against exact search
        sample = self.vectors[rng.choice(n, min(n, 300), replace=False)]
        exact = faiss.IndexFlatIP(dim)
        exact.add(self.vectors)
        _, truth = exact.search(sample, self.k)
        nprobe = 1
        while True:
            index.nprobe = nprobe
            _, found = index.search(sample, self.k)
            recall = recall_at_k(found, truth, self.k)
            if recall >= target_recall or nprobe >= nlist:
                break
            nprobe = min(nlist, max(nprobe + 1, int(nprobe * 1.5)))
        self.nprobe, self.recall = nprobe, float(recall)

    def __len__(self) -> int:
        return self.vectors.shape[0]

    def search(self, queries, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` rows by cosine for each query: ``(scores, rows)``, best first.

        Rows of ``-1`` (score ``-inf``) pad the answer when fewer than ``k`` rows exist.
        """
        q = unit_rows(np.atleast_2d(np.asarray(queries, dtype=np.float32)))
        if q.shape[1] != self.vectors.shape[1]:
            raise InputError(f"queries have {q.shape[1]} dimensions, the index {self.vectors.shape[1]}")
        scores, rows = self.index.search(q, k)
        return scores, rows


def recall_at_k(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Share of the true top-``k`` rows of each query that the search found."""
    hits = [len(set(f[:k].tolist()) & set(t[:k].tolist())) for f, t in zip(found, truth)]
    return float(np.sum(hits) / (k * len(truth)))
