"""2-D maps of vectors: PCA at once, UMAP when ready, and how honest the map is.

UMAP's slow steps on a whole vocabulary are the neighbour search and the layout epochs.
:func:`umap_2d` finds the neighbours with faiss (exact, or a tuned IVF index for large sets)
and hands them to umap-learn as ``precomputed_knn``; maps are cached on disk by content and
parameters. :func:`trustworthiness` and :func:`neighbour_overlap` measure, on a fixed sample,
how well the map keeps the original space's neighbourhoods.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

from .errors import InputError
from .files import replaced
from .vectors import content_digest, unit_rows


def pca_2d(vectors, seed: int = 0) -> np.ndarray:
    """First two principal components of the row-normalised vectors (instant first view)."""
    from sklearn.decomposition import PCA

    unit = unit_rows(vectors)
    solver = "randomized" if min(unit.shape) > 50 else "full"
    return PCA(n_components=2, svd_solver=solver, random_state=seed).fit_transform(unit).astype(np.float32)


def knn(vectors, k: int, *, exact_limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """k nearest neighbours of every row by cosine (itself first): ``(indices, distances)``.

    Exact with faiss up to ``exact_limit`` rows x dims (see :mod:`simwidgets.index`),
    else through an IVF index tuned to recall 0.95.
    """
    from .index import EXACT_LIMIT, NeighbourIndex

    limit = EXACT_LIMIT if exact_limit is None else exact_limit
    unit = unit_rows(vectors)
    kind = "exact" if unit.size <= limit else "ivf"
    index = NeighbourIndex(unit, kind, target_recall=0.95, k=k)
    sims, rows = index.search(unit, k)
    rows = np.where(rows < 0, np.arange(len(unit))[:, None], rows)
    dists = np.clip(1.0 - sims, 0.0, 2.0).astype(np.float32)
    return rows.astype(np.int64), dists


def _cache_file(cache_dir, unit: np.ndarray, params: dict) -> Path | None:
    if cache_dir is None:
        return None
    return Path(cache_dir).expanduser() / f"map-{content_digest(unit, params)}.npy"


class Cancelled(Exception):
    """A projection stopped at the user's request (:meth:`EmbeddingMap.cancel`)."""


_UMAP_RUN = threading.Lock()  # one UMAP layout at a time per process: it uses every core anyway


@contextmanager
def _epochs_reported(on_epoch):
    """umap-learn's layout loop with ``on_epoch(done, total)`` called before each epoch (and
    once at the end) instead of its tqdm bar: the map's progress and ETA come from the real
    epochs, and ``on_epoch`` may raise :class:`Cancelled` to stop between two of them."""
    import umap.layouts as layouts

    original = layouts.tqdm

    def epochs(iterable, **kwds):
        total = len(iterable)
        for done, item in enumerate(iterable):
            on_epoch(done, total)
            yield item
        on_epoch(total, total)

    with _UMAP_RUN:
        layouts.tqdm = epochs
        try:
            yield
        finally:
            layouts.tqdm = original


def place_rest(unit: np.ndarray, mapped: np.ndarray, coords: np.ndarray, k: int = 5) -> np.ndarray:
    """2-D places of every row of ``unit``: rows in ``mapped`` keep ``coords``; each other row
    goes to the similarity-weighted mean of its ``k`` nearest mapped rows' places (cosine,
    exact search of the mapped rows only: a point lands beside the words it is closest to)."""
    from .index import NeighbourIndex

    out = np.empty((len(unit), 2), dtype=np.float32)
    out[mapped] = coords
    rest = np.setdiff1d(np.arange(len(unit)), mapped)
    if not len(rest):
        return out
    index = NeighbourIndex(unit[mapped], "exact")
    for start in range(0, len(rest), 65_536):
        rows = rest[start : start + 65_536]
        sims, near = index.search(unit[rows], k)
        weights = np.clip(sims, 1e-3, None)
        weights /= weights.sum(axis=1, keepdims=True)
        out[rows] = (coords[np.clip(near, 0, None)] * weights[..., None]).sum(axis=1)
    return out


def umap_2d(
    vectors,
    *,
    n_neighbors: int = 15,
    n_epochs: int | None = None,
    min_dist: float = 0.1,
    seed: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = False,
    on_stage=None,
    on_epoch=None,
    sample: int | None = None,
) -> np.ndarray:
    """UMAP to 2-D by cosine, with faiss neighbours and an on-disk cache.

    UMAP's layout costs about linear time in the number of points: on two cores, 40,000 GloVe
    words took 13 s (after about 25 s of one-time compilation in a new process); a whole
    400,000-word vocabulary takes minutes to tens of minutes on a busy laptop. ``progress=True``
    shows umap-learn's bar over the layout's epochs.

    Parameters
    ----------
    n_neighbors, min_dist
        As in umap-learn.
    n_epochs
        Layout epochs (umap-learn's default: 200 for large sets, 500 for small).
    seed
        A seed makes the map reproducible but makes umap-learn single-threaded.
    cache_dir
        Where finished maps are kept, keyed by the vectors and the parameters.
    on_stage
        Called with ``"neighbours"``, ``"layout"`` and (with ``sample``) ``"placing"`` as each
        stage starts (the map widget's status line).
    on_epoch
        Called with ``(done, total)`` before each layout epoch and at its end; it may raise
        (:class:`Cancelled`) to stop the layout between two epochs.
    sample
        Lay out only the first ``sample`` rows (a vocabulary's most frequent words), or the
        rows given, with UMAP, and place every other row beside its nearest laid-out rows
        (:func:`place_rest`): minutes become seconds for a whole vocabulary. None: every row
        is laid out.
    """
    from .extras import load_triton_first, require

    load_triton_first()  # umap-learn imports TensorFlow where it is installed
    umap = require("umap", "UMAP maps")

    unit = unit_rows(vectors)
    if sample is None:
        mapped = np.arange(len(unit))
    elif np.ndim(sample) == 0:
        mapped = np.arange(min(int(sample), len(unit)))
    else:
        mapped = np.unique(np.asarray(sample, dtype=np.int64))
    params = {"n_neighbors": n_neighbors, "n_epochs": n_epochs, "min_dist": min_dist, "seed": seed, "v": 1}
    if len(mapped) < len(unit):
        params["sample"] = content_digest(mapped.astype(np.int64), {})
    path = _cache_file(cache_dir, unit, params)
    if path is not None and path.exists():
        return np.load(path)
    if on_stage is not None:
        on_stage("neighbours")
    indices, dists = knn(unit[mapped], n_neighbors)
    if on_stage is not None:
        on_stage("layout")
    reducer = umap.UMAP(
        n_neighbors=n_neighbors,
        metric="cosine",
        min_dist=min_dist,
        n_epochs=n_epochs,
        precomputed_knn=(indices, dists, None),
        random_state=seed,
        init="pca",
        verbose=progress,
    )
    import warnings

    with warnings.catch_warnings(), _epochs_reported(on_epoch) if on_epoch is not None else nullcontext():
        warnings.filterwarnings("ignore", message=".*precomputed_knn.*")
        warnings.filterwarnings("ignore", message=".*n_jobs value.*")
        coords = reducer.fit_transform(unit[mapped]).astype(np.float32)
    if len(mapped) < len(unit):
        if on_stage is not None:
            on_stage("placing")
        coords = place_rest(unit, mapped, coords)
    if path is not None:
        with replaced(path) as tmp:
            np.save(tmp, coords)
    return coords


def project(vectors, method: str = "umap", **options) -> np.ndarray:
    """2-D coordinates by ``"pca"`` or ``"umap"`` (float32, one row per vector)."""
    if method == "pca":
        return pca_2d(vectors, **options)
    if method == "umap":
        return umap_2d(vectors, **options)
    raise InputError(f"method must be 'pca' or 'umap', got {method!r}")


def _sample(n: int, size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, min(n, size), replace=False))


def trustworthiness(vectors, coords, *, k: int = 10, sample: int = 5000, seed: int = 0) -> float:
    """scikit-learn's trustworthiness (cosine in the original space) on a fixed sample."""
    from sklearn.manifold import trustworthiness as sk_trust

    rows = _sample(len(coords), sample, seed)
    return float(sk_trust(unit_rows(vectors)[rows], np.asarray(coords)[rows], n_neighbors=k, metric="cosine"))


def neighbour_overlap(vectors, coords, *, k: int = 10, sample: int = 2000, seed: int = 0) -> np.ndarray:
    """Per sampled point: share of its k original-space neighbours that are k-neighbours on the map.

    Returns an array aligned with the sample rows of :func:`_sample` (same ``seed``).
    """
    from sklearn.neighbors import NearestNeighbors

    unit = unit_rows(vectors)
    coords = np.asarray(coords, dtype=np.float32)
    rows = _sample(len(coords), sample, seed)
    original, _ = None, None
    from .index import NeighbourIndex

    index = NeighbourIndex(unit, "exact")
    _, original = index.search(unit[rows], k + 1)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(coords)
    _, mapped = nn.kneighbors(coords[rows])
    return np.array([len(set(a[1:]) & set(b[1:])) / k for a, b in zip(original, mapped)])
