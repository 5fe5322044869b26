"""The decision on the whole log: an audit sample drawn from a scored log by score band, and what
a threshold keeps and loses on every row, estimated from the audit's labels with intervals.

A labelled sample that was not drawn from the log by score (or one chosen actively) says
little about the log's precision and recall. An audit sample is: each score band (stratum) of
the log gets its share of the labels, each drawn row carries its inclusion probability, and
stratified (Horvitz-Thompson) estimators weigh each label by the rows it stands for. The kept
count of a threshold is exact (one pass over the scores); precision, recall, F1 and the good
pairs lost are estimated, with a bootstrap within strata for their intervals.

>>> audit = audit_sample("scored/", score="score_minilm", n=400)             # doctest: +SKIP
>>> audit.to_csv("audit.csv")          # label it (a "label" column), then:  # doctest: +SKIP
>>> estimate_on_log("scored/", "audit.csv", score="score_minilm", thresholds=[0.6, 0.7])  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, NotFoundError
from .gold import as_gold, default_label_cut
from .resampling import interval

#: Columns an audit sample adds to the rows it draws.
STRATUM, WEIGHT, PROBABILITY, ROW = "audit_stratum", "audit_weight", "inclusion_probability", "audit_row"
SIZE = "audit_stratum_rows"
UNSCORED = "unscored"


def _parts(scored) -> list:
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


def _column(part, name: str) -> np.ndarray:
    if isinstance(part, pd.DataFrame):
        if name not in part:
            raise NotFoundError(f"column {name!r} not in the scored log; its columns are {list(part.columns)}")
        return pd.to_numeric(part[name], errors="coerce").to_numpy(np.float64)
    import pyarrow.parquet as pq

    names = pq.read_schema(part).names
    if name not in names:
        raise NotFoundError(f"column {name!r} not in {part}; its columns are {names}")
    return pd.to_numeric(pq.read_table(part, columns=[name])[name].to_pandas(), errors="coerce").to_numpy(np.float64)


def log_scores(scored, score: str) -> np.ndarray:
    """Every row's score, in the log's order (one pass over the parts, score column only)."""
    return np.concatenate([_column(part, score) for part in _parts(scored)])


def _bands(values: np.ndarray, bands) -> tuple[np.ndarray, list[str]]:
    """A stratum code per row (-1 unscored) and the strata's names, from band edges."""
    edges = sorted(float(b) for b in bands)
    names = [f"< {edges[0]:g}"] + [f"{a:g} to {b:g}" for a, b in zip(edges[:-1], edges[1:])] + [f">= {edges[-1]:g}"]
    codes = np.searchsorted(edges, values, side="right")
    codes = np.where(np.isfinite(values), codes, -1)
    return codes, names


def audit_sample(
    scored,
    score: str,
    n: int = 400,
    *,
    bands=None,
    by: str | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Draw ``n`` rows of a scored log to label, stratified by score band.

    Parameters
    ----------
    scored
        A ``simwidgets score`` output folder (or a Parquet file, or a frame) holding ``score``.
    score
        The score column, e.g. ``"score_minilm"``.
    n
        Rows to draw (to be labelled).
    bands
        Band edges of the score; default: the deciles of the log's scores. Put edges around
        the candidate thresholds to draw densely where the decision is.
    by
        A column to stratify by as well (a slice: source, language...).
    seed
        The draw's seed.

    Returns
    -------
    pandas.DataFrame
        The drawn rows (every column of the log), with ``audit_row`` (the row's position in
        the log), ``audit_stratum``, ``audit_stratum_rows`` (the stratum's rows in the log),
        ``inclusion_probability`` and ``audit_weight`` (the rows it stands for). Each stratum
        gets an equal share of ``n`` (all its rows when it has fewer); rows without a score
        form the stratum ``"unscored"``. Label it in a ``label`` column, then
        :func:`estimate_on_log`.
    """
    if n < 1:
        raise InputError(f"n must be at least 1, got {n}")
    parts = _parts(scored)
    values = np.concatenate([_column(part, score) for part in parts])
    finite = values[np.isfinite(values)]
    if bands is None:
        bands = np.unique(np.quantile(finite, np.linspace(0.1, 0.9, 9))) if finite.size else [0.0]
    codes, names = _bands(values, bands)
    band_names = [UNSCORED, *names]  # by code + 1
    key = codes + 1
    slice_names = None
    if by is not None:
        slice_codes, slice_names = pd.factorize(np.concatenate([_text_column(part, by) for part in parts]))
        key = key * len(slice_names) + slice_codes
    present, inverse = np.unique(key, return_inverse=True)  # integers: fast on a billion-row log's scores
    if slice_names is None:
        strata = [band_names[k] for k in present.tolist()]
    else:
        width = len(slice_names)
        strata = [f"{band_names[k // width]} · {slice_names[k % width]}" for k in present.tolist()]
    sizes = np.bincount(inverse, minlength=len(strata))
    take = _allocate(sizes, n)
    rng = np.random.default_rng(seed)
    rows, stratum, probability, size = [], [], [], []
    for h, name in enumerate(strata):
        members = np.flatnonzero(inverse == h)
        chosen = np.sort(rng.choice(members, take[h], replace=False)) if take[h] < len(members) else members
        rows.append(chosen)
        stratum += [name] * len(chosen)
        probability += [take[h] / sizes[h]] * len(chosen)
        size += [int(sizes[h])] * len(chosen)
    rows = np.concatenate(rows)
    order = np.argsort(rows)
    sample = _rows(parts, rows[order])
    sample[ROW] = rows[order]
    sample[STRATUM] = np.asarray(stratum, dtype=object)[order]
    sample[PROBABILITY] = np.asarray(probability)[order]
    sample[WEIGHT] = 1.0 / sample[PROBABILITY]
    sample[SIZE] = np.asarray(size, dtype=np.int64)[order]
    return sample.reset_index(drop=True)


def _text_column(part, name: str) -> np.ndarray:
    if isinstance(part, pd.DataFrame):
        if name not in part:
            raise NotFoundError(f"column {name!r} not in the scored log; its columns are {list(part.columns)}")
        return part[name].astype(str).to_numpy()
    import pyarrow.parquet as pq

    return pq.read_table(part, columns=[name])[name].to_pandas().astype(str).to_numpy()


def _allocate(sizes: np.ndarray, n: int) -> np.ndarray:
    """Equal shares of ``n`` over the strata, a stratum taking at most its size; what a small
    stratum cannot take goes to the others."""
    take = np.zeros(len(sizes), dtype=np.int64)
    left, open_ = int(n), np.flatnonzero(sizes > 0)
    while left > 0 and len(open_):
        share = max(1, left // len(open_))
        for h in open_:
            add = min(share, sizes[h] - take[h], left)
            take[h] += add
            left -= add
            if left <= 0:
                break
        open_ = open_[take[open_] < sizes[open_]]
    return take


def _rows(parts, rows: np.ndarray) -> pd.DataFrame:
    """The rows at ``rows`` (positions in the whole log, sorted) of every column."""
    out, offset = [], 0
    for part in parts:
        if isinstance(part, pd.DataFrame):
            frame = part
        else:
            import pyarrow.parquet as pq

            length = pq.read_metadata(part).num_rows
            wanted = rows[(rows >= offset) & (rows < offset + length)] - offset
            if len(wanted):
                out.append(pq.read_table(part).take(wanted).to_pandas())
            offset += length
            continue
        wanted = rows[(rows >= offset) & (rows < offset + len(frame))] - offset
        out.append(frame.iloc[wanted].reset_index(drop=True))
        offset += len(frame)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def _estimates(kept: np.ndarray, good: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """(B, 4) precision, recall, F1 and good pairs lost from weighted labels; kept: (B, n)."""
    good_kept = (weight * good * kept).sum(axis=-1)
    good_total = (weight * good).sum(axis=-1)
    kept_total = (weight * kept).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = good_kept / kept_total
        recall = good_kept / good_total
        f1 = 2 * precision * recall / (precision + recall)
    return np.stack([precision, recall, f1, good_total - good_kept], axis=-1)


def estimate_on_log(
    scored,
    labels,
    score: str,
    thresholds=(0.5,),
    *,
    label: str = "label",
    good: float | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """What each threshold keeps and loses on every row of the log.

    Parameters
    ----------
    scored
        The scored log (a ``simwidgets score`` folder, a Parquet file or a frame).
    labels
        The audit sample (:func:`audit_sample`) with its ``label`` column filled (a frame or a
        CSV / Parquet file); unlabelled rows (NaN) are left out of their stratum.
    score, thresholds
        The score column and the thresholds to judge (keep rows scoring at or above).
    good
        A label at or above it is a good pair (default: 0.5 for 0/1 labels, else the middle).
    n_boot, seed, confidence
        The bootstrap within strata for the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per threshold: ``kept`` and ``kept_share`` (exact, over every row; a row
        without a score is never kept),
        ``precision``, ``recall``, ``f1`` and ``good_lost`` (estimated rows of good pairs
        removed) with ``*_low`` / ``*_high`` intervals, and ``sample_precision`` /
        ``sample_recall``: what the labels would claim unweighted, as if they were a plain
        sample of the log (the difference is why the audit weighs them).
    """
    values = log_scores(scored, score)
    audit = labels if isinstance(labels, pd.DataFrame) else _read(labels)
    for column in (label, STRATUM, SIZE, score):
        if column not in audit:
            raise NotFoundError(
                f"the audit has no {column!r} column (its columns are {list(audit.columns)}): draw it with "
                "audit_sample and fill a label column"
            )
    gold = as_gold(audit[label], len(audit))
    have = np.isfinite(gold)
    if have.sum() < 2:
        raise InputError("fewer than two labelled rows in the audit")
    audit, gold = audit[have].reset_index(drop=True), gold[have]
    cut = default_label_cut(gold) if good is None else float(good)
    is_good = (gold >= cut).astype(np.float64)
    # each stratum's labelled rows stand for all its rows of the log (strata sizes from the log)
    strata = audit[STRATUM].astype(str).to_numpy()
    names, inverse = np.unique(strata, return_inverse=True)
    sizes = dict(zip(strata, audit[SIZE].to_numpy(np.float64)))
    labelled = np.bincount(inverse, minlength=len(names))
    weight = np.array([sizes[names[h]] for h in range(len(names))], dtype=np.float64)[inverse] / labelled[inverse]
    audit_scores = pd.to_numeric(audit[score], errors="coerce").to_numpy(np.float64)
    rng = np.random.default_rng(seed)
    draws = []
    members = [np.flatnonzero(inverse == h) for h in range(len(names))]
    for _ in range(n_boot):
        draws.append(np.concatenate([m[rng.integers(0, len(m), len(m))] for m in members]))
    rows = []
    for t in thresholds:
        kept_rows = audit_scores >= t
        point = _estimates(kept_rows.astype(np.float64), is_good, weight)
        row = {
            "threshold": float(t),
            "kept": int((values >= t).sum()),  # an unscored row (NaN) is never kept
            "kept_share": float((values >= t).mean()),
        }
        if draws:
            idx = np.stack(draws)
            boot = _estimates(kept_rows[idx].astype(np.float64), is_good[idx], weight[idx])
            low, high = interval(boot, confidence)
        else:
            low = high = np.full(4, np.nan)
        for k, name in enumerate(("precision", "recall", "f1", "good_lost")):
            row[name], row[f"{name}_low"], row[f"{name}_high"] = float(point[k]), float(low[k]), float(high[k])
        naive = _estimates(kept_rows.astype(np.float64), is_good, np.ones(len(is_good)))
        row["sample_precision"], row["sample_recall"] = float(naive[0]), float(naive[1])
        rows.append(row)
    table = pd.DataFrame(rows).set_index("threshold")
    table.attrs["labels"] = int(len(audit))
    return table


def _read(path) -> pd.DataFrame:
    from .datasets import read_table

    return read_table(path)
