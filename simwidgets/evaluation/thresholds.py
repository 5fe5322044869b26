"""What a similarity threshold keeps and loses: counts, precision, recall and F1 per threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from .gold import as_gold, gold_kind


def threshold_report(scores, gold=None, thresholds=(0.5,), *, good: float | None = None) -> pd.DataFrame:
    """What each threshold does to a set of scored pairs (the rule: keep ``score >= t``).

    Parameters
    ----------
    scores
        One score per pair (a Series, array or list); NaN scores are never kept.
    gold
        Optional labels: 0/1, or graded with ``good`` saying which labels are good pairs.
        Pairs without a label count in ``kept``/``removed`` but not in the metrics.
    thresholds
        The thresholds to report, in the order given.
    good
        For graded labels: a label >= ``good`` is a good pair (e.g. ``good=0.5`` for
        0 / 0.5 / 1 grades). Binary labels need none.

    Returns
    -------
    pandas.DataFrame
        One row per threshold: ``kept``, ``removed``, ``kept_share`` and, with labels,
        ``precision`` (share of kept pairs that are good), ``recall`` (share of good pairs
        kept), ``f1``, ``good_lost`` (good pairs removed) and ``good_lost_share``
        (``1 - recall``), ``bad_kept``.

    Examples
    --------
    >>> threshold_report(scored["score_minilm"], scored["grade"], [0.6, 0.7], good=0.5)  # doctest: +SKIP
    """
    values = pd.to_numeric(pd.Series(np.asarray(scores, dtype=object).ravel()), errors="coerce").to_numpy(np.float64)
    cuts = [float(t) for t in np.atleast_1d(np.asarray(thresholds, dtype=np.float64))]
    if not cuts:
        raise InputError("give at least one threshold")
    labels = None
    if gold is not None:
        labels = as_gold(gold, len(values))
        if good is None:
            if gold_kind(labels) != "binary":
                found = np.unique(labels[~np.isnan(labels)])
                raise InputError(
                    f"the labels are graded ({', '.join(f'{v:g}' for v in found[:8])}"
                    f"{'...' if len(found) > 8 else ''}): say which are good pairs with good=..., "
                    "e.g. good=0.5 keeps labels >= 0.5 as good"
                )
            good = 1.0
    rows = []
    finite = ~np.isnan(values)
    for cut in cuts:
        kept = finite & (values >= cut)
        row = {
            "threshold": cut,
            "kept": int(kept.sum()),
            "removed": int((~kept).sum()),
            "kept_share": float(kept.mean()) if len(kept) else np.nan,
        }
        if labels is not None:
            labelled = ~np.isnan(labels)
            is_good = labelled & (labels >= good)
            tp = int((kept & is_good).sum())
            kept_labelled = int((kept & labelled).sum())
            n_good = int(is_good.sum())
            precision = tp / kept_labelled if kept_labelled else np.nan
            recall = tp / n_good if n_good else np.nan
            f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
            row.update(
                precision=precision,
                recall=recall,
                f1=f1,
                good_lost=n_good - tp,
                good_lost_share=1 - recall if n_good else np.nan,
                bad_kept=kept_labelled - tp,
            )
        rows.append(row)
    return pd.DataFrame(rows)
