"""Thresholds chosen out of sample: picked on training folds, judged on the held-out fold.

A best-F1 threshold read off the same pairs it is scored on flatters the model; here each
fold's threshold is chosen without that fold's labels and the pooled held-out decisions give
the precision, recall, F1, accuracy and share of pairs kept that a user can expect on new pairs,
each with a bootstrap interval. The threshold to use is chosen on all the pairs.

>>> choice = choose_threshold(scores["score_minilm"], df.grade >= 1, objective="precision>=0.95")  # doctest: +SKIP
>>> choice.threshold, choice.table                                                                 # doctest: +SKIP
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ..models.trained_pairs import in_sample
from .folds import pair_folds
from .gold import as_gold, default_label_cut
from .resampling import interval, resamples

_RULE = re.compile(r"^(precision|recall)\s*>=\s*([0-9.]+)$|^keep\s*=\s*([0-9.]+)$")
METRICS = ("precision", "recall", "f1", "accuracy", "kept_share")


def best_thresholds(scores: np.ndarray, labels: np.ndarray) -> dict:
    """Thresholds maximising F1 and accuracy for the rule ``score >= threshold``."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(labels, scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0)[:-1]
    i = int(np.argmax(f1))
    # accuracy at every cut: sort by score, count positives above and negatives below
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    tp = np.cumsum(y)
    fp = np.cumsum(1 - y)
    negatives = (1 - y).sum()
    last = np.r_[s[1:] != s[:-1], True]  # cut after the last of each run of equal scores
    acc = (tp + (negatives - fp))[last] / len(y)
    cut_scores = s[last]
    j = int(np.argmax(acc))
    # also consider keeping nothing
    nothing = negatives / len(y)
    best_acc, best_acc_threshold = (float(acc[j]), float(cut_scores[j]))
    if nothing > best_acc:
        best_acc, best_acc_threshold = float(nothing), float(np.nextafter(s[0], np.inf))
    return {
        "best_f1": float(f1[i]),
        "best_f1_threshold": float(thresholds[i]),
        "best_accuracy": best_acc,
        "best_accuracy_threshold": best_acc_threshold,
    }


def parse_objective(objective: str) -> tuple[str, float | None]:
    """``"f1"``, ``"accuracy"``, ``"precision>=0.95"``, ``"recall>=0.9"`` or ``"keep=0.8"`` as (kind, value)."""
    text = str(objective).strip().lower()
    if text in ("f1", "accuracy"):
        return text, None
    match = _RULE.match(text)
    if match:
        kind, value = (match.group(1), match.group(2)) if match.group(1) else ("keep", match.group(3))
        value = float(value)
        if 0 < value <= 1:
            return kind, value
    raise InputError(
        f"objective must be 'f1', 'accuracy', 'precision>=P', 'recall>=R' or 'keep=S' (P, R, S in (0, 1]), "
        f"got {objective!r}"
    )


def pick_threshold(scores: np.ndarray, positive: np.ndarray, objective: str) -> float:
    """The threshold (keep pairs with ``score >= threshold``) that ``objective`` picks on these pairs."""
    kind, value = parse_objective(objective)
    if kind == "keep":
        return float(np.quantile(scores, 1 - value, method="higher")) if value < 1 else float(scores.min())
    if kind in ("f1", "accuracy"):
        return best_thresholds(scores, positive.astype(np.int64))[f"best_{kind}_threshold"]
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(positive.astype(np.int64), scores)
    precision, recall = precision[:-1], recall[:-1]
    if kind == "precision":
        ok = np.flatnonzero(precision >= value)
        # the lowest threshold reaching the precision keeps the most pairs; none: keep nothing
        return float(thresholds[ok[0]]) if ok.size else float(np.nextafter(scores.max(), np.inf))
    ok = np.flatnonzero(recall >= value)  # recall falls as the threshold rises: take the highest
    return float(thresholds[ok[-1]]) if ok.size else float(scores.min())


def decision_metrics(kept: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Row-wise :data:`METRICS` of boolean decisions ``(B, n)`` against labels ``(B, n)``."""
    kept, positive = np.atleast_2d(kept), np.atleast_2d(positive)
    tp = (kept & positive).sum(axis=1)
    fp = (kept & ~positive).sum(axis=1)
    fn = (~kept & positive).sum(axis=1)
    n = kept.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
    accuracy = (tp + (n - tp - fp - fn)) / n
    return np.stack([precision, recall, f1, accuracy, kept.sum(axis=1) / n], axis=1)


@dataclass
class ThresholdChoice:
    """What :func:`choose_threshold` returns.

    ``threshold`` is chosen on all the pairs (the one to use); ``fold_thresholds`` are those
    chosen on each set of training folds; ``table`` has one row per metric with its
    ``out_of_sample`` value (held-out decisions, pooled), its interval and, beside it, the
    flattering ``in_sample`` value of ``threshold`` on the pairs it was chosen on.

    For a target (``precision>=P``, ``recall>=R``, ``keep=S``), ``target`` says whether it
    held on the held-out folds: ``"met"`` (its interval's low end too), ``"uncertain"`` (met,
    but the interval reaches below it) or ``"missed"``; ``target_note`` says so in words (and
    :func:`choose_threshold` warns unless it was met). None for ``f1`` and ``accuracy``.
    ``trained_on``: how many of the pairs the scored model was trained on (then nothing here
    is out of sample; :func:`choose_threshold` warns).
    """

    threshold: float
    objective: str
    fold_thresholds: list
    table: pd.DataFrame
    pairs: int
    unscored: int
    target: str | None = None
    target_note: str | None = None
    trained_on: int = 0

    def __repr__(self) -> str:
        oos = self.table["out_of_sample"]
        note = f"; {self.target_note}" if self.target_note and self.target != "met" else ""
        if self.trained_on:
            note += f"; NOT out of sample: the model was trained on {self.trained_on:,} of these pairs"
        return (
            f"<ThresholdChoice {self.objective}: keep score >= {self.threshold:.4f}; out of sample "
            f"precision {oos['precision']:.3f}, recall {oos['recall']:.3f}, kept {oos['kept_share']:.1%}{note}>"
        )

    def _repr_html_(self) -> str:
        from html import escape

        return f"<p>{escape(repr(self))}</p>" + self.table._repr_html_()


def choose_threshold(
    scores,
    gold,
    objective: str = "f1",
    *,
    cv: int = 5,
    seed: int = 0,
    label_cut: float | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
) -> ThresholdChoice:
    """Choose a threshold on training folds and judge it on held-out folds.

    Parameters
    ----------
    scores
        One model's scores (a Series or array); NaN scores are left out and counted.
    gold
        Labels: 0/1, or graded (a pair is similar when ``gold >= label_cut``, by default the
        middle of the labels' range); NaN labels are left out.
    objective
        ``"f1"`` (best F1), ``"accuracy"``, ``"precision>=0.95"`` (the threshold keeping the
        most pairs at that precision), ``"recall>=0.9"`` (the highest threshold reaching that
        recall) or ``"keep=0.8"`` (keep that share of pairs).
    cv, seed
        Folds (stratified by label) and their shuffle.
    n_boot, confidence
        Bootstrap resamples of the held-out decisions for the intervals.

    Returns
    -------
    ThresholdChoice
    """
    parse_objective(objective)
    values = np.asarray(pd.to_numeric(pd.Series(list(scores)), errors="coerce"), dtype=np.float64)
    labels = as_gold(gold, len(values))
    if label_cut is None:
        label_cut = default_label_cut(labels)
    usable = ~np.isnan(values) & ~np.isnan(labels)
    x, positive = values[usable], labels[usable] >= label_cut
    if len(np.unique(positive)) < 2:
        raise InputError(f"choosing a threshold needs similar and dissimilar pairs; all {len(x)} are one kind")
    if min(positive.sum(), (~positive).sum()) < cv:
        raise InputError(
            f"{cv}-fold choice needs at least {cv} pairs of each kind; got {int(positive.sum())} similar and "
            f"{int((~positive).sum())} dissimilar (lower cv, or label more pairs)"
        )
    fold = pair_folds(positive.astype(np.float64), cv, seed=seed)
    kept = np.zeros(len(x), dtype=bool)
    fold_thresholds = []
    for k in range(cv):
        train, test = fold != k, fold == k
        t = pick_threshold(x[train], positive[train], objective)
        fold_thresholds.append(t)
        kept[test] = x[test] >= t
    threshold = pick_threshold(x, positive, objective)
    oos = decision_metrics(kept, positive)[0]
    ins = decision_metrics(x >= threshold, positive)[0]
    rng = np.random.default_rng(seed)
    low = high = np.full(len(METRICS), np.nan)
    if n_boot:
        draws = [decision_metrics(kept[idx], positive[idx]) for idx in resamples(np.arange(len(x)), n_boot, rng)]
        low, high = interval(np.concatenate(draws), confidence)
    table = pd.DataFrame(
        {"out_of_sample": oos, "low": low, "high": high, "in_sample": ins}, index=pd.Index(METRICS, name="metric")
    )
    seen = in_sample(scores, "choose_threshold", len(values))  # then chosen and judged on its own training pairs
    target, note = judge_target(objective, table, confidence)
    if target in ("missed", "uncertain"):
        import warnings

        from ..errors import SimwidgetsWarning

        warnings.warn(f"choose_threshold: {note}", SimwidgetsWarning, stacklevel=2)
    return ThresholdChoice(
        threshold,
        str(objective),
        fold_thresholds,
        table,
        int(usable.sum()),
        int((~np.isnan(labels) & np.isnan(values)).sum()),
        target,
        note,
        sum(seen.values()),
    )


def judge_target(objective: str, table: pd.DataFrame, confidence: float = 0.95) -> tuple[str | None, str | None]:
    """Whether an objective's target held out of sample: ``("met" | "uncertain" | "missed",
    words)``, or ``(None, None)`` for an objective without a target (``f1``, ``accuracy``)."""
    kind, value = parse_objective(objective)
    if value is None:
        return None, None
    metric = "kept_share" if kind == "keep" else kind
    row = table.loc[metric]
    got, low, high = float(row["out_of_sample"]), float(row["low"]), float(row["high"])
    shown = f"out of sample {metric} {got:.3f}" + (
        f" [{low:.3f}, {high:.3f}] ({confidence:.0%})" if np.isfinite(low) else ""
    )
    if kind == "keep":  # a share kept is met within its interval, not one-sidedly
        if np.isfinite(low) and not (low <= value <= high):
            return "missed", f"target keep={value:g} missed: {shown}"
        return "met", f"target keep={value:g} met: {shown}"
    if not np.isfinite(got) or got < value:
        return "missed", (
            f"target {metric}>={value:g} missed: {shown}; the threshold chosen on training folds did not "
            "reach it on held-out pairs (label more pairs, or aim lower)"
        )
    if np.isfinite(low) and low < value:
        return "uncertain", (
            f"target {metric}>={value:g} met on the held-out pairs but not surely: {shown}, whose interval "
            "reaches below it (label more pairs for a surer threshold)"
        )
    return "met", f"target {metric}>={value:g} met: {shown}"
