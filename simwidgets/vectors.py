"""Vector maths on the bottom floor: numpy only, imported by every layer above.

>>> import numpy as np
>>> normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
array([[0.6, 0.8],
       [0. , 0. ]], dtype=float32)
>>> unit_rows(np.array([[np.nan, np.nan]])).tolist()
[[0.0, 0.0]]
>>> len(content_digest(np.zeros((2, 3), np.float32), {"k": 5}))
32
"""

from __future__ import annotations

import hashlib
import json

import numpy as np


def normalize_rows(x) -> np.ndarray:
    """Rows scaled to unit length, as float32; zero rows stay zero and NaN rows stay NaN."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms > 0, x / np.where(norms > 0, norms, 1), x).astype(np.float32, copy=False)


def unit_rows(x) -> np.ndarray:
    """:func:`normalize_rows` with NaN rows set to zero, C-contiguous float32: the form that
    search indexes and projections take (a zero row matches nothing)."""
    return np.ascontiguousarray(np.nan_to_num(normalize_rows(x)), dtype=np.float32)


def content_digest(array: np.ndarray, params: dict) -> str:
    """A 32-hex-digit key for caching a result computed from ``array`` with ``params``:
    it changes with the parameters, the array's shape and every byte of its content."""
    h = hashlib.blake2b(digest_size=16)
    h.update(json.dumps(params, sort_keys=True).encode())
    h.update(str(array.shape).encode())
    h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()
