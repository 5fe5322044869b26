"""Slices of labelled pairs, so one pooled number does not hide where a model fails.

``by`` names how pairs are grouped: ``"length"`` (bins of the pair's word count),
``"oov"`` (bins of the share of words outside GloVe's vocabulary; ``"oov:SPEC"`` for another
model's), a function ``f(lefts, rights) -> one label per pair``, or the labels themselves (a
column such as genre or source).

>>> list(slice_labels("length", ["a b", "a b c d e f"], ["c", "g h i j"], bins=2))
['6 words or fewer', 'more than 6 words']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from .features import pair_features

MISSING = "(no slice label)"


def _bins(values: np.ndarray, edges: list[float], names: list[str]) -> pd.Categorical:
    codes = np.searchsorted(edges, values, side="left")
    present = sorted(set(codes.tolist()))
    return pd.Categorical([names[c] for c in codes], categories=[names[c] for c in present], ordered=True)


def slice_labels(by, left: list, right: list, *, bins: int = 4) -> pd.Categorical:
    """One slice label per pair (see the module docs for what ``by`` may be); the categories
    are in order (bins from low to high, a column's labels as they first appear)."""
    n = len(left)
    if isinstance(by, str) and (by == "length" or by == "oov" or by.startswith("oov:")):
        if by == "length":
            words = pair_features(left, right)[["len_left", "len_right"]].sum(axis=1).to_numpy()
            cuts = sorted({float(np.floor(q)) for q in np.quantile(words, np.linspace(0, 1, bins + 1)[1:-1])})
            names = [f"{int(cuts[0])} words or fewer"]
            names += [
                f"{int(b)} words" if int(a) + 1 == int(b) else f"{int(a) + 1}-{int(b)} words"
                for a, b in zip(cuts[:-1], cuts[1:])
            ]
            names += [f"more than {int(cuts[-1])} words"]
            return _bins(words, cuts, names)
        spec = "glove-50d" if by == "oov" else by.partition(":")[2]
        features = pair_features(left, right, spec)
        share = features[["oov_left", "oov_right"]].mean(axis=1).to_numpy()
        return _bins(
            share, [0.0, 0.25, 0.5], ["no unknown words", "up to 25% unknown", "25-50% unknown", "over 50% unknown"]
        )
    if isinstance(by, str):
        raise InputError(
            f"by={by!r}: give 'length', 'oov', 'oov:SPEC', a function f(lefts, rights) or one label per pair "
            "(a column, e.g. df.genre)"
        )
    labels = by(list(left), list(right)) if callable(by) else by
    labels = pd.Series(list(labels) if not isinstance(labels, pd.Series) else labels.to_numpy(), dtype=object)
    if len(labels) != n:
        raise InputError(f"by gives {len(labels)} slice labels for {n} pairs")
    labels = labels.where(labels.notna(), MISSING).astype(str)
    return pd.Categorical(labels, categories=list(pd.unique(labels)))
