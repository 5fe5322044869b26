"""Is model A really better than model B on these pairs? A paired comparison.

Per-model intervals overlap even when one model is better on nearly every resample, because
both models are measured on the same pairs: their errors are correlated. The paired bootstrap
resamples the pairs once for all models and looks at the difference itself.

>>> table = compare_models(sw.score_pairs(df.query, df.result, ["minilm", "glove-50d"]), df.grade)  # doctest: +SKIP
>>> table[["model_a", "model_b", "metric", "diff", "diff_low", "diff_high", "p_a_better", "real"]]   # doctest: +SKIP
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from ..columns import model_of, score_columns
from ..errors import InputError, OptionError
from ..models.trained_pairs import in_sample
from .gold import as_gold, gold_kind
from .paired import METRICS, fold_metrics, paired_bootstrap
from .resampling import interval


def compare_models(scores, gold, *, n_boot: int = 2000, seed: int = 0, kind: str = "auto", confidence: float = 0.95):
    """Every pair of models compared on the same resamples of the labelled pairs.

    Parameters
    ----------
    scores
        A frame with ``score_<model>`` columns (as :func:`~simwidgets.score_pairs` returns), or
        a dict ``{name: scores}``.
    gold
        Human labels: graded (Spearman is compared) or 0/1 (ROC-AUC and average precision).
        Pairs with NaN gold are left out; a model's unscored pairs are left out of its metric.
    n_boot, seed, confidence
        Resamples, their seed, and the interval's confidence.

    Returns
    -------
    pandas.DataFrame
        One row per pair of models (in the order given) and metric: ``model_a``, ``model_b``,
        ``metric``, ``a``, ``b`` (each model's metric), ``diff`` (a - b) with ``diff_low`` and
        ``diff_high``, ``p_a_better`` (share of resamples where A is ahead) and ``real``: True
        when the interval excludes zero.
    """
    if isinstance(scores, pd.DataFrame):
        columns = {model_of(c): scores[c] for c in score_columns(scores.columns)}
    elif isinstance(scores, dict):
        columns = dict(scores)
    else:
        raise OptionError("scores must be a DataFrame with score_<model> columns or a dict {name: scores}")
    if len(columns) < 2:
        raise InputError(f"compare_models needs at least two models' scores, got {list(columns)}")
    n = len(next(iter(columns.values())))
    labels = as_gold(gold, n)
    kind = gold_kind(labels) if kind == "auto" else kind
    if kind not in METRICS:
        raise InputError(f"kind must be 'auto', 'graded' or 'binary', got {kind!r}")
    keep = ~np.isnan(labels)
    if keep.sum() < 3:
        raise InputError(f"compare_models needs at least 3 labelled pairs, got {int(keep.sum())}")
    names = list(columns)
    matrix = np.stack([np.asarray(columns[name], dtype=np.float64)[keep] for name in names])
    y = labels[keep]
    one_fold = np.zeros(len(y), dtype=np.int64)
    point = fold_metrics(matrix, y, one_fold, kind)[:, 0, :]
    boot = paired_bootstrap(matrix, y, one_fold, kind, n_boot=n_boot, seed=seed)
    rows = []
    for (i, a), (j, b) in itertools.combinations(enumerate(names), 2):
        for m, metric in enumerate(METRICS[kind]):
            d = boot[:, i, m] - boot[:, j, m]
            low, high = interval(d, confidence)
            finite = d[np.isfinite(d)]
            rows.append(
                {
                    "model_a": a,
                    "model_b": b,
                    "metric": metric,
                    "a": float(point[i, m]),
                    "b": float(point[j, m]),
                    "diff": float(point[i, m] - point[j, m]),
                    "diff_low": float(low),
                    "diff_high": float(high),
                    "p_a_better": float(np.mean(finite > 0)) if finite.size else np.nan,
                    "real": bool(np.isfinite(low) and (low > 0 or high < 0)),
                }
            )
    table = pd.DataFrame(rows)
    seen = in_sample(scores, "compare_models", len(labels))
    if seen:  # a difference measured on a model's own training pairs is not a real one
        table["in_sample"] = table["model_a"].isin(seen) | table["model_b"].isin(seen)
        table.loc[table["in_sample"], "real"] = False
    return table
