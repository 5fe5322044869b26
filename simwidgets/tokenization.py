"""Tokenization for the streaming encoder: a fast tokenizer's Rust core, ids end to end.

:func:`tokenize` turns a chunk of texts into one flat int32 array of ids with per-text
offsets and lengths (and the lengths before truncation, so truncated texts are reported).
It runs in tokenizer threads, or in processes started with :func:`start_tokenizer_process`,
where a BERT-style tokenizer's texts are assembled from their words' ids, each distinct word
tokenized once (:class:`WordPieces`).

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

from .errors import OptionError


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
        raise OptionError("the streaming encoder needs a fast (Rust) tokenizer")
    cut = Tokenizer.from_str(backend.to_str())
    cut.no_padding()
    cut.enable_truncation(max_length=max_tokens)
    whole = Tokenizer.from_str(backend.to_str())
    whole.no_padding()
    whole.no_truncation()
    return cut, whole


def ids_arrays(encodings) -> tuple[np.ndarray, np.ndarray]:
    """The ids of Rust ``Encoding`` objects end to end (int32) and each one's length (int64)."""
    import itertools

    # Reading the ids makes one list per text: with the collector on, those allocations set off
    # collections that walk the whole process's objects (a 65,536-text chunk converted in
    # 194-233 ms with it, 155-178 ms without, in a process holding 2,000,000 objects).
    collecting = gc.isenabled()
    gc.disable()
    try:
        ids = [e.ids for e in encodings]
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int32, count=int(lengths.sum()))
    finally:
        if collecting:
            gc.enable()
    return flat, lengths


def tokenize(backends, texts: list[str]) -> Tokenized:
    """Token ids of ``texts`` (special tokens included), truncated by the first backend: the
    Rust tokenizer on whole texts (``encode_batch``, over every core unless
    ``TOKENIZERS_PARALLELISM`` is off). Tokenizer processes use :class:`WordPieces` instead
    where the tokenizer allows it."""
    start = time.perf_counter()
    cut, whole = backends
    encode = getattr(cut, "encode_batch_fast", cut.encode_batch)
    encodings = encode(texts)
    flat, lengths = ids_arrays(encodings)
    n = len(lengths)
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


#: Normalizers that change each character on its own (never join or split across a space),
#: and pre-tokenizers that always split at a space and never join across one.
_LOCAL_NORMALIZERS = {"BertNormalizer", "Lowercase", "NFD", "NFKD", "StripAccents"}
_SPACE_SPLITTERS = {"BertPreTokenizer", "Whitespace", "WhitespaceSplit"}
_PER_WORD_MODELS = {"WordPiece", "WordLevel"}


def _kinds(part) -> list[str]:
    if not part:
        return []
    if part.get("type") == "Sequence":
        return [k for p in part.get("normalizers") or part.get("pretokenizers") or [] for k in _kinds(p)]
    return [part.get("type")]


class WordPieces:
    """Token ids assembled from the ids of each text's space-separated words.

    BERT's pipeline (a character-by-character normalizer, a pre-tokenizer that splits at every
    space, WordPiece within each piece) gives a text the ids of its words one after another,
    between the template's special tokens. So each distinct word is tokenized once by the Rust
    tokenizer and kept (id table, at most ``max_words`` words, then started afresh); a chunk of
    texts becomes ids through dictionary lookups and numpy, and truncation is counted exactly
    with no second pass. Whether a tokenizer qualifies is read from its JSON and then checked
    against whole-text tokenization on probe texts; one that fails keeps the whole-text path.

    >>> words = WordPieces.for_backend(cut)                 # doctest: +SKIP
    >>> words.tokenize(["a query", "a result"]).lengths     # doctest: +SKIP
    array([4, 4])
    """

    PROBES = (
        "",
        "one",
        "  two  spaces  ",
        "Hello, World! It's 3.5 o'clock; naïve café über",
        "tabs\tand\nnew lines\x1cand a control char",
        "中文字符 mixed with 日本語 and emoji \U0001f600",
        "[CLS] [MASK] [SEP] inside a text",
        "averyveryverylongwordthatwordpiececutsintopieces " * 3,
        "x" * 150,
    )

    def __init__(self, cut, prefix: list[int], suffix: list[int], limit: int | None, max_words: int = 200_000):
        import threading

        self.cut = cut
        self.encoder = _untruncated(cut)  # a word's ids, whole, however long it is
        self.prefix = np.asarray(prefix, dtype=np.int32)
        self.suffix = np.asarray(suffix, dtype=np.int32)
        self.limit = limit  # tokens of the whole text at most, special tokens included
        self.max_words = max_words
        self.lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.index: dict[str, int] = {"": 0}  # the empty word (two spaces in a row): no ids
        self.flat = np.empty(0, dtype=np.int32)
        self.offsets = np.zeros(1, dtype=np.int64)
        self.lengths = np.zeros(1, dtype=np.int64)

    @classmethod
    def for_backend(cls, cut) -> WordPieces | None:
        """The word table for ``cut`` (a truncating Rust tokenizer), or None when its
        pipeline can join or split text across a space."""
        import json

        config = json.loads(cut.to_str())
        normalizers = _kinds(config.get("normalizer"))
        splitters = _kinds(config.get("pre_tokenizer"))
        model = (config.get("model") or {}).get("type")
        truncation = config.get("truncation") or {}
        if (
            not set(normalizers) <= _LOCAL_NORMALIZERS
            or not splitters
            or not set(splitters) <= _SPACE_SPLITTERS
            or model not in _PER_WORD_MODELS
            or config.get("padding")
            or truncation.get("direction", "Right") != "Right"
            or truncation.get("stride", 0)
            or any(any(ch.isspace() for ch in t.get("content", "")) for t in config.get("added_tokens") or [])
        ):
            return None
        probe_core = cut.encode("a", add_special_tokens=False).ids
        probe = cut.encode("a").ids
        at = next((i for i in range(len(probe)) if probe[i : i + len(probe_core)] == probe_core), None)
        if at is None or not probe_core:
            return None
        prefix, suffix = probe[:at], probe[at + len(probe_core) :]
        limit = truncation.get("max_length")
        if limit is not None and limit <= len(prefix) + len(suffix):
            return None
        words = cls(cut, prefix, suffix, limit)
        n = limit or 8  # at the limit, one word past it, and one word longer than the limit
        probes = [*cls.PROBES, " ".join(["word"] * (n - 2)), " ".join(["word"] * (n - 1)), "-" * (n + 4)]
        whole = tokenize((cut, words.encoder), probes)
        got = words.tokenize(probes)
        if not (
            np.array_equal(got.flat, whole.flat)
            and np.array_equal(got.lengths, whole.lengths)
            and np.array_equal(got.full_lengths, whole.full_lengths)
        ):
            return None
        words._reset()
        return words

    def _learn(self, words: list[str]) -> None:
        """Tokenize words not seen yet and add them to the table."""
        encode = getattr(self.encoder, "encode_batch_fast", self.encoder.encode_batch)
        flat, lengths = ids_arrays(encode(words, add_special_tokens=False))
        start = len(self.index)
        self.index.update(zip(words, range(start, start + len(words))))
        self.offsets = np.concatenate([self.offsets, len(self.flat) + np.cumsum(lengths) - lengths])
        self.lengths = np.concatenate([self.lengths, lengths])
        self.flat = np.concatenate([self.flat, flat])

    def tokenize(self, texts: list[str]) -> Tokenized:
        import itertools

        start = time.perf_counter()
        n = len(texts)
        split = [t.split(" ") for t in texts]
        per_text = np.fromiter(map(len, split), dtype=np.int64, count=n)
        occurrences = list(itertools.chain.from_iterable(split))
        del split
        with self.lock:
            if len(self.index) > self.max_words:
                self._reset()
            codes = np.fromiter(map(self.index.get, occurrences, itertools.repeat(-1)), np.int64, len(occurrences))
            missing = np.flatnonzero(codes < 0)
            if len(missing):
                new = list(dict.fromkeys(occurrences[i] for i in missing.tolist()))
                self._learn(new)
                codes[missing] = [self.index[occurrences[i]] for i in missing.tolist()]
            word_len, word_off, table = self.lengths[codes], self.offsets[codes], self.flat
        # the ids of every word occurrence, end to end: one gather
        total = int(word_len.sum())
        first = np.cumsum(word_len) - word_len
        core = table[np.repeat(word_off - first, word_len) + np.arange(total)]
        # per text: its words' ids, cut to the limit, between the template's special tokens
        text_of_word = np.repeat(np.arange(n), per_text)
        core_len = np.bincount(text_of_word, weights=word_len, minlength=n).astype(np.int64)
        n_special = len(self.prefix) + len(self.suffix)
        room = (self.limit - n_special) if self.limit is not None else None
        kept = np.minimum(core_len, room) if room is not None else core_len
        if room is not None and (kept < core_len).any():
            within = np.arange(total) - np.repeat(np.cumsum(core_len) - core_len, core_len)
            core = core[within < room]
        lengths = kept + n_special
        offsets = np.zeros(n, dtype=np.int64)
        np.cumsum(lengths[:-1], out=offsets[1:])
        flat = np.empty(int(lengths.sum()), dtype=np.int32)
        for k, token in enumerate(self.prefix.tolist()):
            flat[offsets + k] = token
        body = np.repeat(offsets + len(self.prefix) - (np.cumsum(kept) - kept), kept) + np.arange(len(core))
        flat[body] = core
        for k, token in enumerate(self.suffix.tolist()):
            flat[offsets + len(self.prefix) + kept + k] = token
        return Tokenized(flat, offsets, lengths, core_len + n_special, time.perf_counter() - start)


def _untruncated(cut):
    from tokenizers import Tokenizer

    whole = Tokenizer.from_str(cut.to_str())
    whole.no_truncation()
    return whole


_WORDS: dict[int, tuple] = {}


def word_pieces(backends) -> WordPieces | None:
    """The :class:`WordPieces` of these backends in this process (decided once), or None."""
    cut = backends[0]
    found = _WORDS.get(id(cut))
    if found is None or found[0] is not cut:
        found = _WORDS[id(cut)] = (cut, WordPieces.for_backend(cut))
    return found[1]


_WORKER_BACKENDS = None


def start_tokenizer_process(cut_json: str, whole_json: str) -> None:
    """Initialise a tokenizer process: one single-threaded Rust tokenizer pair."""
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # parallelism comes from the processes
    from tokenizers import Tokenizer

    global _WORKER_BACKENDS
    _WORKER_BACKENDS = (Tokenizer.from_str(cut_json), Tokenizer.from_str(whole_json))


def tokenize_in_process(texts: list[str]) -> Tokenized:
    """Tokenize in a process started by :func:`start_tokenizer_process`: one core, so each
    distinct word is tokenized once per process where the tokenizer allows it (on one core,
    2.0-4.0x the texts per second of whole texts here: benchmarks/bench_tokenize.py)."""
    words = word_pieces(_WORKER_BACKENDS)
    if words is not None:
        return words.tokenize(texts)
    return tokenize(_WORKER_BACKENDS, texts)


def may_start_processes() -> bool:
    """Daemonic processes (Dask workers by default) may not have children."""
    import multiprocessing

    return not multiprocessing.current_process().daemon
