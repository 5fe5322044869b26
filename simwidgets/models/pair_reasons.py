"""Why a pair has no score, said once per distinct combination of its two texts' reasons: the
one rule every kind of model (dense, sparse, pair scorer) reports unscored pairs by.

>>> import numpy as np
>>> texts, scored = pair_reasons(np.array([None, "empty text", None], dtype=object), np.array([0, 1]),
...                              np.array([2, 0]), np.array([False, False]))
>>> texts.tolist(), scored.tolist()
([None, 'left: empty text'], [True, False])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ZERO_VECTOR = "zero vector (nothing to compare)"


def pair_reasons(reasons: np.ndarray, left_rows, right_rows, unusable) -> tuple[np.ndarray, np.ndarray]:
    """Why each pair has no score (``"left: why"``, ``"right: why"``, both joined, or the
    zero-vector reason) as an object array, and which pairs are scored.

    ``reasons`` holds one reason (or None) per distinct text; the strings are built once per
    distinct combination of left reason, right reason and unusable vector, then gathered.
    """
    codes, labels = pd.factorize(pd.Series(reasons, dtype=object), use_na_sentinel=True)
    width = len(labels) + 1
    key = ((codes[left_rows] + 1) * width + (codes[right_rows] + 1)) * 2 + unusable
    pair_codes, keys = pd.factorize(key)
    texts = np.empty(len(keys), dtype=object)
    for i, k in enumerate(keys.tolist()):
        both, zero = divmod(k, 2)
        left, right = divmod(both, width)
        if left and right:
            texts[i] = f"left: {labels[left - 1]}; right: {labels[right - 1]}"
        elif left:
            texts[i] = f"left: {labels[left - 1]}"
        elif right:
            texts[i] = f"right: {labels[right - 1]}"
        else:
            texts[i] = ZERO_VECTOR if zero else None
    out = texts[pair_codes]
    return out, key == 0
