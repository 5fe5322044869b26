"""Metrics of several models on the same pairs, with a paired bootstrap: every model is
measured on the same resamples, so the difference between two models gets its own interval.

Pairs are resampled within each fold and a resample's metric is the mean of its folds'
metrics (the way a cross-validated figure is reported); with one fold it is the plain paired
bootstrap. A model's unscored pairs (NaN) are left out of its metric, as
:func:`~simwidgets.evaluate_pairs` leaves them out.

>>> import numpy as np
>>> gold = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
>>> scores = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.6, 0.1, 0.5, 0.2, 0.4, 0.3]])
>>> fold_metrics(scores, gold, np.zeros(6, dtype=int), "graded")[:, 0, 0].round(3).tolist()  # spearman
[1.0, -0.257]
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .resampling import resamples

#: The metrics reported for each kind of gold; the first is the one models are ranked by.
METRICS = {"graded": ("spearman", "pearson"), "binary": ("roc_auc", "average_precision")}


def _masked_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise Pearson correlation of ``(B, n)`` arrays, leaving out NaN positions of ``x``."""
    ok = np.isfinite(x) & np.isfinite(y)
    n = ok.sum(axis=1)
    xz, yz = np.where(ok, x, 0.0), np.where(ok, y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = xz.sum(axis=1) / n, yz.sum(axis=1) / n
        dx, dy = np.where(ok, x - mx[:, None], 0.0), np.where(ok, y - my[:, None], 0.0)
        r = (dx * dy).sum(axis=1) / np.sqrt((dx * dx).sum(axis=1) * (dy * dy).sum(axis=1))
    return np.where(n >= 3, r, np.nan)


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks along rows among the finite values; NaN stays NaN."""
    return stats.rankdata(np.where(np.isfinite(x), x, np.nan), axis=1, nan_policy="omit")


def _roc_auc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise ROC-AUC from ranks (Mann-Whitney), ties counted half, as scikit-learn does."""
    ok = np.isfinite(x)
    pos = (y == 1) & ok
    n_pos, n_neg = pos.sum(axis=1), ((y == 0) & ok).sum(axis=1)
    ranks = _ranks(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (np.where(pos, ranks, 0.0).sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)


def _average_precision(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise average precision: the mean, over positives, of the precision at each one's
    rank (pairs with equal scores in input order)."""
    ok = np.isfinite(x)
    order = np.argsort(np.where(ok, -x, np.inf), axis=1, kind="stable")
    ys = np.take_along_axis(np.where(ok, y, 0.0), order, axis=1)
    valid = np.take_along_axis(ok, order, axis=1)
    hits = np.cumsum(ys, axis=1)
    seen = np.cumsum(valid, axis=1)
    n_pos = ys.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ap = (np.where(ys == 1, hits / seen, 0.0)).sum(axis=1) / n_pos
    return np.where(n_pos > 0, ap, np.nan)


def _metric_rows(x: np.ndarray, y: np.ndarray, kind: str) -> np.ndarray:
    """``(B, len(METRICS[kind]))`` metrics of ``B`` resampled rows of scores and gold."""
    if kind == "graded":
        ranked_x, ranked_y = _ranks(x), _ranks(np.where(np.isfinite(x), y, np.nan))
        return np.stack([_masked_pearson(ranked_x, ranked_y), _masked_pearson(x, y)], axis=1)
    return np.stack([_roc_auc(x, y), _average_precision(x, y)], axis=1)


def fold_metrics(scores: np.ndarray, gold: np.ndarray, fold: np.ndarray, kind: str) -> np.ndarray:
    """``(models, folds, metrics)``: each model's metrics on each fold's pairs (``fold`` -1: left out)."""
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    folds = int(fold.max()) + 1
    out = np.full((len(scores), folds, len(METRICS[kind])), np.nan)
    for k in range(folds):
        rows = np.flatnonzero(fold == k)
        for m in range(len(scores)):
            out[m, k] = _metric_rows(scores[m, rows][None, :], gold[rows][None, :], kind)[0]
    return out


def paired_bootstrap(
    scores: np.ndarray, gold: np.ndarray, fold: np.ndarray, kind: str, *, n_boot: int = 1000, seed: int = 0
) -> np.ndarray:
    """``(n_boot, models, metrics)``: the fold-mean metrics of every model on the same resamples.

    Each fold's pairs are resampled with replacement (``n_boot`` times, one draw shared by all
    models), each model's metrics computed per fold and averaged over the folds.
    """
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    rng = np.random.default_rng(seed)
    folds = int(fold.max()) + 1
    total = np.zeros((n_boot, len(scores), len(METRICS[kind])))
    for k in range(folds):
        start = 0
        for take in resamples(np.flatnonzero(fold == k), n_boot, rng):
            y = gold[take]
            for m in range(len(scores)):
                total[start : start + len(take), m] += _metric_rows(scores[m][take], y, kind)
            start += len(take)
    return total / folds
