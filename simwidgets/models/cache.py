"""Embedding caches keyed by model identity and text: in memory always, on disk when asked."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import sqlite3
import threading
from pathlib import Path

import numpy as np

#: Bumped whenever what a model returns for a text (vector or note) changes meaning, so
#: disk caches written by older code are not read back.
CACHE_VERSION = 2


def text_key(text: str) -> bytes:
    """Stable 16-byte key of a text (BLAKE2b), so long texts are not stored twice."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def encode_note(note) -> str:
    """A model's note about one text (see :class:`~simwidgets.models.notes.Note`) as JSON."""
    return json.dumps([list(note.oov), note.n_tokens, note.truncated, note.reason])


def decode_note(raw: str):
    from .notes import Note

    oov, n_tokens, truncated, reason = json.loads(raw)
    return Note(tuple(oov), n_tokens, truncated, reason)


class MemoryCache:
    """Vectors and notes of texts in one growing matrix (and note columns), with a dict
    from text to row.

    Keyed by the text itself (Python caches a string's hash, so lookups are cheap) and read
    back with one fancy-indexing gather, so a cache hit costs far less than embedding, even
    with static word vectors. Bounded in entries: when full, the oldest tenth is dropped.
    """

    def __init__(self, max_items: int = 500_000) -> None:
        self.max_items = max_items
        self._rows: dict[str, int] = {}
        self._texts: list[str] = []
        self._vectors: np.ndarray | None = None
        self._ntok = np.zeros(0, dtype=np.int64)
        self._trunc = np.zeros(0, dtype=bool)
        self._oov = np.zeros(0, dtype=object)
        self._reasons = np.zeros(0, dtype=object)
        self._lock = threading.RLock()
        #: Bumped by every change, so a caller that looked texts up can tell whether the
        #: answer still holds (no text was added since) without looking them up again.
        self.version = 0

    def __len__(self) -> int:
        return len(self._rows)

    def lookup_versioned(self, texts: list[str]):
        """:meth:`lookup` with the :attr:`version` its answer belongs to."""
        with self._lock:
            return (*self.lookup(texts), self.version)

    def lookup(self, texts: list[str]):
        """``(hit_positions, vectors, notes)`` of the texts found, in the order given."""
        from .notes import Notes

        with self._lock:
            # all new (a first pass): one C-level scan that stops at the first hit
            if not self._rows or not texts or self._rows.keys().isdisjoint(texts):
                return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32), Notes.blank(0)
            get = self._rows.get
            rows = np.fromiter(map(get, texts, itertools.repeat(-1)), dtype=np.int64, count=len(texts))
            hits = np.flatnonzero(rows >= 0)
            if not len(hits) or self._vectors is None:
                return hits, np.zeros((0, 0), dtype=np.float32), Notes.blank(0)
            found = rows[hits]
            notes = Notes(self._ntok[found], self._trunc[found], self._oov[found], self._reasons[found])
            return hits, self._vectors[found], notes

    def put(self, texts: list[str], vectors: np.ndarray, notes) -> None:
        """Remember ``texts`` with their vectors and notes (a :class:`Notes` or a list of Note)."""
        from .notes import Notes

        with self._lock:
            n_new = len(texts)
            if not n_new or self.max_items <= 0:
                return
            self.version += 1
            notes = Notes.coerce(notes, n_new)
            if n_new > self.max_items:  # more new texts than the cache holds: keep the last ones
                keep = np.arange(n_new - self.max_items, n_new)
                # a view of the vectors, not a gathered copy: they are copied once, below
                texts, vectors, notes = texts[-self.max_items :], vectors[-self.max_items :], notes.take(keep)
                n_new = len(texts)
            size = len(self._texts)
            if size + n_new > self.max_items:
                self._evict(max(size + n_new - int(self.max_items * 0.9), 0))
                size = len(self._texts)
            if self._vectors is None or self._vectors.shape[1] != vectors.shape[1]:
                self._rows, self._texts, size = {}, [], 0
                self._vectors = np.empty((0, vectors.shape[1]), dtype=np.float32)
            if size + n_new > len(self._vectors):
                self._grow(max(1024, 2 * len(self._vectors), size + n_new), size)
            end = size + n_new
            self._vectors[size:end] = vectors
            self._ntok[size:end] = notes.n_tokens
            self._trunc[size:end] = notes.truncated
            self._oov[size:end] = notes.oov_column()
            self._reasons[size:end] = notes.reason_column()
            self._rows.update(zip(texts, range(size, end)))
            self._texts.extend(texts)

    def _grow(self, capacity: int, size: int) -> None:
        def grown(old: np.ndarray, shape) -> np.ndarray:
            new = np.empty(shape, dtype=old.dtype)
            new[:size] = old[:size]
            return new

        self._vectors = grown(self._vectors, (capacity, self._vectors.shape[1]))
        self._ntok = grown(self._ntok, capacity)
        self._trunc = grown(self._trunc, capacity)
        self._oov = grown(self._oov, capacity)
        self._reasons = grown(self._reasons, capacity)

    def _evict(self, drop: int) -> None:
        if self._vectors is None:
            return
        drop = min(drop, len(self._texts))
        keep = len(self._texts) - drop
        for column in (self._vectors, self._ntok, self._trunc, self._oov, self._reasons):
            column[:keep] = column[drop : drop + keep]
        self._texts = self._texts[drop:]
        self._rows = {t: i for i, t in enumerate(self._texts)}

    def clear(self) -> None:
        with self._lock:
            self.version += 1
            self._rows, self._texts, self._vectors = {}, [], None


class DiskCache:
    """``(vector, note)`` entries in one SQLite file per model identity under ``directory``.

    SQLite is in the standard library, survives interruption (each batch is one
    transaction) and lets several processes read the same cache.
    """

    def __init__(self, directory: str | os.PathLike, model_key: str) -> None:
        self.directory = Path(directory).expanduser()
        self.directory.mkdir(parents=True, exist_ok=True)
        versioned = f"v{CACHE_VERSION}:{model_key}"
        digest = hashlib.blake2b(versioned.encode(), digest_size=12).hexdigest()
        self.path = self.directory / f"{digest}.sqlite"
        self._local = threading.local()
        with self._connect() as con:
            con.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB, note TEXT)")
            con.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
            con.execute("INSERT OR IGNORE INTO meta VALUES ('model', ?)", (model_key,))

    def _connect(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=60)
            self._local.con = con
        return con

    def get_many(self, keys: list[bytes]) -> list[tuple | None]:
        if not keys:
            return []
        con = self._connect()
        found: dict[bytes, tuple] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, vec, note FROM vectors WHERE key IN ({marks})"
            for key, blob, note in con.execute(query, chunk):
                found[key] = (np.frombuffer(blob, dtype=np.float32), decode_note(note))
        return [found.get(key) for key in keys]

    def put_many(self, keys: list[bytes], entries: list[tuple]) -> None:
        con = self._connect()
        rows = [
            (k, np.ascontiguousarray(vec, dtype=np.float32).tobytes(), encode_note(note))
            for k, (vec, note) in zip(keys, entries)
        ]
        with con:
            con.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)

    def __len__(self) -> int:
        return self._connect().execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
