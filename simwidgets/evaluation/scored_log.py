"""A scored log read part by part: a ``simwidgets score`` output folder (its Parquet parts, in
order), one Parquet file or a frame. Every pass over the log holds one part's column at a time,
here or as a task per part on a Dask ``client``, so a billion-row log is never held whole.

>>> import pandas as pd
>>> log = pd.DataFrame({"score_m": [0.2, 0.9, float("nan"), 0.7]})
>>> kept_counts(log, "score_m", [0.5, 0.8])
(array([2, 1]), 4)
>>> float(kth_largest(log, "score_m", 2))
0.7
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, NotFoundError


def log_parts(scored) -> list:
    """The tables of a scored log: a frame, or the Parquet files of a folder (in order)."""
    if isinstance(scored, pd.DataFrame):
        return [scored]
    path = Path(scored).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"scored log not found: {path}")
    if path.is_dir():
        from ..files import check_complete

        check_complete(path)
        files = sorted(path.glob("part-*.parquet")) or sorted(path.glob("*.parquet"))
        if not files:
            raise FileNotFoundError(f"no Parquet parts in {path}")
        return files
    return [path]


def part_series(part, name: str) -> pd.Series:
    """One column of one part of the log (a frame, or a Parquet file read for that column only)."""
    if isinstance(part, pd.DataFrame):
        if name not in part:
            raise NotFoundError(f"column {name!r} not in the scored log; its columns are {list(part.columns)}")
        return part[name]
    import pyarrow.parquet as pq

    names = pq.read_schema(part).names
    if name not in names:
        raise NotFoundError(f"column {name!r} not in {part}; its columns are {names}")
    return pq.read_table(part, columns=[name])[name].to_pandas()


def part_column(part, name: str) -> np.ndarray:
    return pd.to_numeric(part_series(part, name), errors="coerce").to_numpy(np.float64)


def part_text_column(part, name: str) -> np.ndarray:
    return part_series(part, name).astype(str).to_numpy()


def runner(client):
    """``run(function, parts, *same_arguments, per_part=None)``: a task per part on a Dask
    ``client`` (each worker reads its own part), else one after the other here;
    ``per_part`` (one item per part) is each task's last argument."""

    def run(function, parts, *common, per_part=None):
        if client is None:
            return [
                function(part, *common, *([per_part[i]] if per_part is not None else []))
                for i, part in enumerate(parts)
            ]
        extra = [per_part] if per_part is not None else []
        futures = client.map(function, parts, *[[a] * len(parts) for a in common], *extra, pure=False)
        return client.gather(futures)

    return run


def score_sample(scored, score: str, most: int = 1_000_000, client=None) -> np.ndarray:
    """At most about ``most`` finite scores of the log, evenly spaced in each part (for band
    edges and ranges: a billion-row log is never held whole)."""
    parts = log_parts(scored)
    out = runner(client)(_part_sample, parts, score, max(1, most // max(len(parts), 1)))
    return np.concatenate(out) if out else np.zeros(0)


def _part_sample(part, score: str, most: int) -> np.ndarray:
    values = part_column(part, score)
    values = values[np.isfinite(values)]
    return values[:: max(1, len(values) // most)]


def part_rows(part, rows: np.ndarray) -> pd.DataFrame:
    """Every column of the rows ``rows`` of one part."""
    if isinstance(part, pd.DataFrame):
        return part.iloc[rows].reset_index(drop=True)
    import pyarrow.parquet as pq

    return pq.read_table(part).take(rows).to_pandas()


def kept_counts(scored, score: str, thresholds, client=None) -> tuple[np.ndarray, int]:
    """Rows of the log each threshold keeps, and the log's rows: one pass, a task per part."""
    cuts = np.asarray(list(thresholds), dtype=np.float64)
    per_part = runner(client)(_part_kept, log_parts(scored), score, cuts)
    kept = np.sum([k for k, _ in per_part], axis=0) if per_part else np.zeros(len(cuts), dtype=np.int64)
    return kept, int(sum(n for _, n in per_part))


def _part_kept(part, score: str, cuts: np.ndarray) -> tuple[np.ndarray, int]:
    values = part_column(part, score)
    finite = np.sort(values[np.isfinite(values)])
    return len(finite) - np.searchsorted(finite, cuts, side="left"), len(values)


def log_rows(scored, rows: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """``columns`` of the log at positions ``rows`` (0-based over the parts in order), in the
    order given; reads only the parts holding them."""
    rows = np.asarray(rows, dtype=np.int64)
    parts = log_parts(scored)
    if isinstance(parts[0], pd.DataFrame):
        lengths = [len(p) for p in parts]
    else:
        import pyarrow.parquet as pq

        lengths = [pq.ParquetFile(p).metadata.num_rows for p in parts]
    offsets = np.cumsum([0, *lengths])
    if len(rows) and (rows.min() < 0 or rows.max() >= offsets[-1]):
        raise InputError(
            f"the audit names row {int(rows.max())} but the log has {int(offsets[-1])} rows: is it this log's audit?"
        )
    out = pd.DataFrame(index=np.arange(len(rows)), columns=columns, dtype=object)
    which = np.searchsorted(offsets, rows, side="right") - 1
    for p in np.unique(which):
        here = np.flatnonzero(which == p)
        for column in columns:
            values = part_series(parts[p], column).to_numpy()
            out.loc[here, column] = values[rows[here] - offsets[p]]
    return out


def kth_largest(scored, score: str, k: int, *, client=None, most: int = 1_000_000, bins: int = 4096) -> float:
    """The ``k``-th largest finite score of the log (``k`` from 1), exactly, in a few passes:
    a histogram narrows the range holding it until at most ``most`` scores fall there, and
    those are sorted. Memory is one part's column and ``most`` scores, however long the log."""
    parts = log_parts(scored)
    run = runner(client)
    ranges = [r for r in run(_part_range, parts, score) if r[0] <= r[1]]
    count = int(sum(n for *_, n in ranges))
    if not 1 <= k <= count:
        raise InputError(f"k must be between 1 and the log's {count} finite scores, got {k}")
    low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
    above = 0  # scores above ``high`` (none at first)
    while True:
        if low == high:
            return float(low)
        edges = np.unique(np.linspace(low, high, bins + 1))  # a range of a few floats has fewer edges
        last = len(edges) - 2  # the top bin
        counts = np.sum(run(_part_histogram, parts, score, edges), axis=0)
        from_top = above + np.cumsum(counts[::-1])  # scores at or above each bin's low edge, top bin first
        b = last - int(np.searchsorted(from_top, k))  # the bin holding the k-th largest
        above_bin = above + int(counts[b + 1 :].sum())
        if counts[b] <= most or edges[b + 1] <= np.nextafter(edges[b], np.inf):
            inside = np.sort(np.concatenate(run(_part_between, parts, score, edges[b], edges[b + 1], b == last)))
            return float(inside[::-1][k - above_bin - 1])
        top = b == last  # the top bin holds its upper edge, the others stop short of it
        low, high, above = (
            float(edges[b]),
            float(edges[b + 1] if top else np.nextafter(edges[b + 1], -np.inf)),
            above_bin,
        )


def _part_range(part, score: str) -> tuple[float, float, int]:
    values = part_column(part, score)
    values = values[np.isfinite(values)]
    return (float(values.min()), float(values.max()), len(values)) if len(values) else (np.inf, -np.inf, 0)


def _part_histogram(part, score: str, edges: np.ndarray) -> np.ndarray:
    values = part_column(part, score)
    values = values[np.isfinite(values) & (values >= edges[0]) & (values <= edges[-1])]
    return np.histogram(values, bins=edges)[0]


def _part_between(part, score: str, low: float, high: float, closed: bool) -> np.ndarray:
    """Finite scores in ``[low, high)`` (``[low, high]`` for the top bin, as numpy's histogram counts)."""
    values = part_column(part, score)
    inside = (values >= low) & ((values <= high) if closed else (values < high))
    return values[inside]
