"""The embedder protocol every model family implements, with validation, dedup and caching."""

from __future__ import annotations

import gc
import os
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from ..errors import InputError, OptionError, SimwidgetsWarning
from ..texts import MISSING, as_text_list, clean_texts, clean_texts_sparse, deduplicate
from ..vectors import normalize_rows
from ..vocab import Vocabulary
from .cache import DiskCache, MemoryCache, text_key
from .notes import Note, Notes
from .pair_reasons import pair_reasons

_LOCK_GUARD = threading.Lock()

__all__ = ["Embedder", "EmbedReport", "Model", "Note", "Notes"]

#: Show a progress bar by default when at least this many texts must really be embedded.
PROGRESS_MIN_TEXTS = 2_000


@dataclass
class EmbedReport:
    """Vectors of a list of texts plus, per text, why it has no vector and what was lost.

    Attributes
    ----------
    vectors
        ``(n, dim)`` float32; rows of texts that could not be embedded are NaN.
    reasons
        ``None`` for embedded texts, else a human-readable reason.
    oov
        Out-of-vocabulary tokens per text (empty for models that have no such notion).
    truncated
        Whether the text was longer than the model's limit and was cut.
    n_tokens
        Number of tokens the model saw per text (0 where unknown).
    """

    vectors: np.ndarray
    reasons: list[str | None]
    oov: list[tuple[str, ...]]
    truncated: np.ndarray
    n_tokens: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n_failed(self) -> int:
        return sum(r is not None for r in self.reasons)

    @property
    def oov_total(self) -> int:
        """Number of out-of-vocabulary token occurrences over all texts."""
        return sum(len(o) for o in self.oov)

    def oov_counts(self):
        """Out-of-vocabulary tokens with their counts, most frequent first (a Series)."""
        import pandas as pd

        tokens = [t for toks in self.oov for t in toks]
        return pd.Series(tokens, dtype=object).value_counts()

    def summary(self) -> dict:
        """Counts for a one-line report."""
        total_tokens = int(self.n_tokens.sum()) if len(self.n_tokens) else 0
        return {
            "texts": len(self.reasons),
            "failed": self.n_failed,
            "truncated": int(self.truncated.sum()),
            "oov_tokens": self.oov_total,
            "tokens": total_tokens,
            "oov_share": (self.oov_total / total_tokens) if total_tokens else 0.0,
        }


@dataclass
class Distinct:
    """What a model gave each distinct text: ``vectors`` has one row per text; the note
    columns have one more row, standing for missing values (None, NaN), so per-row notes
    are one gather with code ``n`` for a missing value."""

    vectors: np.ndarray
    reasons: np.ndarray
    oov: np.ndarray
    truncated: np.ndarray
    n_tokens: np.ndarray

    @classmethod
    def empty(cls, n: int) -> Distinct:
        reasons = np.full(n + 1, None, dtype=object)
        reasons[n] = MISSING
        oov = np.empty(n + 1, dtype=object)
        oov.fill(())
        return cls(np.zeros((n, 0), np.float32), reasons, oov, np.zeros(n + 1, bool), np.zeros(n + 1, np.int64))

    def place(self, at: np.ndarray, notes: Notes) -> None:
        """Copy the notes of the texts at positions ``at``."""
        self.truncated[at] = notes.truncated
        self.n_tokens[at] = notes.n_tokens
        if notes.oov is not None:
            self.oov[at] = notes.oov
        if notes.reasons is not None:
            failed = np.not_equal(notes.reasons, None)
            self.reasons[at[failed]] = notes.reasons[failed]


class _Counter:
    def __init__(self):
        self.total = 0
        self._lock = threading.Lock()

    def add(self, n) -> None:
        with self._lock:
            self.total += int(n or 0)


_EMBEDDED = _Counter()
_TO_EMBED = _Counter()


def texts_embedded() -> int:
    """Texts embedded in this process so far, by every model (a running count: a batch job
    whose workers are threads of this process shows it while a partition embeds)."""
    return _EMBEDDED.total


def texts_to_embed() -> int:
    """Texts that models of this process have taken up to embed so far: the distinct texts
    of each call that neither cache held (a running count, beside :func:`texts_embedded`)."""
    return _TO_EMBED.total


class Model:
    """What every model is, whether it gives vectors or scores pairs: a name, an identity, a
    lock it runs under, and :meth:`score_coded`, which scores pairs of texts its own way.

    Its two kinds are siblings: :class:`Embedder` (vectors, compared by cosine) and
    :class:`~simwidgets.models.pair_scorer.PairScorer` (a score per pair, no vectors).
    """

    #: Short name used in column names (``score_<name>``).
    name: str = "model"
    #: Maximum tokens the model reads (longer texts are truncated and reported), or None.
    max_tokens: int | None = None
    #: Whether the model scores pairs and has no vectors (a cross-encoder).
    scores_pairs: bool = False

    def __init__(self, *, memory_cache: int = 500_000):
        self._memory_limit = memory_cache

    @property
    def identity(self) -> str:
        """A string that changes whenever the scores this model gives could change."""
        return f"{type(self).__name__}:{self.name}"

    def compute_lock(self) -> threading.RLock:
        """The lock held while this model runs (or fits): a model is never run by two
        threads at once, while everything around it (reading, deduplicating, cache hits,
        scoring, writing) runs in parallel, as in a batch job's threaded workers."""
        lock = self.__dict__.get("_compute_lock")
        if lock is None:
            with _LOCK_GUARD:
                lock = self.__dict__.setdefault("_compute_lock", threading.RLock())
        return lock

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_compute_lock", None)  # locks do not pickle; a copy gets its own
        return state

    def prepare(self, texts: list[str]) -> None:
        """Fit corpus-dependent state, if the model has any (a no-op here)."""

    def score_coded(
        self, uniques: list, left_rows: np.ndarray, right_rows: np.ndarray, *, progress=None, warn=True, chunk=65_536
    ) -> tuple[np.ndarray, np.ndarray]:
        """Score pairs of distinct texts: ``uniques`` are the distinct texts (unchecked), and
        pair ``i`` is ``(uniques[left_rows[i]], uniques[right_rows[i]])``, where the row
        ``len(uniques)`` stands for a missing text. Returns float32 scores (NaN where a pair
        has no score) and, per pair, why it has none (None where it has one).
        ``warn``: warn once about truncated texts."""
        raise NotImplementedError

    def warn_truncated(self, n_truncated: int, n_texts: int, what: str = "texts") -> None:
        """Warn once that ``n_truncated`` of ``n_texts`` texts (or pairs) were cut at the model's token limit."""
        if n_truncated:
            warnings.warn(
                f"{n_truncated} of {n_texts} {what} were longer than {self.name}'s "
                f"limit of {self.max_tokens} tokens and were truncated",
                SimwidgetsWarning,
                stacklevel=4,
            )

    def _progress_bar(self, n: int, progress: bool | None):
        """A bar over ``n`` texts: shown when asked, or by default for long work."""
        show = progress if progress is not None else n >= PROGRESS_MIN_TEXTS
        bar = tqdm(total=n, desc=f"embedding with {self.name}", unit="text", disable=not show)
        shown = bar.update

        def update(k=1):  # counted for the process (a batch job's progress), shown or not
            _EMBEDDED.add(k)
            return shown(k)

        bar.update = update
        return bar


class Embedder(Model):
    """Base class of every model with vectors: a family implements :meth:`embed_batch`.

    Public surface: ``name``, ``dim``, :meth:`embed`, :meth:`embed_report`,
    :meth:`vocabulary`. The base class validates texts (bad ones get NaN and a reason),
    embeds each distinct text once, and caches vectors by model identity and text, in memory
    always and on disk when ``cache_dir`` is given (or ``SIMWIDGETS_CACHE_DIR`` is set).
    """

    #: Texts per call to :meth:`embed_batch`.
    batch_size: int = 256
    #: Whether batches should hold texts of similar length (less padding); models whose cost
    #: does not depend on padding (static word vectors) take texts in the order given.
    sort_by_length: bool = True
    #: Whether a text's vector lies in the same space as the vocabulary's vectors (word
    #: vectors: a text is the mean of its words' rows), so any text can be a neighbour query.
    #: False for encoders, whose vocabulary is an input embedding matrix.
    texts_in_vocabulary_space: bool = False
    #: Whether pairs are scored on sparse rows (TF-IDF) instead of dense vectors.
    scores_sparse: bool = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_embed_batch" in cls.__dict__ and "embed_batch" not in cls.__dict__:
            import warnings

            warnings.warn(
                f"{cls.__name__} overrides _embed_batch, the old name of the embed_batch hook; rename it",
                FutureWarning,
                stacklevel=2,
            )
            cls.embed_batch = cls.__dict__["_embed_batch"]

    def __init__(
        self,
        *,
        cache_dir: str | os.PathLike | None = None,
        memory_cache: int = 500_000,
        centre: int | None = None,
    ):
        super().__init__(memory_cache=memory_cache)
        self._dim: int | None = None
        #: ``centre=D``: vectors are centred ("all-but-the-top": the mean and the top ``D``
        #: principal directions of the compared texts' vectors removed); None: as the model gives them.
        self.centre = centre
        self._centring = None
        self._fitting = False  # True while the centring's corpus is embedded
        if centre is not None:
            from .centring import Centring

            self._centring = Centring(centre)
        self.cache_dir = cache_dir if cache_dir is not None else os.environ.get("SIMWIDGETS_CACHE_DIR")
        self._caches: dict[str, tuple[MemoryCache, DiskCache | None]] = {}

    # -- identity -------------------------------------------------------------------------
    @property
    def dim(self) -> int | None:
        """Vector length (``None`` until known, for callables and unfitted TF-IDF)."""
        return self._dim

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} dim={self.dim}>"

    # -- hooks for subclasses -------------------------------------------------------------
    def embed_batch(self, texts: list[str]) -> tuple[np.ndarray, list[Note] | None]:
        """Embed one batch of clean, distinct, non-empty texts: the hook a model family implements.

        Return float32 ``(len(texts), dim)`` vectors and, per text, a :class:`Note` (tokens
        read, out-of-vocabulary words, truncation, or a reason it could not be embedded), or
        None when there is nothing to say. Everything else (validating texts, deduplication,
        caching, batching by length, progress, NaN rows with reasons) is done by the base class.
        """
        raise NotImplementedError

    def prepare(self, texts: list[str]) -> None:
        """Fit corpus-dependent state (TF-IDF vocabulary, SIF component, centring) if not
        fitted yet.

        Called by the similarity and evaluation functions with every text they will embed,
        so that both sides of a comparison share one fit. A no-op for most models.
        """
        if self._centring is not None and not self._centring.fitted and not self._fitting:
            self.fit_centring(texts)

    def fit_centring(self, corpus, components: int | None = None) -> Embedder:
        """Fit the centring ("all-but-the-top", see :mod:`simwidgets.models.centring`) on a
        corpus of texts, and centre every vector from now on. ``components`` principal
        directions are removed (default: the model's ``centre``, else 1).

        Examples
        --------
        >>> model = load_model("ulmfit:./my-lm").fit_centring(my_texts, 4)  # doctest: +SKIP
        """
        from ..texts import as_text_list, clean_texts
        from .centring import Centring

        if components is not None or self._centring is None:
            self.centre = components if components is not None else (self.centre or 1)
            self._centring = Centring(self.centre)
        clean = list(dict.fromkeys(t for t in clean_texts(as_text_list(corpus, "corpus"))[0] if t is not None))
        self._fitting = True  # embedding the corpus calls prepare again
        try:
            self._centring.fit(self._raw_distinct(clean, None).vectors)
        finally:
            self._fitting = False
        return self

    def prepare_for(self, texts: list) -> None:
        """Let a corpus-fitted model (TF-IDF, SIF, centring) fit on the distinct valid texts of
        ``texts``, once; skipped for models with nothing to fit."""
        if type(self).prepare is Embedder.prepare and self._centring is None:
            return  # nothing to fit: skip the pass over the texts
        clean = [t for t in clean_texts(deduplicate(texts)[1])[0] if t is not None]
        if clean:
            with self.compute_lock():  # threads of a batch job fit once, not each its own
                self.prepare(clean)

    def score_coded(self, uniques, left_rows, right_rows, *, progress=None, warn=True, chunk=65_536):
        """Cosine of the two sides' vectors: each distinct text embedded once, normalised
        once, and each pair one dot product of two gathered rows (``chunk`` pairs at a time)."""
        n = len(left_rows)
        self.prepare_for(uniques)
        distinct = self.embed_distinct(uniques, progress)
        if warn:
            cut = int(distinct.truncated[left_rows].sum() + distinct.truncated[right_rows].sum())
            self.warn_truncated(cut, 2 * n)
        unit = np.full((len(uniques) + 1, distinct.vectors.shape[1]), np.nan, dtype=np.float32)
        unit[:-1] = normalize_rows(distinct.vectors)
        unusable = ~(np.linalg.norm(distinct.vectors, axis=1) > 0)  # zero or NaN vectors
        scores = np.empty(n, dtype=np.float32)
        for start in range(0, n, chunk):
            a, b = unit[left_rows[start : start + chunk]], unit[right_rows[start : start + chunk]]
            scores[start : start + chunk] = np.einsum("ij,ij->i", a, b)
        np.clip(scores, -1.0, 1.0, out=scores)
        unusable = np.append(unusable, True)
        reasons, scored = pair_reasons(
            distinct.reasons, left_rows, right_rows, unusable[left_rows] | unusable[right_rows]
        )
        scores[~scored] = np.nan
        return scores, reasons

    def vocabulary(self) -> Vocabulary:
        """The model's tokens, vectors and token kinds."""
        raise OptionError(f"model {self.name!r} ({type(self).__name__}) has no token vocabulary")

    # -- public API -----------------------------------------------------------------------
    def embed(self, texts, *, progress: bool | None = None) -> np.ndarray:
        """Embed texts into a float32 array of shape ``(len(texts), dim)``.

        Texts that cannot be embedded (``None``, NaN, empty, not a string, invalid UTF-8,
        all tokens unknown) give rows of NaN; :meth:`embed_report` says why.
        """
        return self.embed_report(texts, progress=progress).vectors

    def embed_report(self, texts, *, progress: bool | None = None) -> EmbedReport:
        """Like :meth:`embed`, with reasons, out-of-vocabulary tokens and truncation per text.

        Repeated texts are found first (in C, with ``pandas.factorize``), so validation and
        embedding run once per distinct text and results are gathered back per row.
        """
        with _gc_paused():
            report = self._report(as_text_list(texts), progress)
        self.warn_truncated(int(report.truncated.sum()), len(report.reasons))
        return report

    def _report(self, items: list, progress: bool | None) -> EmbedReport:
        codes, uniques = deduplicate(items)
        d = self.embed_distinct(uniques, progress)
        n_u = len(uniques)
        rows = np.where(codes < 0, n_u, codes)  # row n_u of the note columns: missing values
        missing = rows == n_u
        if n_u == len(items):  # all distinct, none missing: the rows are the distinct texts
            vectors = d.vectors
        else:
            vectors = np.empty((len(items), d.vectors.shape[1]), dtype=np.float32)
            if n_u:
                np.take(d.vectors, np.where(missing, 0, rows), axis=0, out=vectors)
            vectors[missing] = np.nan
        return EmbedReport(vectors, d.reasons[rows].tolist(), d.oov[rows].tolist(), d.truncated[rows], d.n_tokens[rows])

    def embed_distinct(self, uniques: list, progress: bool | None = None) -> Distinct:
        """Vectors and notes of distinct, non-missing items, such as :func:`~simwidgets.texts.deduplicate`
        returns: the step every score goes through.

        Items are validated here (a bad one gets a NaN row and a reason), read from the caches
        or embedded, and centred when the model was asked to be (the cache keeps the model's
        own vectors). The note columns of the result have one extra row standing for a
        missing text, so ``result.reasons[codes]`` with ``-1`` mapped to ``len(uniques)``
        gives every input's reason in one gather.
        """
        out = self._raw_distinct(uniques, progress)
        if self._centring is not None:
            if not self._centring.fitted:
                with self.compute_lock():  # one fit, even when threads arrive together
                    if not self._centring.fitted:
                        self._centring.fit(out.vectors)  # the first texts embedded (or a clear error)
            out.vectors = self._centring.transform(out.vectors)
        return out

    def _raw_distinct(self, uniques: list, progress: bool | None) -> Distinct:
        """Vectors and notes of distinct, non-missing items (raw: not yet validated).

        Items already in the memory cache are read back first, without validating them again
        (a cached key is a valid text, and only an equal text finds it); the rest are
        validated, then looked up on disk or embedded.
        """
        n_u = len(uniques)
        out = Distinct.empty(n_u)
        todo = np.arange(n_u)
        cached = self._caches.get(self.identity)
        parts = []
        seen = None  # the memory cache and its version at which the misses were found
        if cached is not None and n_u:
            try:
                hits, hit_vectors, hit_notes, version = cached[0].lookup_versioned(uniques)
                seen = (cached[0], version)
            except TypeError:  # unhashable items are never cached
                hits = np.zeros(0, dtype=np.int64)
            if len(hits):
                out.place(hits, hit_notes)
                parts.append((hits, hit_vectors))
                todo = np.delete(todo, hits)
        rest = uniques if len(todo) == n_u else [uniques[i] for i in todo.tolist()]
        clean, bad, why = clean_texts_sparse(rest)
        if len(bad):
            out.reasons[todo[bad]] = why
            ok = np.ones(len(clean), dtype=bool)
            ok[bad] = False
            ok_at = todo[ok]
            clean = [clean[j] for j in np.flatnonzero(ok).tolist()]
        else:
            ok_at = todo
        vectors_ok, notes_ok = self._embed_unique(clean, progress, missed_at=seen)
        if len(ok_at):
            out.place(ok_at, notes_ok)
            parts.append((ok_at, vectors_ok))
        dim = self.dim if self.dim is not None else next((v.shape[1] for _, v in parts), 0)
        if len(parts) == 1 and len(parts[0][0]) == n_u:  # one source for every item, in order: no copy
            out.vectors = parts[0][1]
        else:
            out.vectors = np.full((n_u, dim), np.nan, dtype=np.float32)
            for at, vectors in parts:
                out.vectors[at] = vectors
        out.vectors = np.asarray(out.vectors, dtype=np.float32)
        return out

    # -- caching --------------------------------------------------------------------------
    def _cache(self) -> tuple[MemoryCache, DiskCache | None]:
        key = self.identity
        if key not in self._caches:
            disk = DiskCache(self.cache_dir, key) if self.cache_dir else None
            self._caches[key] = (MemoryCache(self._memory_limit), disk)
        return self._caches[key]

    def cache_size(self) -> int:
        """Number of texts in this model's in-memory cache."""
        return len(self._cache()[0])

    def _embed_unique(
        self, texts: list[str], progress: bool | None, missed_at: tuple | None = None
    ) -> tuple[np.ndarray, Notes]:
        """Vectors and notes of distinct texts: memory cache, then disk cache, then the model.

        ``missed_at``: ``(memory cache, version)`` at which none of ``texts`` was in that
        cache (the caller looked them up), so they are not looked up again unless it changed.
        """
        if not texts:
            return np.zeros((0, self.dim or 0), dtype=np.float32), Notes.blank(0)
        # Under the lock, the memory cache is read again if it changed: texts another thread
        # embedded while this one waited are hits, so a text is embedded once per process.
        with self.compute_lock():
            return self._embed_unique_locked(texts, progress, missed_at)

    def _embed_unique_locked(
        self, texts: list[str], progress: bool | None, missed_at: tuple | None = None
    ) -> tuple[np.ndarray, Notes]:
        self.prepare(texts)
        memory, disk = self._cache()
        if missed_at is not None and missed_at[0] is memory and memory.version == missed_at[1]:
            hits, hit_vectors, hit_notes = np.zeros(0, dtype=np.int64), None, None
        else:
            hits, hit_vectors, hit_notes = memory.lookup(texts)
        if len(hits) == len(texts):
            return hit_vectors, hit_notes
        is_hit = np.zeros(len(texts), dtype=bool)
        is_hit[hits] = True
        todo = np.flatnonzero(~is_hit)
        parts = [(hits, hit_vectors, hit_notes)] if len(hits) else []
        if disk is not None:
            entries = disk.get_many([text_key(texts[i]) for i in todo])
            on_disk = [j for j, e in enumerate(entries) if e is not None]
            if on_disk:
                vecs = np.stack([entries[j][0] for j in on_disk])
                notes = Notes.from_list([entries[j][1] for j in on_disk])
                memory.put([texts[todo[j]] for j in on_disk], vecs, notes)
                parts.append((todo[on_disk], vecs, notes))
                todo = np.delete(todo, on_disk)
        if len(todo):
            new_texts = [texts[i] for i in todo.tolist()] if len(todo) < len(texts) else texts
            _TO_EMBED.add(len(new_texts))
            vecs, notes = self._embed_many(new_texts, progress)
            memory.put(new_texts, vecs, notes)
            if disk is not None:
                disk.put_many([text_key(t) for t in new_texts], list(zip(vecs, notes.to_list())))
            if len(todo) == len(texts):
                return vecs, notes
            parts.append((todo, vecs, notes))
        vectors = np.empty((len(texts), parts[0][1].shape[1]), dtype=np.float32)
        positions = np.concatenate([p for p, _, _ in parts])
        for at, vecs, _ in parts:
            vectors[at] = vecs
        inverse = np.empty(len(texts), dtype=np.int64)
        inverse[positions] = np.arange(len(texts))
        return vectors, Notes.concat([notes for _, _, notes in parts]).take(inverse)

    def _check_vectors(self, vecs, n: int) -> np.ndarray:
        vecs = np.asarray(vecs, dtype=np.float32)
        if vecs.ndim != 2 or vecs.shape[0] != n:
            raise InputError(
                f"model {self.name!r} returned an array of shape {vecs.shape} for {n} texts; expected ({n}, dim)"
            )
        if self._dim is None:
            self._dim = int(vecs.shape[1])
        elif vecs.shape[1] != self._dim:
            raise InputError(f"model {self.name!r} returned vectors of length {vecs.shape[1]}, earlier {self._dim}")
        return vecs

    def embed_uncached(self, texts: list[str]) -> np.ndarray:
        """Vectors of clean, distinct texts, neither read from nor written to the caches: what
        a first pass over new texts costs (the speed-quality frontier times models with it)."""
        return self._embed_many(list(texts), False)[0]

    def _embed_many(self, texts: list[str], progress: bool | None) -> tuple[np.ndarray, Notes]:
        """Embed clean, distinct, uncached texts. Models with a faster whole-stream path
        (the GPU pipeline) override this; the default calls :meth:`embed_batch` per batch."""
        if not texts:
            return np.zeros((0, self.dim or 0), dtype=np.float32), Notes.blank(0)
        # Sort by length so each batch holds texts of similar length (less padding).
        if self.sort_by_length:
            lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
            order = np.argsort(lengths, kind="stable")
        else:
            order = np.arange(len(texts))
        out: np.ndarray | None = None
        notes_sorted = []
        with self._progress_bar(len(texts), progress) as bar:
            for start in range(0, len(order), self.batch_size):
                at = order[start : start + self.batch_size]
                batch = (
                    [texts[i] for i in at.tolist()] if self.sort_by_length else texts[start : start + self.batch_size]
                )
                vecs, notes = self.embed_batch(batch)
                vecs = self._check_vectors(vecs, len(batch))
                if out is None:
                    out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
                out[at] = vecs
                notes_sorted.append(Notes.coerce(notes, len(batch)))
                bar.update(len(batch))
        if not self.sort_by_length:
            return out, Notes.concat(notes_sorted)
        inverse = np.empty(len(texts), dtype=np.int64)
        inverse[order] = np.arange(len(texts))
        return out, Notes.concat(notes_sorted).take(inverse)


@contextmanager
def _gc_paused():
    """Pause Python's cycle collector while millions of small objects (texts, tuples) are
    made: the embedding pipeline creates no cycles, and the collector's repeated full scans
    would otherwise cost more than the work itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
