"""The one bootstrap engine of the evaluation room: resamples of rows, drawn a memory-bounded
chunk at a time, and the percentile interval of what was measured on them.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> sum(len(take) for take in resamples(np.arange(5), 450, rng))
450
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np

#: Index entries drawn at a time (resamples x rows): bounds the memory of one chunk.
BUDGET = 20_000_000
#: Resamples drawn at a time, at most.
MOST = 200


def resamples(rows: np.ndarray, n_boot: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """``n_boot`` resamples with replacement of ``rows``, as ``(chunk, len(rows))`` arrays of
    row indices; successive chunks continue one random stream, so the draws do not depend
    on the chunk size's history."""
    rows = np.asarray(rows)
    step = max(1, min(MOST, BUDGET // max(len(rows), 1)))
    for start in range(0, n_boot, step):
        yield rows[rng.integers(0, len(rows), size=(min(step, n_boot - start), len(rows)))]


def interval(values: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval along the first axis, ignoring NaN resamples."""
    tail = (1 - confidence) / 2 * 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN
        return np.nanpercentile(values, tail, axis=0), np.nanpercentile(values, 100 - tail, axis=0)
