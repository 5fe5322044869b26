"""Carry a threshold from one model to another (a fine-tuned model replacing its base, a new
encoder): the same share of the log kept, or the same precision on labelled pairs. Reusing the
raw value is the silent failure this prevents: two models' scores do not live on one scale.

>>> import numpy as np
>>> old = np.linspace(0, 1, 101)
>>> moved = migrate_threshold(0.8, old, old**2, warn=False)   # the new model squares the scores
>>> round(moved.threshold, 2), round(moved.kept_share, 2), round(moved.kept_share_if_reused, 2)
(0.64, 0.21, 0.11)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError, SimwidgetsWarning
from .gold import as_gold, default_label_cut
from .threshold_choice import pick_threshold

#: Reusing the old value is said to mislead when it would keep a share of pairs this far (in
#: percentage points) from the share the old model kept.
MOVED = 0.05


@dataclass
class MigratedThreshold:
    """A threshold carried to a new model, and what reusing the old value would have done."""

    #: The new model's threshold (keep pairs scoring at or above it).
    threshold: float
    #: ``"kept_share"`` or ``"precision"``: what is kept equal.
    how: str
    old_threshold: float
    #: The share of pairs the old model keeps at its threshold, and the new one at the new threshold.
    kept_share_old: float
    kept_share: float
    #: The share the new model would keep at the old raw value.
    kept_share_if_reused: float
    #: With labels: precision of the old model at its threshold, of the new one at the new
    #: threshold, and of the new one at the old raw value (NaN without labels).
    precision_old: float = float("nan")
    precision: float = float("nan")
    precision_if_reused: float = float("nan")
    #: Why reusing the old value would mislead, or None.
    note: str | None = None


def _values(scores, name: str) -> np.ndarray:
    values = pd.to_numeric(pd.Series(list(scores)), errors="coerce").to_numpy(np.float64)
    if not np.isfinite(values).any():
        raise InputError(f"{name} has no finite score")
    return values


def _kept(values: np.ndarray, threshold: float) -> float:
    finite = values[np.isfinite(values)]
    return float((finite >= threshold).mean())


def _precision(values: np.ndarray, positive: np.ndarray, threshold: float) -> float:
    kept = values >= threshold
    return float(positive[kept].mean()) if kept.any() else float("nan")


def migrate_threshold(
    threshold: float,
    old_scores,
    new_scores,
    *,
    how: str = "kept_share",
    labels=None,
    label_cut: float | None = None,
    warn: bool = True,
) -> MigratedThreshold:
    """The new model's threshold that keeps what ``threshold`` kept under the old model.

    Parameters
    ----------
    threshold
        The old model's threshold (keep pairs scoring at or above it).
    old_scores, new_scores
        Both models' scores of the same pairs (the log, or a large sample of it), one per
        pair, in the same order; NaN scores are left out.
    how
        ``"kept_share"`` (default; no labels needed): the new threshold keeps the same share
        of the pairs. ``"precision"``: on the labelled pairs, the lowest new threshold whose
        precision reaches the old model's precision at its threshold (it keeps the most pairs
        at that precision).
    labels
        One label per pair (NaN where unlabelled): with them, the precision of each choice is
        reported, and ``how="precision"`` can be used.
    label_cut
        A label at or above it is a good pair (default: 0.5 for 0/1 labels, else the middle of
        their range).
    warn
        Warn (:class:`~simwidgets.SimwidgetsWarning`) when reusing the old raw value on the new
        model would keep a share of pairs more than 5 points away from the old share.

    Returns
    -------
    MigratedThreshold
    """
    if how not in ("kept_share", "precision"):
        raise InputError(f"how must be 'kept_share' or 'precision', got {how!r}")
    if not np.isfinite(threshold):
        raise InputError(f"threshold must be a finite number, got {threshold}")
    old, new = _values(old_scores, "old_scores"), _values(new_scores, "new_scores")
    if len(old) != len(new):
        raise InputError(f"old_scores and new_scores must score the same pairs: {len(old)} and {len(new)} scores")
    share_old = _kept(old, threshold)
    gold = None if labels is None else as_gold(labels, len(old))
    if how == "precision" and gold is None:
        raise InputError("how='precision' needs labels (one per pair, NaN where unlabelled)")
    if how == "kept_share":
        finite = np.sort(new[np.isfinite(new)])[::-1]
        k = int(round(share_old * len(finite)))
        chosen = float(finite[k - 1]) if k > 0 else float(np.nextafter(finite[0], np.inf))
    result = {}
    if gold is not None:
        cut = default_label_cut(gold) if label_cut is None else float(label_cut)
        rows = np.isfinite(gold) & np.isfinite(old) & np.isfinite(new)
        if rows.sum() < 2:
            raise InputError("fewer than two labelled pairs scored by both models")
        positive = gold[rows] >= cut
        result["precision_old"] = _precision(old[rows], positive, threshold)
        if how == "precision":
            target = result["precision_old"]
            if not np.isfinite(target):
                raise InputError("the old model keeps no labelled pair at this threshold: no precision to carry")
            chosen = pick_threshold(new[rows], positive, f"precision>={target}")
        result["precision"] = _precision(new[rows], positive, chosen)
        result["precision_if_reused"] = _precision(new[rows], positive, threshold)
    reused = _kept(new, threshold)
    note = None
    if abs(reused - share_old) > MOVED:
        note = (
            f"reusing {threshold:g} on the new model would keep {reused:.1%} of these pairs, not the {share_old:.1%} "
            f"the old model kept: its scores lie on another scale; use the carried threshold {chosen:.4g}"
        )
        if warn:
            warnings.warn(f"migrate_threshold: {note}", SimwidgetsWarning, stacklevel=2)
    return MigratedThreshold(
        threshold=chosen,
        how=how,
        old_threshold=float(threshold),
        kept_share_old=share_old,
        kept_share=_kept(new, chosen),
        kept_share_if_reused=reused,
        note=note,
        **result,
    )
