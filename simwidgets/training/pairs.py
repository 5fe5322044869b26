"""Labelled pairs made ready for training: checked, cleaned, counted, rescaled and split.

Every pair that cannot be used is dropped and counted with its reason (a NaN or infinite gold
label, a text that is missing, empty or not text), never silently lost; too few pairs, a constant gold
and gold outside a given range are clear errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..evaluation.gold import as_gold
from ..texts import as_text_list, clean_texts

#: Fewest usable labelled pairs a model is trained on (after the validation pairs are held out).
MIN_PAIRS = 8


@dataclass
class Pairs:
    """Usable pairs: texts, gold rescaled to 0-1 (None: positive pairs without labels)."""

    left: list[str]
    right: list[str]
    gold: np.ndarray | None
    kind: str  # "graded", "binary" or "positives"
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> pairs dropped

    def __len__(self) -> int:
        return len(self.left)

    def take(self, rows) -> Pairs:
        rows = np.asarray(rows, dtype=np.int64)
        gold = None if self.gold is None else self.gold[rows]
        return Pairs([self.left[i] for i in rows], [self.right[i] for i in rows], gold, self.kind, {})


def prepare_pairs(left, right, gold, *, gold_range=None, what: str = "training") -> Pairs:
    """Check and clean labelled pairs; ``gold=None`` means every pair is a positive example.

    Gold is rescaled to 0-1 from ``gold_range`` (low, high) or, by default, its observed range;
    two distinct values make it binary (0 and 1 after rescaling).
    """
    lefts, rights = as_text_list(left, "left"), as_text_list(right, "right")
    if len(lefts) != len(rights):
        raise InputError(f"left and right must have the same length, got {len(lefts)} and {len(rights)}")
    n = len(lefts)
    keep = np.ones(n, dtype=bool)
    dropped: dict[str, int] = {}
    if gold is not None:
        values = as_gold(gold, n)
        missing = np.isnan(values)
        if missing.any():
            dropped["gold is missing (NaN)"] = int(missing.sum())
        infinite = np.isinf(values)
        if infinite.any():  # inf or -inf: no scale holds it, so it is dropped like a missing label
            dropped["gold is not finite (inf or -inf)"] = int(infinite.sum())
        keep &= ~missing & ~infinite
    clean_l, why_l = clean_texts(lefts)
    clean_r, why_r = clean_texts(rights)
    for side, clean, why in (("left", clean_l, why_l), ("right", clean_r, why_r)):
        for i in np.flatnonzero(keep & np.array([c is None for c in clean], dtype=bool)).tolist():
            reason = f"{side}: {why[i]}"
            dropped[reason] = dropped.get(reason, 0) + 1
            keep[i] = False
    rows = np.flatnonzero(keep)
    if len(rows) < MIN_PAIRS:
        lost = "; ".join(f"{k}: {v}" for k, v in dropped.items()) or "none dropped"
        raise InputError(
            f"{what} needs at least {MIN_PAIRS} usable labelled pairs, got {len(rows)} of {n} ({lost}); "
            "label more pairs (a few hundred give a useful fine-tune)"
        )
    texts_l = [clean_l[i] for i in rows.tolist()]
    texts_r = [clean_r[i] for i in rows.tolist()]
    if gold is None:
        return Pairs(texts_l, texts_r, None, "positives", dropped)
    kept = values[rows]
    low, high = (float(kept.min()), float(kept.max())) if gold_range is None else map(float, gold_range)
    if not np.isfinite(high - low) or not np.isfinite(low) or not np.isfinite(high):
        raise InputError(
            f"gold labels span {low:g} to {high:g}, too wide to rescale to 0-1 (is a label a typo?); "
            "fix those labels or give gold_range=(low, high)"
        )
    if not high > low:
        raise InputError(
            f"every gold label is {low:g}: there is nothing to learn from one value. Give labels of at "
            "least two values, or gold=None to train on positive pairs only (multiple-negatives ranking)"
        )
    outside = (kept < low) | (kept > high)
    if outside.any():
        raise InputError(f"{int(outside.sum())} gold labels lie outside gold_range ({low:g}, {high:g})")
    scaled = ((kept - low) / (high - low)).astype(np.float32)
    if len(np.unique(scaled)) < len(np.unique(kept)):  # 1e308 beside 0 and 1: the others would all become 0
        raise InputError(
            f"gold labels span {low:g} to {high:g}: rescaled to 0-1, labels that differ become equal (is a "
            "label a typo?); fix those labels or give gold_range=(low, high)"
        )
    kind = "binary" if len(np.unique(kept)) == 2 and gold_range is None else "graded"
    if gold_range is not None and set(np.unique(scaled).tolist()) <= {0.0, 1.0}:
        kind = "binary"
    return Pairs(texts_l, texts_r, scaled, kind, dropped)


def split_validation(pairs: Pairs, validation, seed: int, *, gold_range=None) -> tuple[Pairs, Pairs | None]:
    """``(train, held_out)``: a share of the pairs held out at random, or given pairs."""
    if validation is None or (
        isinstance(validation, (int, float)) and not isinstance(validation, bool) and validation == 0
    ):
        return pairs, None
    if isinstance(validation, tuple):
        if len(validation) != 3:
            raise InputError("validation takes a share (0.1) or the pairs (left, right, gold)")
        held = prepare_pairs(*validation, gold_range=gold_range, what="validation")
        return pairs, held
    share = float(validation)
    if not 0 < share < 1:
        raise InputError(f"validation must be a share between 0 and 1, or (left, right, gold); got {validation!r}")
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_held = max(1, int(round(share * len(pairs))))
    held, train = order[:n_held], np.sort(order[n_held:])
    if len(train) < MIN_PAIRS:
        raise InputError(f"after holding out {n_held} validation pairs, {len(train)} are left: fewer than {MIN_PAIRS}")
    return pairs.take(train), pairs.take(np.sort(held))
