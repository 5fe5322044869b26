"""Agreement of model scores with human labels: correlations, ranking metrics, thresholds."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..similarity import score_pairs


def gold_kind(gold: np.ndarray) -> str:
    """``"binary"`` when the labels are only 0 and 1 (or booleans), else ``"graded"``."""
    values = np.unique(gold[~np.isnan(gold)])
    return "binary" if len(values) and set(values.tolist()) <= {0.0, 1.0} else "graded"


def _as_gold(gold, n: int) -> np.ndarray:
    values = pd.to_numeric(
        pd.Series(list(gold) if not isinstance(gold, pd.Series) else gold.to_numpy()), errors="coerce"
    ).to_numpy(dtype=np.float64)
    if len(values) != n:
        raise ValueError(f"gold has {len(values)} labels for {n} pairs")
    return values


def _spearman(x, y, axis=-1):
    return _pearson(stats.rankdata(x, axis=axis), stats.rankdata(y, axis=axis), axis=axis)


def _pearson(x, y, axis=-1):
    x = x - x.mean(axis=axis, keepdims=True)
    y = y - y.mean(axis=axis, keepdims=True)
    return (x * y).sum(axis=axis) / np.sqrt((x * x).sum(axis=axis) * (y * y).sum(axis=axis))


def _interval(statistic, x, y, n_boot: int, seed: int) -> tuple[float, float]:
    if n_boot <= 0 or len(x) < 3:
        return (np.nan, np.nan)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        # resamples with constant scores (e.g. TF-IDF on single words) give NaN: reported as NaN
        warnings.simplefilter("ignore")
        result = _bootstrap(statistic, x, y, n_boot, seed)
    low, high = result.confidence_interval
    return float(low), float(high)


def _bootstrap(statistic, x, y, n_boot: int, seed: int):
    return stats.bootstrap(
        (x, y),
        statistic,
        paired=True,
        vectorized=True,
        n_resamples=n_boot,
        confidence_level=0.95,
        method="percentile",
        random_state=seed,
    )


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


def evaluate_scores(
    scores: pd.DataFrame, gold, *, kind: str = "auto", n_boot: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Metrics of every ``score_<model>`` column of ``scores`` against ``gold``.

    Pairs whose gold label is missing are left out of every metric and counted in
    ``gold_missing``; pairs a model could not score are left out of that model's metrics and
    counted in ``unscored_share`` (share of the labelled pairs).

    Graded gold: ``spearman`` and ``pearson`` with bootstrap 95% intervals (``*_low``,
    ``*_high``). Binary gold: ``roc_auc``, ``average_precision``, best-F1 and best-accuracy
    thresholds and values.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    columns = [c for c in scores.columns if c.startswith("score_")]
    if not columns:
        raise ValueError("no score_<model> columns to evaluate")
    labels = _as_gold(gold, len(scores))
    has_gold = ~np.isnan(labels)
    if not has_gold.any():
        raise ValueError("every gold label is missing (NaN)")
    kind = gold_kind(labels) if kind == "auto" else kind
    if kind not in ("graded", "binary"):
        raise ValueError(f"kind must be 'auto', 'graded' or 'binary', got {kind!r}")
    rows = []
    for column in columns:
        values = scores[column].to_numpy(dtype=np.float64)
        ok = has_gold & ~np.isnan(values)
        row = {
            "model": column[len("score_") :],
            "pairs": int(has_gold.sum()),
            "scored": int(ok.sum()),
            "unscored_share": float(1 - ok.sum() / has_gold.sum()),
            "gold_missing": int((~has_gold).sum()),
        }
        x, y = values[ok], labels[ok]
        if kind == "graded":
            enough = len(x) >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0
            row["spearman"] = float(stats.spearmanr(x, y).statistic) if enough else np.nan
            row["spearman_low"], row["spearman_high"] = (
                _interval(_spearman, x, y, n_boot, seed) if enough else (np.nan, np.nan)
            )
            row["pearson"] = float(stats.pearsonr(x, y).statistic) if enough else np.nan
            row["pearson_low"], row["pearson_high"] = (
                _interval(_pearson, x, y, n_boot, seed) if enough else (np.nan, np.nan)
            )
        else:
            both = len(np.unique(y)) == 2
            row["roc_auc"] = float(roc_auc_score(y, x)) if both else np.nan
            row["average_precision"] = float(average_precision_score(y, x)) if both else np.nan
            if both:
                row.update(best_thresholds(x, y.astype(np.int64)))
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")


def evaluate_pairs(
    left,
    right,
    gold,
    models=("minilm",),
    *,
    kind: str = "auto",
    n_boot: int = 1000,
    seed: int = 0,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Score labelled pairs with each model and measure agreement with the labels.

    Parameters
    ----------
    left, right
        Texts or words of each pair.
    gold
        Human labels: graded (e.g. 0-10 or 0-5) or binary (0/1). NaN labels are left out.
    models
        Specs, callables or embedders.
    kind
        ``"auto"`` (binary when labels are only 0/1), ``"graded"`` or ``"binary"``.
    n_boot
        Bootstrap resamples for the 95% intervals (0 to skip).

    Returns
    -------
    pandas.DataFrame
        One row per model (see :func:`evaluate_scores` for the columns). For word pairs with
        a word-vector model, pairs with an unknown word are skipped, as gensim's
        ``evaluate_word_pairs`` does, and their share is ``unscored_share``.

    Examples
    --------
    >>> pairs = read_word_pairs("EN-WS-353-ALL.txt")  # doctest: +SKIP
    >>> evaluate_pairs(pairs.left, pairs.right, pairs.score, models=["glove-50d"])  # doctest: +SKIP
    """
    scores = score_pairs(left, right, models, progress=progress)
    return evaluate_scores(scores, gold, kind=kind, n_boot=n_boot, seed=seed)
