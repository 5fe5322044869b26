"""EmbeddingMap: a 2-D map of a vocabulary or of text embeddings, PCA at once, UMAP when ready."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import traitlets as t

from ..errors import InputError
from ..index import NeighbourIndex
from ..models import Model, load_model, refuse_pair_scorer
from ..projection import Cancelled, neighbour_overlap, pca_2d, umap_2d
from ..texts import duration_text
from .base import ARRAY, STYLE, Widget, bundle

COLOR_BY = ("kind", "rank", "cluster", "trust", "none")


class EmbeddingMap(Widget):
    """A zoomable, searchable 2-D map of many points (the whole 400,000-word GloVe table fits).

    Hover shows a point's label; the search box highlights matching labels; clicking a point
    draws lines to its true nearest neighbours in the original space (found by the kernel
    with faiss); shift-drag selects a box, which appears in Python as :attr:`selected`.
    The map shows PCA at once and swaps in UMAP when it is ready.

    Parameters
    ----------
    model_or_vectors
        A model spec or embedder (its vocabulary is mapped), or an ``(n, dim)`` array.
    labels
        One label per vector (default: tokens of the vocabulary, or row numbers).
    method
        ``"umap"`` (PCA first, UMAP computed in the background) or ``"pca"``.
    color_by
        ``"kind"`` (token kind), ``"rank"`` (frequency rank), ``"cluster"`` (k-means),
        ``"trust"`` (per-point neighbour overlap between the map and the original space),
        ``"none"``, or one value per point (a user column).
    max_points
        Keep only the first (most frequent) ``max_points`` rows.
    umap_sample
        Lay out at most this many points with UMAP (a vocabulary's most frequent words, or a
        random sample of vectors) and place each other point beside its nearest laid-out
        points (default 50,000); None lays out every point. Measured on the first 100,000
        GloVe words with 12,500 laid out (``benchmarks/bench_map_sample.py``): 2.25x faster
        than laying out every word, numba's one-time compilation included, for a
        trustworthiness@10 of 0.76 against 0.86: placed points keep their place among their
        nearest words but less of their own neighbourhood. The status line says which was
        done and shows the layout's progress with the time left; :meth:`cancel` (or the
        browser's button) stops it, PCA staying on screen.
    cache_dir
        Where UMAP maps are cached.

    Examples
    --------
    >>> m = EmbeddingMap("glove-50d", max_points=50_000, color_by="kind")  # doctest: +SKIP
    >>> m.selected                                                           # doctest: +SKIP
    """

    _esm = bundle("map")
    _css = STYLE

    coords = t.Any(None, help="float32 (n, 2) map coordinates").tag(sync=True, **ARRAY)
    colors = t.Any(None, help="uint8 (n,) colour codes: categories, or 0-255 for a continuous scale").tag(
        sync=True, **ARRAY
    )
    color_mode = t.Enum(("category", "continuous"), "category", help="'category' or 'continuous'").tag(sync=True)
    legend = t.List(t.Unicode(), help="category names, by colour code").tag(sync=True)
    labels = t.List(t.Unicode(), help="point labels, row-aligned with coords").tag(sync=True)
    method_shown = t.Unicode("pca", help="projection on screen: 'pca' or 'umap'").tag(sync=True)
    status = t.Unicode("", help="progress of the background projection").tag(sync=True)
    search = t.Unicode("", help="substring highlighted among labels (typed in the browser)").tag(sync=True)
    selected_indices = t.List(t.Int(), help="rows selected with shift-drag in the browser").tag(sync=True)
    force_canvas2d = t.Bool(False, help="draw with Canvas 2D even where WebGL exists").tag(sync=True)
    running = t.Bool(False, help="a background UMAP is running (the browser offers to cancel it)").tag(sync=True)

    def __init__(
        self,
        model_or_vectors,
        labels=None,
        method: str = "umap",
        color_by="kind",
        max_points: int | None = None,
        cache_dir=None,
        umap_sample: int | None = 50_000,
        **kwargs,
    ):
        if method not in ("umap", "pca"):
            raise InputError(f"method must be 'umap' or 'pca', got {method!r}")
        kinds = ranks = None
        if isinstance(model_or_vectors, (str, Model)) or callable(model_or_vectors):
            model = load_model(model_or_vectors)
            refuse_pair_scorer(model, "a map")
            vocab = model.vocabulary()
            if max_points:
                vocab = vocab.subset(slice(0, max_points))
            vectors, default_labels = vocab.vectors, list(vocab.tokens)
            kinds, ranks = vocab.kinds, vocab.ranks
        else:
            vectors = np.asarray(model_or_vectors, dtype=np.float32)
            if vectors.ndim != 2:
                raise InputError(f"vectors must be 2-D (n, dim), got shape {vectors.shape}")
            if max_points:
                vectors = vectors[:max_points]
            default_labels = [str(i) for i in range(len(vectors))]
        if labels is not None:
            labels = [str(x) for x in labels][: len(vectors)]
            if len(labels) != len(vectors):
                raise InputError(f"{len(labels)} labels for {len(vectors)} vectors")
        self._vectors = vectors
        self._color_by = color_by
        self._index: NeighbourIndex | None = None
        coords = pca_2d(vectors)
        codes, mode, legend = self._colours(color_by, vectors, coords, kinds, ranks)
        super().__init__(
            coords=coords,
            colors=codes,
            color_mode=mode,
            legend=legend,
            labels=labels if labels is not None else default_labels,
            method_shown="pca",
            **kwargs,
        )
        self._thread = None
        self._cancel = threading.Event()
        if method == "umap":
            n = len(vectors)
            sample = None
            if umap_sample is not None and n > umap_sample:
                # a vocabulary is ordered by frequency: its head; other vectors: a random sample
                sample = (
                    umap_sample
                    if kinds is not None
                    else np.sort(np.random.default_rng(0).choice(n, umap_sample, False))
                )
            self._sample = sample
            self.status = (
                f"PCA shown; {_umap_plan(n, sample)}: starting…{_umap_cost(n if sample is None else umap_sample)}"
            )
            self.running = True
            self._thread = threading.Thread(target=self._run_umap, args=(cache_dir,), daemon=True)
            self._thread.start()

    # -- colours ------------------------------------------------------------------------------
    def _colours(self, color_by, vectors, coords, kinds, ranks):
        n = len(vectors)
        if isinstance(color_by, str):
            if color_by not in COLOR_BY:
                raise InputError(f"color_by must be one of {COLOR_BY} or one value per point, got {color_by!r}")
            if color_by == "kind":
                values = kinds if kinds is not None else np.array(["point"] * n, dtype=object)
                return _categories(values)
            if color_by == "rank":
                if ranks is None:
                    raise InputError("this map has no frequency ranks; color_by='rank' needs a model's vocabulary")
                scaled = np.log1p(np.asarray(ranks, dtype=np.float64))
                return _continuous(scaled)
            if color_by == "cluster":
                from sklearn.cluster import MiniBatchKMeans

                km = MiniBatchKMeans(n_clusters=min(10, max(1, n)), random_state=0, n_init=3).fit(vectors)
                return km.labels_.astype(np.uint8), "category", [f"cluster {i}" for i in range(km.n_clusters)]
            if color_by == "trust":
                return _continuous(_per_point_trust(vectors, coords))
            return np.zeros(n, dtype=np.uint8), "category", ["point"]
        values = np.asarray(list(color_by))
        if len(values) != n:
            raise InputError(f"color_by has {len(values)} values for {n} points")
        if values.dtype.kind in "fc" or (values.dtype.kind in "iu" and len(np.unique(values)) > 10):
            return _continuous(values.astype(np.float64))
        return _categories(values)

    # -- projection ---------------------------------------------------------------------------
    def _run_umap(self, cache_dir) -> None:
        n, sample = len(self._vectors), self._sample
        plan = _umap_plan(n, sample)
        clock = {"start": time.perf_counter(), "shown": 0.0}

        def stage(name):
            if self._cancel.is_set():
                raise Cancelled
            what = {"neighbours": "finding neighbours", "layout": "laying out", "placing": "placing the rest"}[name]
            self.status = f"PCA shown; {plan}: {what}…"
            clock["start"] = time.perf_counter()

        def epoch(done, total):
            if self._cancel.is_set():
                raise Cancelled
            now = time.perf_counter()
            if done and (now - clock["shown"] >= 0.5 or done == total):
                left = (now - clock["start"]) / done * (total - done)
                self.status = (
                    f"PCA shown; {plan}: laying out, epoch {done} of {total}, about {duration_text(max(left, 1))} left"
                )
                clock["shown"] = now

        try:
            coords = umap_2d(self._vectors, cache_dir=cache_dir, on_stage=stage, on_epoch=epoch, sample=sample)
            with self.hold_sync():
                if isinstance(self._color_by, str) and self._color_by == "trust":
                    self.colors = _continuous(_per_point_trust(self._vectors, coords))[0]
                self.coords = coords
                self.method_shown = "umap"
                self.status = (
                    "UMAP" if sample is None else f"UMAP of {_sampled(n, sample)}; the rest placed beside their nearest"
                )
        except Cancelled:
            self.status = "UMAP cancelled; showing PCA"
        except Exception as exc:  # reported in the widget; PCA stays on screen
            self.status = f"UMAP failed ({type(exc).__name__}: {exc}); showing PCA"
        finally:
            self.running = False

    def cancel(self) -> None:
        """Stop the background UMAP (between two layout epochs); PCA stays on screen."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> EmbeddingMap:
        """Block until the background UMAP has finished (for scripts and tests)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self

    # -- neighbours, asked for by the browser -------------------------------------------------
    def neighbours_of(self, row: int, k: int = 10) -> list[int]:
        """Rows of the ``k`` nearest points to ``row`` in the original space (exact, cosine)."""
        if self._index is None:
            self._index = NeighbourIndex(self._vectors, "auto")
        _, rows = self._index.search(self._vectors[row], k + 1)
        return [int(r) for r in rows[0] if r >= 0 and r != row][:k]

    _rpc_methods = {"neighbours": "_neighbours_request", "cancel": "_cancel_request"}

    def _cancel_request(self) -> dict:
        self.cancel()
        return {}

    def _neighbours_request(self, index, k=10) -> dict:
        """The browser's click on a point: its neighbours, or a clear error for a bad request."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self._vectors):
            raise IndexError(f"point {index!r} is not on this map of {len(self._vectors)} points")
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 1000:
            raise InputError(f"k must be a whole number from 1 to 1000, got {k!r}")
        return {"index": index, "neighbours": self.neighbours_of(index, k)}

    def to_html(self, path):
        """A self-contained HTML file (Bokeh, offline) with hover and search."""
        from ..export import map_html

        codes = self.colors if self.color_mode == "category" else None
        return map_html(self.coords, self.labels, path, colors=codes, title=f"map ({self.method_shown})")

    def to_png(self, path):
        """The map's points as a PNG."""
        from ..export import map_png

        return map_png(self.coords, path, colors=self.colors, title=f"map ({self.method_shown})")

    @property
    def selected(self) -> pd.DataFrame:
        """Points selected in the browser: ``index`` and ``label``."""
        rows = list(self.selected_indices)
        return pd.DataFrame({"index": rows, "label": [self.labels[i] for i in rows]})


def _categories(values) -> tuple[np.ndarray, str, list[str]]:
    codes, names = pd.factorize(pd.Series(values).astype(str), sort=True)
    if len(names) > 255:
        raise InputError(f"{len(names)} categories: at most 255 can be coloured")
    return codes.astype(np.uint8), "category", [str(n) for n in names]


def _continuous(values: np.ndarray) -> tuple[np.ndarray, str, list[str]]:
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    low, high = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    scaled = np.clip((np.nan_to_num(values, nan=low) - low) / ((high - low) or 1.0), 0, 1)
    return np.round(scaled * 255).astype(np.uint8), "continuous", [f"{low:.3g}", f"{high:.3g}"]


def _per_point_trust(vectors, coords, k: int = 10) -> np.ndarray:
    """Neighbour overlap between the original space and the map, for every point."""
    return neighbour_overlap(vectors, coords, k=k, sample=len(vectors))


def _umap_cost(n: int) -> str:
    """What a UMAP of ``n`` points costs, said before it starts (measured: 40,000 points in
    about 13 s on two cores; umap-learn's layout is about linear in the points)."""
    if n < 50_000:
        return ""
    return f" (large: about {max(1, round(n / 3_000 / 60))}+ min on two cores, more while the kernel is busy)"


def _sampled(n: int, sample) -> str:
    m = sample if np.ndim(sample) == 0 else len(sample)
    return f"{m:,} of {n:,} points"


def _umap_plan(n: int, sample) -> str:
    return f"UMAP of {n:,} points" if sample is None else f"UMAP of {_sampled(n, sample)} (the rest placed after)"
