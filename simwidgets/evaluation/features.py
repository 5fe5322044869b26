"""Cheap features of a pair beside the model scores: token counts, length difference, token
overlap and the share of out-of-vocabulary words. Stacked models learn from them; slices group
pairs by them."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_WORD = re.compile(r"\w+")


def pair_features(left, right, vocabulary=None) -> pd.DataFrame:
    """Cheap features of each pair: token counts, length difference, token overlap (Jaccard),
    and, with a vocabulary (a model spec or :class:`~simwidgets.extend.Vocabulary`), the share of
    out-of-vocabulary tokens on each side. Missing texts count as empty.

    Each distinct text is tokenized once and each distinct pair compared once, so a log whose
    texts and pairs repeat costs what its distinct ones cost."""
    left, right = list(left), list(right)
    n = len(left)
    codes, uniques = pd.factorize(pd.Series(left + right, dtype=object), use_na_sentinel=True)
    m = len(uniques)
    codes = np.where(codes < 0, m, codes)  # a missing text: the empty one, at position m
    tokens = [_WORD.findall(t.lower()) if isinstance(t, str) else [] for t in uniques] + [[]]
    sets = [set(t) for t in tokens]
    counts = np.fromiter(map(len, tokens), dtype=np.float64, count=m + 1)
    left_codes, right_codes = codes[:n].astype(np.int64), codes[n:].astype(np.int64)
    pair_keys, inverse = np.unique(left_codes * (m + 1) + right_codes, return_inverse=True)
    overlap = np.array(
        [
            len(sets[k // (m + 1)] & sets[k % (m + 1)]) / len(sets[k // (m + 1)] | sets[k % (m + 1)])
            if (sets[k // (m + 1)] or sets[k % (m + 1)])
            else 0.0
            for k in pair_keys.tolist()
        ],
        dtype=np.float64,
    )
    features = {
        "len_left": counts[left_codes],
        "len_right": counts[right_codes],
        "len_diff": np.abs(counts[left_codes] - counts[right_codes]),
        "overlap": overlap[np.asarray(inverse).reshape(-1)] if n else np.zeros(0),
    }
    if vocabulary is not None:
        if not hasattr(vocabulary, "lookup"):
            from ..models import load_model

            vocabulary = load_model(vocabulary).vocabulary()

        def oov_share(toks):
            return sum(vocabulary.lookup(t) is None for t in toks) / len(toks) if toks else 1.0

        share = np.fromiter(map(oov_share, tokens), dtype=np.float64, count=m + 1)
        features["oov_left"] = share[left_codes]
        features["oov_right"] = share[right_codes]
    return pd.DataFrame(features, dtype=np.float64)
