"""What cleaning rules do to every query of a scored log: results kept and queries left with no
result, exact over every row, read part by part (a ``simwidgets score`` folder, a Parquet file
or a frame; a task per part on a Dask ``client``). The log has no labels, so nDCG and
precision@k stay with the labelled sample (:func:`~simwidgets.evaluation.query_metrics`).

A query's rows may lie in several parts. Two passes give the same rows as
:func:`~simwidgets.evaluation.clean_results` on the whole log: the first finds each query's best
score, the second counts per query the rows at or above ``max(threshold, best - margin)``;
``top=K`` keeps ``min(K, count)`` of them.

>>> import pandas as pd
>>> log = pd.DataFrame({"query": ["halo", "halo", "cars"], "score_m": [0.9, 0.4, 0.3]})
>>> queries_on_log(log, query="query", score="score_m", rules=["threshold=0.5", "top=1"])[
...     ["results_kept", "queries_emptied"]].values.tolist()
[[3, 0], [1, 1], [2, 0]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from .cleaning import parse_rule
from .scored_log import log_parts, part_column, part_series, runner

MISSING = "\x00missing"  # the group of rows without a query, as clean_results groups them


def _rule_cuts(rule) -> tuple[float, float, float]:
    """``(threshold, margin, top)`` of one rule or list of rules that must all hold."""
    rules = [rule] if isinstance(rule, str) else list(rule)
    if not rules:
        raise InputError("give at least one rule")
    threshold, margin, top = -np.inf, np.inf, np.inf
    for kind, value in (parse_rule(r) for r in rules):
        if kind == "threshold":
            threshold = max(threshold, value)
        elif kind == "margin":
            margin = min(margin, value)
        else:
            top = min(top, value)
    return threshold, margin, top


def _queries(part, query: str) -> pd.Series:
    values = part_series(part, query).astype(object)
    return values.where(values.notna(), MISSING).astype(str)


def _part_best(part, query: str, scores: list[str]) -> pd.DataFrame:
    """Per query of one part: its rows and each model's best score (NaN: none scored)."""
    frame = pd.DataFrame({s: part_column(part, s) for s in scores})
    frame["_rows"] = 1
    return frame.groupby(_queries(part, query).to_numpy(), sort=False).agg(
        {"_rows": "sum", **dict.fromkeys(scores, "max")}
    )


def _part_counts(part, query: str, scores: list[str], best: pd.DataFrame, cuts: list) -> pd.DataFrame:
    """Per query of one part, per (model, rule): rows at or above the rule's cut."""
    queries = _queries(part, query).to_numpy()
    out = {}
    for s in scores:
        values = part_column(part, s)
        top_score = best[s].reindex(queries).to_numpy()
        for r, (threshold, margin, _) in enumerate(cuts):
            cut = np.maximum(threshold, top_score - margin - 1e-12)  # clean_results' margin tolerance
            out[(s, r)] = (values >= cut).astype(np.int64)
    return pd.DataFrame(out).groupby(queries, sort=False).sum()


def queries_on_log(scored, *, query: str, score, rules=("threshold=0.5",), client=None) -> pd.DataFrame:
    """Results kept and queries emptied by each rule on every row of a scored log.

    Parameters
    ----------
    scored
        A ``simwidgets score`` output folder (or a Parquet file, or a frame).
    query
        The query column (rows without one form one group, as in ``clean_results``).
    score
        A score column, or a list of them (one block of rows per model).
    rules
        Each a rule or a list of rules of :func:`~simwidgets.evaluation.clean_results`.
    client
        A Dask ``distributed.Client``: each pass is a task per part.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(model, rule)`` (``"before"`` first: every scored result):
        ``results_kept``, ``results_kept_share`` (of the log's rows), ``queries``,
        ``queries_emptied`` and ``queries_emptied_share`` (queries left with no result).
        Memory: one part, and a row per distinct query.
    """
    scores = [score] if isinstance(score, str) else list(score)
    named = ["before", *[r if isinstance(r, str) else " & ".join(r) for r in rules]]
    cuts = [(-np.inf, np.inf, np.inf), *[_rule_cuts(r) for r in rules]]
    parts = log_parts(scored)
    run = runner(client)
    best = pd.concat(run(_part_best, parts, query, scores))
    best = best.groupby(level=0, sort=False).agg({"_rows": "sum", **dict.fromkeys(scores, "max")})
    counts = pd.concat(run(_part_counts, parts, query, scores, best[scores], cuts))
    counts = counts.groupby(level=0, sort=False).sum()
    rows, total = [], int(best["_rows"].sum())
    for s in scores:
        for r, name in enumerate(named):
            kept = np.minimum(counts[(s, r)].to_numpy(), cuts[r][2])
            emptied = int((kept == 0).sum())
            rows.append({
                "model": s, "rule": name, "results_kept": int(kept.sum()),
                "results_kept_share": float(kept.sum() / total) if total else np.nan,
                "queries": len(best), "queries_emptied": emptied,
                "queries_emptied_share": emptied / len(best) if len(best) else np.nan,
            })  # fmt: skip
    return pd.DataFrame(rows).set_index(["model", "rule"])
