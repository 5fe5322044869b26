"""Validation of user texts: every input either becomes a clean ``str`` or gets a reason.

Nothing here raises on a bad text: a text that cannot be embedded comes back as ``None``
with a short, human-readable reason, so callers can report NaN plus the reason instead of
crashing or silently dropping the row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .errors import InputError, OptionError, SimwidgetsWarning  # noqa: F401 (SimwidgetsWarning: its old home)

# Reasons, kept as constants so tests and downstream code can match on them.
MISSING = "missing text (None or NaN)"
EMPTY = "empty or whitespace-only text"
NOT_TEXT = "not a string"
BAD_UTF8 = "not valid UTF-8"
ALL_OOV = "all tokens out of vocabulary"
NO_TOKENS = "no tokens after tokenization"


def duration_text(seconds: float) -> str:
    """A time span as people read it on a progress line.

    >>> duration_text(42.4), duration_text(119.6), duration_text(7260)
    ('42 s', '2 min 00 s', '2 h 01 min')
    """
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} s"
    if total < 3600:
        return f"{total // 60} min {total % 60:02d} s"
    return f"{total // 3600} h {round(total % 3600 / 60):02d} min"


def display_text(value) -> str:
    """A text as a widget shows it: a missing one (None, NaN) as an empty string, anything
    else as ``str(value)``, never HTML. The one rule every view of pairs follows.

    >>> display_text(None), display_text(float("nan")), display_text("a cat"), display_text(3)
    ('', '', 'a cat', '3')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value if isinstance(value, str) else str(value)


def clean_text(value: object) -> tuple[str | None, str | None]:
    """Return ``(text, None)`` for a usable text, or ``(None, reason)`` otherwise.

    ``bytes`` are decoded as UTF-8; strings carrying lone surrogates (how Python represents
    undecodable bytes read with ``errors="surrogateescape"``) count as invalid UTF-8.
    """
    if value is None:
        return None, MISSING
    if isinstance(value, float) and math.isnan(value):
        return None, MISSING
    if value is pd.NA or value is pd.NaT:
        return None, MISSING
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None, BAD_UTF8
    if isinstance(value, np.str_):
        value = str(value)
    if not isinstance(value, str):
        return None, f"{NOT_TEXT} ({type(value).__name__})"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None, BAD_UTF8
    if not value.strip():
        return None, EMPTY
    return value, None


def _plain_ok(value: str) -> bool:
    """A ``str`` that needs no change: not blank and valid UTF-8 (no lone surrogates)."""
    if value.isascii():
        return not value.isspace() and value != ""
    if value.isspace():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def clean_texts(values: Iterable[object]) -> tuple[list[str | None], list[str | None]]:
    """Vectorised :func:`clean_text`: returns parallel lists of texts and reasons.

    >>> clean_texts(["a cat", None, "  "])
    (['a cat', None, None], [None, 'missing text (None or NaN)', 'empty or whitespace-only text'])
    """
    texts, bad, why = clean_texts_sparse(values)
    reasons: list[str | None] = [None] * len(texts)
    for i, reason in zip(bad.tolist(), why):
        reasons[i] = reason
    return texts, reasons


def clean_texts_sparse(values: Iterable[object]) -> tuple[list[str | None], np.ndarray, list[str]]:
    """:func:`clean_texts` for the embedding pipeline: the texts (None where unusable), the
    positions of the unusable ones and their reasons, so a million plain texts cost no
    per-item Python code.

    Plain, valid strings (nearly all of a real log) are recognised by C-level passes over the
    list (type, ASCII, blank); only the rest go through :func:`clean_text`.

    >>> texts, bad, why = clean_texts_sparse(["a cat", None, "caf\u00e9"])
    >>> texts, bad.tolist(), why
    (['a cat', None, 'café'], [1], ['missing text (None or NaN)'])
    """
    texts = list(values)
    n = len(texts)
    if set(map(type, texts)) <= {str}:  # all plain str: check ASCII in C, the rest one by one
        ascii_ok = np.fromiter(map(str.isascii, texts), dtype=bool, count=n)
        check = np.flatnonzero(~ascii_ok)
        if "" in texts or any(map(str.isspace, texts)):  # rare: find the blank ones
            blank = np.fromiter(map(_blank, texts), dtype=bool, count=n)
            check = np.union1d(check, np.flatnonzero(blank))
        suspects = [i for i in check.tolist() if not _plain_ok(texts[i])]
    else:
        suspects = [i for i, value in enumerate(texts) if type(value) is not str or not _plain_ok(value)]
    why = []
    bad = []
    for i in suspects:
        texts[i], reason = clean_text(texts[i])
        if reason is not None:
            bad.append(i)
            why.append(reason)
    return texts, np.asarray(bad, dtype=np.int64), why


def _blank(value: str) -> bool:
    return not value or value.isspace()


def as_text_list(values: object, what: str = "texts") -> list:
    """Turn a list, tuple, array or Series into a list, with a clear error otherwise.

    A single string is refused (it is almost always a mistake: it would be iterated
    character by character).
    """
    if isinstance(values, (str, bytes)):
        raise OptionError(
            f"{what} must be a list of texts, got a single {type(values).__name__}; wrap it in a list: [{values!r}]"
        )
    if isinstance(values, pd.DataFrame):
        raise OptionError(f"{what} must be one column (a Series or list), got a DataFrame")
    if isinstance(values, (pd.Series, pd.Index)):
        return values.tolist()
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise InputError(f"{what} must be one-dimensional, got an array of shape {values.shape}")
        return values.tolist()
    if isinstance(values, Sequence) or isinstance(values, Iterable):
        return list(values)
    raise OptionError(f"{what} must be a list of texts, got {type(values).__name__}")


def deduplicate(items: list) -> tuple[np.ndarray, list]:
    """Each item's position in a list of the distinct items, and that list.

    The first step from texts to scores: every model embeds each distinct text once.
    Missing values (None, NaN, pd.NA) get code ``-1`` and are not in the list; unhashable
    items (lists...) each get their own code.

    >>> codes, uniques = deduplicate(["a cat", None, "a dog", "a cat"])
    >>> codes.tolist(), uniques
    ([0, -1, 1, 0], ['a cat', 'a dog'])
    """
    import pandas as pd

    values = pd.Series(items, dtype=object) if items else pd.Series([], dtype=object)
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        return np.asarray(codes, dtype=np.int64), list(uniques)
    except TypeError:  # unhashable items (lists...): each gets its own code
        seen: dict = {}
        codes = np.empty(len(items), dtype=np.int64)
        uniques = []
        for i, item in enumerate(items):
            try:
                key = ("h", item)
                hash(key)
            except TypeError:
                key = ("id", i)
            if key not in seen:
                seen[key] = len(uniques)
                uniques.append(item)
            codes[i] = seen[key]
        return codes, uniques


def pair_key(left: str, right: str) -> str:
    """A stable key of a pair of texts (16 hex digits): what a labels file stores to name a
    pair, instead of a row number that means another pair in another frame.

    >>> pair_key("a cat", "a dog") == pair_key("a cat", "a dog") != pair_key("a dog", "a cat")
    True
    """
    import hashlib

    digest = hashlib.blake2b(digest_size=8)
    digest.update(str(left).encode("utf-8", "surrogatepass") + b"\x00" + str(right).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def pair_keys(left, right) -> np.ndarray:
    """:func:`pair_key` of each pair, as unsigned 64-bit integers (a missing text counts as "")."""

    def text(value):
        return value if isinstance(value, str) else ""

    return np.array([int(pair_key(text(a), text(b)), 16) for a, b in zip(left, right)], dtype=np.uint64)
