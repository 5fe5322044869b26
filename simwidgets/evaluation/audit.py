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
from .labelling import AUDIT_COLUMNS, AUDIT_DESIGN
from .resampling import interval
from .scored_log import kept_counts, log_parts, log_rows, part_column, part_rows, part_text_column, runner, score_sample

#: Columns an audit sample adds to the rows it draws (the labels file of an audit keeps all but
#: the weight, which is one over the probability).
ROW, STRATUM, SIZE, PROBABILITY = AUDIT_DESIGN
WEIGHT = "audit_weight"
UNSCORED = "unscored"


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
    client=None,
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
    client
        A Dask ``distributed.Client``: each pass over the log is a task per part, run where
        the parts are (default: part by part in this process; memory is one part's either way).

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
    parts = log_parts(scored)
    run = runner(client)
    if bands is None:
        sample = score_sample(scored, score, client=client)
        bands = np.unique(np.quantile(sample, np.linspace(0.1, 0.9, 9))) if sample.size else [0.0]
    edges = sorted(float(b) for b in bands)
    # pass 1, a task per part: each stratum's rows (memory: one part at a time, however long the log)
    counts = run(_count_part, parts, score, edges, by)
    strata: dict[str, int] = {}  # stratum name -> id, in order of first appearance
    for part_counts in counts:
        for name in part_counts:
            strata.setdefault(name, len(strata))
    names = sorted(strata, key=strata.get)
    sizes = np.array([sum(c.get(name, 0) for c in counts) for name in names], dtype=np.int64)
    take = _allocate(sizes, n)
    rng = np.random.default_rng(seed)
    # which of each stratum's rows (by their order in the log) are drawn, then where they fall
    chosen = {name: np.sort(rng.choice(int(sizes[h]), int(take[h]), replace=False)) for h, name in enumerate(names)}
    wanted, seen = [], dict.fromkeys(names, 0)
    for part_counts in counts:
        local = {}
        for name, count in part_counts.items():
            picks = chosen[name]
            inside = picks[(picks >= seen[name]) & (picks < seen[name] + count)] - seen[name]
            if len(inside):
                local[name] = inside
            seen[name] += count
        wanted.append(local)
    # pass 2, a task per part: its drawn rows
    frames = run(_take_part, parts, score, edges, by, per_part=wanted)
    offsets = np.cumsum([0] + [sum(c.values()) for c in counts])
    out = []
    for frame, offset in zip(frames, offsets):
        if len(frame):
            h = np.array([strata[name] for name in frame[STRATUM]], dtype=np.int64)
            frame[ROW] = offset + frame.pop("_row").to_numpy()
            frame[PROBABILITY] = take[h] / sizes[h]
            frame[WEIGHT] = 1.0 / frame[PROBABILITY]
            frame[SIZE] = sizes[h]
            out.append(frame)
    return pd.concat(out, ignore_index=True)


def _stratum_ids(part, score: str, edges, by) -> tuple[np.ndarray, list[str]]:
    """A stratum id per row of one part and the strata's names (in band order, then by slice)."""
    codes, names = _bands(part_column(part, score), edges)
    band_names = [UNSCORED, *names]
    if by is None:  # integers only: a long part's bands are counted at numpy speed
        uniques, inverse = np.unique(codes + 1, return_inverse=True)
        return inverse, [band_names[u] for u in uniques.tolist()]
    slices = part_text_column(part, by)
    pairs = np.array([f"{band_names[c + 1]} · {s}" for c, s in zip(codes.tolist(), slices)], dtype=object)
    uniques, inverse = np.unique(pairs.astype(str), return_inverse=True)
    return inverse, uniques.tolist()


def _count_part(part, score: str, edges, by) -> dict:
    """``{stratum: rows}`` of one part."""
    ids, names = _stratum_ids(part, score, edges, by)
    counts = np.bincount(ids, minlength=len(names))
    return {name: int(c) for name, c in zip(names, counts.tolist()) if c}


def _take_part(part, score: str, edges, by, wanted: dict) -> pd.DataFrame:
    """The rows of one part at ``wanted`` (``{stratum: ordinals of its rows in this part}``),
    every column, with their stratum and position in the part (``_row``)."""
    if not wanted:
        return pd.DataFrame()
    ids, names = _stratum_ids(part, score, edges, by)
    rows, strata = [], []
    for h, name in enumerate(names):
        if name in wanted:
            members = np.flatnonzero(ids == h)
            picked = members[wanted[name]]
            rows.append(picked)
            strata += [name] * len(picked)
    rows = np.concatenate(rows)
    order = np.argsort(rows)
    frame = part_rows(part, rows[order])
    frame[STRATUM] = np.asarray(strata, dtype=object)[order]
    frame["_row"] = rows[order]
    return frame


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
    client=None,
) -> pd.DataFrame:
    """What each threshold keeps and loses on every row of the log.

    Parameters
    ----------
    scored
        The scored log (a ``simwidgets score`` folder, a Parquet file or a frame).
    labels
        The labelled audit: the labels file :class:`~simwidgets.PairLabeler` wrote with
        ``strategy="audit"`` (it keeps each row's stratum and inclusion probability), or the
        audit sample (:func:`audit_sample`) with its ``label`` column filled (a frame or a CSV /
        Parquet file); unlabelled rows (NaN) are left out of their stratum. Scores the audit
        does not hold are read from the log at the audit's rows (so an audit drawn on one
        model's score judges another's thresholds too).
    score, thresholds
        The score column and the thresholds to judge (keep rows scoring at or above).
    good
        A label at or above it is a good pair (default: 0.5 for 0/1 labels, else the middle).
    n_boot, seed, confidence
        The bootstrap within strata for the intervals.
    client
        A Dask ``distributed.Client`` for the pass over the log (a task per part).

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
    audit = labels if isinstance(labels, pd.DataFrame) else read_audit(labels)
    if score not in audit and ROW in audit:
        audit = audit.assign(**{score: log_rows(scored, audit[ROW].to_numpy(np.int64), [score])[score].to_numpy()})
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
    kept, total = kept_counts(scored, score, thresholds, client)
    rows = []
    for t, kept_count in zip(thresholds, kept):
        kept_rows = audit_scores >= t
        point = _estimates(kept_rows.astype(np.float64), is_good, weight)
        row = {
            "threshold": float(t),
            "kept": int(kept_count),  # an unscored row (NaN) is never kept
            "kept_share": float(kept_count / total) if total else float("nan"),
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


def read_audit(path) -> pd.DataFrame:
    """An audit from a file: a labels file of an audit (its last label of each drawn row), or
    a table holding an audit sample."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"audit labels not found: {path}")
    if path.suffix.lower() == ".csv":
        with open(path, encoding="utf-8", errors="replace") as fh:
            header = fh.readline().strip().split(",")
        if header == AUDIT_COLUMNS:
            return audit_labels(path)
    from .datasets import read_table

    return read_table(path)


def audit_labels(path) -> pd.DataFrame:
    """The labelled rows of an audit's labels file (``PairLabeler(..., strategy="audit")``):
    one per drawn row (its last label counts), with ``label`` and the audit's design columns.
    Labels of other strategies in the same file carry no design and are left out."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    design = pd.to_numeric(frame[ROW], errors="coerce").notna()
    frame = frame[design]
    out = pd.DataFrame(
        {
            ROW: frame[ROW].astype(np.int64).to_numpy(),
            STRATUM: frame[STRATUM].to_numpy(),
            SIZE: frame[SIZE].astype(np.float64).to_numpy(),
            PROBABILITY: frame[PROBABILITY].astype(np.float64).to_numpy(),
            "label": pd.to_numeric(frame["label"], errors="coerce").to_numpy(),
            "left": frame["left"].to_numpy(),
            "right": frame["right"].to_numpy(),
        }
    )
    return out.drop_duplicates(ROW, keep="last").reset_index(drop=True)


def with_labels(audit: pd.DataFrame, labels, *, left: str = "left", right: str = "right") -> pd.DataFrame:
    """The audit with a ``label`` column from a labels file (or frame) of
    :class:`~simwidgets.PairLabeler` (``strategy="audit"``), matched by the pair's two texts;
    rows not labelled yet get NaN (left out of the estimates). The labels file of an audit holds
    each row's design too, so :func:`estimate_on_log` also takes the file itself.

    >>> labeler = PairLabeler(audit, "query", "result", strategy="audit", path="audit-labels.csv")  # doctest: +SKIP
    >>> estimate_on_log("scored/", with_labels(audit, "audit-labels.csv", left="query", right="result"),
    ...                 "score_minilm", [0.6, 0.7])                                                   # doctest: +SKIP
    """
    from ..texts import display_text

    for column in (left, right):
        if column not in audit:
            raise NotFoundError(f"column {column!r} not in the audit; its columns are {list(audit.columns)}")
    if isinstance(labels, pd.DataFrame):
        given = labels
    else:
        from pathlib import Path

        from .labelling import LabelStore

        if not Path(labels).expanduser().is_file():
            raise FileNotFoundError(f"labels file not found: {labels}")
        given = LabelStore(labels).frame()
    latest = {}
    for a, b, value in zip(given["left"], given["right"], given["label"]):
        latest[(display_text(a), display_text(b))] = float(value)  # the last label of a pair counts
    out = audit.copy()
    out["label"] = [latest.get((display_text(a), display_text(b)), np.nan) for a, b in zip(audit[left], audit[right])]
    return out
