"""Folds of labelled pairs, written once for everything that judges out of sample
(:func:`~simwidgets.cross_validate`, thresholds chosen on training folds).

>>> fold = pair_folds([0, 1] * 5 + [float("nan")], folds=5)
>>> fold.tolist()
[2, 0, 0, 2, 1, 1, 3, 4, 4, 3, -1]
>>> [sorted(([0, 1] * 5)[i] for i in range(10) if fold[i] == k) for k in range(5)]  # stratified
[[0, 1], [0, 1], [0, 1], [0, 1], [0, 1]]
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .gold import as_gold


def pair_folds(gold, folds: int = 5, *, seed: int = 0, groups=None) -> np.ndarray:
    """The fold (0 to ``folds - 1``) of each pair; ``-1`` for a pair whose gold is missing.

    Shuffled with ``seed``; stratified by gold value when every value has at least ``folds``
    pairs (0/1 labels, or 0 / 0.5 / 1 grades), so each fold has the label mix of the whole.
    ``groups`` (one key per pair, e.g. the query) keeps all pairs of a group in one fold, so a
    model trained on a query's other results is never judged on that query.
    """
    labels = as_gold(gold, len(gold))
    keep = np.flatnonzero(~np.isnan(labels))
    if not isinstance(folds, (int, np.integer)) or isinstance(folds, bool) or folds < 2:
        raise InputError(f"folds must be a whole number of at least 2, got {folds!r}")
    if len(keep) < 2 * folds:
        raise InputError(f"{folds}-fold cross-validation needs at least {2 * folds} labelled pairs, got {len(keep)}")
    from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

    y = labels[keep]
    values, counts = np.unique(y, return_counts=True)
    stratify = len(values) <= 20 and counts.min() >= folds
    codes = np.searchsorted(values, y)
    if groups is not None:
        keys = np.asarray(list(groups), dtype=object)
        if len(keys) != len(labels):
            raise InputError(f"groups has {len(keys)} keys for {len(labels)} pairs")
        import pandas as pd

        group_codes = pd.factorize(pd.Series(keys[keep]))[0]
        if len(np.unique(group_codes)) < folds:
            raise InputError(f"{folds} folds need at least {folds} groups, got {len(np.unique(group_codes))}")
        if stratify:
            splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
        else:
            splitter = GroupKFold(folds, shuffle=True, random_state=seed)
        splits = splitter.split(keep, codes, group_codes)
    elif stratify:
        splits = StratifiedKFold(folds, shuffle=True, random_state=seed).split(keep, codes)
    else:
        splits = KFold(folds, shuffle=True, random_state=seed).split(keep)
    out = np.full(len(labels), -1, dtype=np.int64)
    for fold, (_, test) in enumerate(splits):
        out[keep[test]] = fold
    return out
