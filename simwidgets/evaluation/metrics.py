"""Agreement of score columns with human labels: correlations with intervals, ranking metrics,
thresholds chosen out of sample (one row per ``score_<model>`` column)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..columns import model_of, score_columns
from ..errors import InputError
from ..models.trained_pairs import in_sample
from .gold import as_gold, check_binary, gold_kind
from .threshold_choice import best_thresholds, choose_threshold


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


def _thresholds(x: np.ndarray, y: np.ndarray, *, cv: int, seed: int, n_boot: int) -> dict:
    """Best-F1 and best-accuracy thresholds: chosen out of sample where each class has ``cv``
    pairs (else NaN out-of-sample figures), and the in-sample figures under their own names."""
    inside = best_thresholds(x, y.astype(np.int64))
    row = {f"in_sample_{k}": v for k, v in inside.items()}
    for objective in ("f1", "accuracy"):
        try:
            choice = choose_threshold(x, y, objective, cv=cv, seed=seed, n_boot=n_boot)
        except ValueError:  # too few pairs of one kind for the folds
            row.update({objective: np.nan, f"{objective}_low": np.nan, f"{objective}_high": np.nan})
            row[f"{objective}_threshold"] = inside[f"best_{objective}_threshold"]
            continue
        table = choice.table.loc[objective]
        row[objective], row[f"{objective}_low"], row[f"{objective}_high"] = (
            float(table["out_of_sample"]),
            float(table["low"]),
            float(table["high"]),
        )
        row[f"{objective}_threshold"] = choice.threshold
    row["f1_kept_share"] = float((x >= row["f1_threshold"]).mean())
    row["f1_keeps_all"] = bool(row["f1_kept_share"] >= 1.0)
    return row


def evaluate_scores(
    scores: pd.DataFrame, gold, *, kind: str = "auto", n_boot: int = 1000, seed: int = 0, cv: int = 5
) -> pd.DataFrame:
    """Metrics of every ``score_<model>`` column of ``scores`` against ``gold``.

    Pairs whose gold label is missing are left out of every metric and counted in
    ``gold_missing``; pairs a model could not score are left out of that model's metrics and
    counted in ``unscored_share`` (share of the labelled pairs).

    Graded gold: ``spearman`` and ``pearson`` with bootstrap 95% intervals (``*_low``,
    ``*_high``). Binary gold: ``roc_auc``, ``average_precision``, and thresholds chosen **out
    of sample** (:func:`~simwidgets.choose_threshold`, ``cv`` folds): ``f1_threshold`` (the
    best-F1 threshold on all pairs, the one to use) with ``f1`` (what thresholds chosen on
    training folds scored on the held-out folds) and its interval ``f1_low`` / ``f1_high``;
    the same for ``accuracy``. The flattering in-sample figures stay, named so:
    ``in_sample_best_f1``, ``in_sample_best_f1_threshold``, ``in_sample_best_accuracy``,
    ``in_sample_best_accuracy_threshold``. Beside them the base rate: ``positive_share``
    (share of similar pairs), ``keep_all_f1`` (the F1 of keeping every pair, which a
    threshold must beat to mean anything), ``f1_kept_share`` and ``f1_keeps_all`` (the
    best-F1 threshold keeps every pair: it is no better than no threshold).

    Gold labels must be numbers (text labels such as "similar" are refused with the values
    found and how to map them); ``kind="binary"`` needs labels 0 and 1.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    columns = score_columns(scores.columns)
    if not columns:
        raise InputError("no score_<model> columns to evaluate")
    labels = as_gold(gold, len(scores))
    has_gold = ~np.isnan(labels)
    if not has_gold.any():
        raise InputError("every gold label is missing (NaN)")
    kind = gold_kind(labels) if kind == "auto" else kind
    if kind not in ("graded", "binary"):
        raise InputError(f"kind must be 'auto', 'graded' or 'binary', got {kind!r}")
    if kind == "binary":
        check_binary(labels)
    rows = []
    for column in columns:
        values = scores[column].to_numpy(dtype=np.float64)
        ok = has_gold & ~np.isnan(values)
        row = {
            "model": model_of(column),
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
            row["positive_share"] = float(y.mean()) if len(y) else np.nan
            row["keep_all_f1"] = float(2 * y.mean() / (1 + y.mean())) if len(y) and y.mean() > 0 else 0.0
            if both:
                row.update(_thresholds(x, y, cv=cv, seed=seed, n_boot=n_boot))
        rows.append(row)
    table = pd.DataFrame(rows).set_index("model")
    seen = in_sample(scores, "evaluate_pairs", len(scores))
    if seen:  # figures of a model on its own training pairs: said in the table too
        table["trained_on"] = [seen.get(name, 0) for name in table.index]
    return table
