"""Carry a threshold from one model to another (a fine-tuned model replacing its base, a new
encoder): the same share of the log kept, or the same precision on labelled pairs. Reusing the
raw value is the silent failure this prevents: two models' scores do not live on one scale.

The scores are arrays, or columns of a scored log (a ``simwidgets score`` folder, a Parquet
file or a frame) read part by part, so the share kept is exact on every row of a billion-row
log: ``migrate_threshold(0.7, "scored/", "scored/", old_column="score_minilm", new_column="score_ft")``.

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

from ..errors import InputError, OptionError, SimwidgetsWarning
from .gold import as_gold, default_label_cut
from .scored_log import kept_counts, kth_largest, log_rows
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


def _is_log(scores) -> bool:
    from pathlib import Path

    return isinstance(scores, (str, Path, pd.DataFrame))


class _Log:
    """One score column of a scored log, read part by part: the shares kept are exact counts."""

    def __init__(self, scored, column: str | None, name: str, client):
        if column is None:
            raise OptionError(f"{name} is a scored log: name its score column ({name[:3]}_column=...)")
        self.scored, self.column, self.client = scored, column, client
        kept, _ = kept_counts(scored, column, [-np.inf], client)
        self.finite = int(kept[0])
        if not self.finite:
            raise InputError(f"{name} has no finite score in column {column!r}")

    def kept(self, threshold: float) -> float:
        return float(kept_counts(self.scored, self.column, [threshold], self.client)[0][0] / self.finite)

    def threshold_keeping(self, share: float) -> float:
        k = int(round(share * self.finite))
        if k == 0:
            top = kth_largest(self.scored, self.column, 1, client=self.client)
            return float(np.nextafter(top, np.inf))
        return kth_largest(self.scored, self.column, k, client=self.client)


class _Scores:
    """Scores held in memory (arrays, lists, Series)."""

    def __init__(self, scores, name: str):
        self.values = _values(scores, name)
        self.finite = int(np.isfinite(self.values).sum())

    def kept(self, threshold: float) -> float:
        return _kept(self.values, threshold)

    def threshold_keeping(self, share: float) -> float:
        finite = np.sort(self.values[np.isfinite(self.values)])[::-1]
        k = int(round(share * len(finite)))
        return float(finite[k - 1]) if k > 0 else float(np.nextafter(finite[0], np.inf))


def _values(scores, name: str) -> np.ndarray:
    values = pd.to_numeric(pd.Series(list(scores)), errors="coerce").to_numpy(np.float64)
    if not np.isfinite(values).any():
        raise InputError(f"{name} has no finite score")
    return values


def _kept(values: np.ndarray, threshold: float) -> float:
    finite = values[np.isfinite(values)]
    return float((finite >= threshold).mean())


def _precision(values: np.ndarray, positive: np.ndarray, threshold: float, weight=None) -> float:
    kept = values >= threshold
    if not kept.any():
        return float("nan")
    weight = np.ones(len(values)) if weight is None else weight
    return float((positive[kept] * weight[kept]).sum() / weight[kept].sum())


def _weighted_precision_threshold(values, positive, weight, target: float) -> float:
    """The lowest threshold whose weighted precision reaches ``target`` (the most pairs kept
    at that precision), as ``pick_threshold`` does unweighted."""
    order = np.argsort(-values, kind="stable")
    v, p, w = values[order], positive[order].astype(float), weight[order]
    precision = np.cumsum(p * w) / np.cumsum(w)
    last = np.r_[v[1:] != v[:-1], True]  # a threshold keeps every pair tied with it
    ok = np.flatnonzero(last & (precision >= target - 1e-12))
    if not len(ok):
        raise InputError(f"no threshold of the new model reaches precision {target:.3f} on the labelled pairs")
    return float(v[ok[-1]])


def _labelled_table(labels, old_column, new_column, logs):
    """Both models' scores, the labels and each label's weight from a labelled table of pairs
    (an audit's labels file or a labelled audit: scores it lacks are read from the logs at its
    rows; each label stands for its stratum's rows of the log over the stratum's labels)."""
    from .audit import ROW, SIZE, STRATUM, read_audit

    table = labels if isinstance(labels, pd.DataFrame) else read_audit(labels)
    if "label" not in table:
        raise InputError(f"the labelled table has no 'label' column; its columns are {list(table.columns)}")
    gold = as_gold(table["label"], len(table))
    scores = []
    for column, log in zip((old_column, new_column), logs):
        if column in table:
            scores.append(pd.to_numeric(table[column], errors="coerce").to_numpy(np.float64))
        elif ROW in table and log is not None:
            values = log_rows(log, table[ROW].to_numpy(np.int64), [column])[column]
            scores.append(pd.to_numeric(values, errors="coerce").to_numpy(np.float64))
        else:
            raise InputError(f"the labelled table has no {column!r} column; its columns are {list(table.columns)}")
    weight = np.ones(len(table))
    if STRATUM in table and SIZE in table:
        have = np.isfinite(gold)
        strata = table[STRATUM].astype(str).to_numpy()
        labelled = pd.Series(strata[have]).value_counts()
        weight = np.array([s / labelled.get(h, np.inf) for h, s in zip(strata, table[SIZE].astype(float))])
    return scores[0], scores[1], gold, weight


def migrate_threshold(
    threshold: float,
    old_scores,
    new_scores,
    *,
    how: str = "kept_share",
    labels=None,
    label_cut: float | None = None,
    warn: bool = True,
    old_column: str | None = None,
    new_column: str | None = None,
    client=None,
) -> MigratedThreshold:
    """The new model's threshold that keeps what ``threshold`` kept under the old model.

    Parameters
    ----------
    threshold
        The old model's threshold (keep pairs scoring at or above it).
    old_scores, new_scores
        Both models' scores of the pairs (the log, or a large sample of it), one per pair in the
        same order, NaN scores left out; or each a scored log (a ``simwidgets score`` folder, a
        Parquet file or a frame) with ``old_column`` / ``new_column`` naming its score column:
        the log is read part by part (shares kept exact over every row, memory one part's; on
        a Dask ``client``, a task per part), and it need not be the same rows for both models.
    how
        ``"kept_share"`` (default; no labels needed): the new threshold keeps the same share
        of the pairs. ``"precision"``: on the labelled pairs, the lowest new threshold whose
        precision reaches the old model's precision at its threshold (it keeps the most pairs
        at that precision).
    labels
        One label per pair (NaN where unlabelled): with them, the precision of each choice is
        reported, and ``how="precision"`` can be used. With scored logs: a labelled table of
        pairs with a ``label`` column: a labelled audit of the log (the labels file
        ``PairLabeler(..., strategy="audit")`` wrote, or the audit frame), whose labels are
        weighed by the rows of the log each stands for; score columns it lacks are read from
        the logs at its rows.
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
    logs = _is_log(old_scores) or _is_log(new_scores)
    if logs:
        old = (
            _Log(old_scores, old_column, "old_scores", client)
            if _is_log(old_scores)
            else _Scores(old_scores, "old_scores")
        )
        new = (
            _Log(new_scores, new_column, "new_scores", client)
            if _is_log(new_scores)
            else _Scores(new_scores, "new_scores")
        )
    else:
        old, new = _Scores(old_scores, "old_scores"), _Scores(new_scores, "new_scores")
        if len(old.values) != len(new.values):
            raise InputError(
                f"old_scores and new_scores must score the same pairs: {len(old.values)} and {len(new.values)} scores"
            )
    share_old = old.kept(threshold)
    if how == "precision" and labels is None:
        raise InputError("how='precision' needs labels (one per pair, NaN where unlabelled)")
    chosen = new.threshold_keeping(share_old) if how == "kept_share" else None
    result = {}
    if labels is not None:
        if logs:
            old_labelled, new_labelled, gold, weight = _labelled_table(
                labels, old_column, new_column, [getattr(m, "scored", None) for m in (old, new)]
            )
        else:
            old_labelled, new_labelled = old.values, new.values
            gold, weight = as_gold(labels, len(old_labelled)), np.ones(len(old_labelled))
        cut = default_label_cut(gold) if label_cut is None else float(label_cut)
        rows = np.isfinite(gold)  # a pair a model does not score is one it does not keep
        if rows.sum() < 2:
            raise InputError("fewer than two labelled pairs")
        positive, weight = gold[rows] >= cut, weight[rows]
        old_labelled, new_labelled = old_labelled[rows], new_labelled[rows]
        result["precision_old"] = _precision(old_labelled, positive, threshold, weight)
        if how == "precision":
            target = result["precision_old"]
            if not np.isfinite(target):
                raise InputError("the old model keeps no labelled pair at this threshold: no precision to carry")
            scored = np.isfinite(new_labelled)
            chosen = (
                pick_threshold(new_labelled[scored], positive[scored], f"precision>={target}")
                if np.all(weight == 1)
                else _weighted_precision_threshold(new_labelled[scored], positive[scored], weight[scored], target)
            )
        result["precision"] = _precision(new_labelled, positive, chosen, weight)
        result["precision_if_reused"] = _precision(new_labelled, positive, threshold, weight)
    reused = new.kept(threshold)
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
        kept_share=new.kept(chosen),
        kept_share_if_reused=reused,
        note=note,
        **result,
    )
