"""Tokenization for the streaming encoder: a fast tokenizer's Rust core, ids end to end.

:func:`tokenize` turns a chunk of texts into one flat int32 array of ids with per-text
offsets and lengths (and the lengths before truncation, so truncated texts are reported).
It runs in tokenizer threads, or in processes started with :func:`start_tokenizer_process`.

A ground-floor module (numpy and tokenizers only, nothing else of the package): a tokenizer
process imports just this, so a pool of them starts in about a second, not in the several
seconds that importing the models package (pandas, pyarrow) would take in each.
"""

from __future__ import annotations

import gc
import os
import time
from dataclasses import dataclass

import numpy as np


@dataclass
class Tokenized:
    """Token ids of a chunk of texts, stored end to end (``flat``) with per-text lengths."""

    flat: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray
    full_lengths: np.ndarray  # before truncation
    seconds: float = 0.0

    @property
    def truncated(self) -> np.ndarray:
        return self.full_lengths > self.lengths

    @classmethod
    def concat(cls, parts: list[Tokenized]) -> Tokenized:
        if len(parts) == 1:
            return parts[0]
        shifts = np.cumsum([0] + [len(p.flat) for p in parts[:-1]])
        return cls(
            np.concatenate([p.flat for p in parts]),
            np.concatenate([p.offsets + shift for p, shift in zip(parts, shifts)]),
            np.concatenate([p.lengths for p in parts]),
            np.concatenate([p.full_lengths for p in parts]),
            sum(p.seconds for p in parts),
        )


def tokenizer_backend(tokenizer, max_tokens: int):
    """Two copies of a fast tokenizer's Rust backend: one truncating at ``max_tokens``, one not.

    Copies, so the user's tokenizer keeps its own padding and truncation settings.
    """
    from tokenizers import Tokenizer

    backend = getattr(tokenizer, "backend_tokenizer", None) or getattr(tokenizer, "_tokenizer", None)
    if backend is None:
        raise TypeError("the streaming encoder needs a fast (Rust) tokenizer")
    cut = Tokenizer.from_str(backend.to_str())
    cut.no_padding()
    cut.enable_truncation(max_length=max_tokens)
    whole = Tokenizer.from_str(backend.to_str())
    whole.no_padding()
    whole.no_truncation()
    return cut, whole


def tokenize(backends, texts: list[str]) -> Tokenized:
    """Token ids of ``texts`` (special tokens included), truncated by the first backend."""
    import itertools

    start = time.perf_counter()
    cut, whole = backends
    encode = getattr(cut, "encode_batch_fast", cut.encode_batch)
    encodings = encode(texts)
    # Reading the ids makes one list per text: with the collector on, those allocations set off
    # collections that walk the whole process's objects (a 65,536-text chunk converted in
    # 194-233 ms with it, 155-178 ms without, in a process holding 2,000,000 objects).
    collecting = gc.isenabled()
    gc.disable()
    try:
        ids = [e.ids for e in encodings]
        n = len(ids)
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=n)
        flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int32, count=int(lengths.sum()))
        del ids
    finally:
        if collecting:
            gc.enable()
    offsets = np.zeros(n, dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    full = lengths.copy()
    # Only a text cut to exactly the limit can have been truncated, so only those are asked
    # for their overflow (which copies it).
    limit = (cut.truncation or {}).get("max_length")
    at_limit = np.flatnonzero(lengths >= limit) if limit else np.arange(n)
    overflowed = [i for i in at_limit.tolist() if encodings[i].overflowing]
    if overflowed:  # count what truncation cut (rare: only texts over the limit)
        again = getattr(whole, "encode_batch_fast", whole.encode_batch)([texts[i] for i in overflowed])
        full[overflowed] = [len(e.ids) for e in again]
    return Tokenized(flat, offsets, lengths, full, time.perf_counter() - start)


_WORKER_BACKENDS = None


def start_tokenizer_process(cut_json: str, whole_json: str) -> None:
    """Initialise a tokenizer process: one single-threaded Rust tokenizer pair."""
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # parallelism comes from the processes
    from tokenizers import Tokenizer

    global _WORKER_BACKENDS
    _WORKER_BACKENDS = (Tokenizer.from_str(cut_json), Tokenizer.from_str(whole_json))


def tokenize_in_process(texts: list[str]) -> Tokenized:
    """Tokenize in a process started by :func:`start_tokenizer_process`."""
    return tokenize(_WORKER_BACKENDS, texts)


def may_start_processes() -> bool:
    """Daemonic processes (Dask workers by default) may not have children."""
    import multiprocessing

    return not multiprocessing.current_process().daemon
