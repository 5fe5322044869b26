"""Embedding caches keyed by model identity and text: in memory always, on disk when asked."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

#: Bumped whenever what a model returns for a text (vector or note) changes meaning, so
#: disk caches written by older code are not read back.
CACHE_VERSION = 2


def text_key(text: str) -> bytes:
    """Stable 16-byte key of a text (BLAKE2b), so long texts are not stored twice."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def encode_note(note) -> str:
    """A model's note about one text (see :class:`~simwidgets.models.base.Note`) as JSON."""
    return json.dumps([list(note.oov), note.n_tokens, note.truncated, note.reason])


def decode_note(raw: str):
    from .base import Note

    oov, n_tokens, truncated, reason = json.loads(raw)
    return Note(tuple(oov), n_tokens, truncated, reason)


class MemoryCache:
    """Least-recently-used map from text key to ``(vector, note)``, bounded in entries."""

    def __init__(self, max_items: int = 500_000) -> None:
        self.max_items = max_items
        self._data: OrderedDict[bytes, tuple] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def get_many(self, keys: list[bytes]) -> list[tuple | None]:
        with self._lock:
            out = []
            for key in keys:
                entry = self._data.get(key)
                if entry is not None:
                    self._data.move_to_end(key)
                out.append(entry)
            return out

    def put_many(self, keys: list[bytes], entries: list[tuple]) -> None:
        with self._lock:
            for key, entry in zip(keys, entries):
                self._data[key] = entry
                self._data.move_to_end(key)
            while len(self._data) > self.max_items:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


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
