"""Human labels as numbers: which kind they are (binary or graded), text labels refused with a
mapping hint. The lowest floor of the evaluation room: every other module reads gold through it."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import InputError


def gold_kind(gold: np.ndarray) -> str:
    """``"binary"`` when the labels are only 0 and 1 (or booleans), else ``"graded"``."""
    values = np.unique(gold[~np.isnan(gold)])
    return "binary" if len(values) and set(values.tolist()) <= {0.0, 1.0} else "graded"


def as_gold(gold, n: int) -> np.ndarray:
    """Labels as floats (NaN where missing); text labels are refused with what was found."""
    raw = pd.Series(list(gold) if not isinstance(gold, pd.Series) else gold.to_numpy(), dtype=object)
    if len(raw) != n:
        raise InputError(f"gold has {len(raw)} labels for {n} pairs")
    as_bool = raw.map(lambda v: float(v) if isinstance(v, (bool, np.bool_)) else v)
    values = pd.to_numeric(as_bool, errors="coerce").to_numpy(dtype=np.float64)
    text = raw[np.isnan(values) & raw.map(lambda v: isinstance(v, str) and v.strip() != "").to_numpy()]
    if len(text):
        found = list(dict.fromkeys(str(v) for v in text.tolist()))  # plain strings, never np.str_ reprs
        shown = ", ".join(repr(v) for v in found[:6]) + (", ..." if len(found) > 6 else "")
        raise InputError(
            f"gold labels must be numbers; found text: {shown} ({len(text)} labels). {_mapping_hint(found)}"
        )
    return values


_POSITIVE = {"similar", "same", "yes", "y", "true", "relevant", "match", "matches", "duplicate", "paraphrase",
             "good", "positive", "pos", "related", "equivalent", "entailment", "correct", "ok"}  # fmt: skip
_NEGATIVE = {"not", "no", "n", "false", "different", "irrelevant", "dissimilar", "unrelated", "bad", "negative",
             "neg", "nonmatch", "mismatch", "contradiction", "wrong", "incorrect", "none"}  # fmt: skip


def _polarity(label: str) -> int | None:
    """1 when a label's name says "similar", 0 when it says "not similar", None when it does not say."""
    words = re.findall(r"[a-z]+", label.lower())
    if not words:
        return None
    if words[0] in ("not", "non", "no") and len(words) > 1 and words[1] in _POSITIVE:
        return 0  # "not similar", "non-duplicate"
    name = "".join(words)
    if name in _NEGATIVE or words[0] in _NEGATIVE or name.startswith(("not", "non")) and name[3:] in _POSITIVE:
        return 0
    if name in _POSITIVE:
        return 1
    return None


def _mapping_hint(found: list[str]) -> str:
    """How to map text labels to numbers: a mapping only where the names say which label is
    the similar one (two labels, one of each); otherwise the user must say."""
    if len(found) == 2:
        sides = [_polarity(v) for v in found]
        if sorted(sides, key=str) == [0, 1]:
            negative, positive = (found[0], found[1]) if sides[0] == 0 else (found[1], found[0])
            return f"Map them to numbers first: gold.map({{{negative!r}: 0, {positive!r}: 1}})"
        a, b = found
        return (
            f"Map them to numbers first, saying which one means similar: gold.map({{{a!r}: 1, {b!r}: 0}}) "
            f"or gold.map({{{a!r}: 0, {b!r}: 1}})"
        )
    return "Map them to numbers first (1 for similar pairs, 0 for the others; graded values in between)"


def check_binary(labels: np.ndarray) -> None:
    """Refuse labels other than 0 and 1 (NaN allowed), saying how to make them binary."""
    found = np.unique(labels[~np.isnan(labels)])
    if not set(found.tolist()) <= {0.0, 1.0}:
        shown = ", ".join(f"{v:g}" for v in found[:8]) + ("..." if len(found) > 8 else "")
        raise InputError(
            f"kind='binary' needs labels 0 and 1; found {len(found)} values ({shown}). Use kind='graded', "
            f"or map them to 0/1 first, e.g. (gold >= {float(np.median(found)):g}).astype(int)"
        )


def default_label_cut(labels: np.ndarray) -> float:
    """Where "similar" starts when the user does not say: 0.5 for binary labels (or none),
    else the middle of the labels' range (a pair is similar when its label is at or above).

    >>> default_label_cut(np.array([0.0, 1.0, np.nan])), default_label_cut(np.array([0.0, 2.0, 5.0]))
    (0.5, 2.5)
    """
    finite = labels[np.isfinite(labels)]
    if not finite.size or gold_kind(labels) == "binary":
        return 0.5
    return float(finite.min() + finite.max()) / 2
