"""Cleaning query/result logs with the cut-offs search users ask for, besides a global threshold.

>>> import pandas as pd
>>> log = pd.DataFrame({"query": ["halo", "halo", "halo", "frozen"],
...                     "result": ["Halo (song)", "Halo 3", "Frozen", "Frozen II"],
...                     "score": [0.9, 0.7, 0.2, 0.8]})
>>> clean_results(log, query="query", score="score", rule="top=2")["result"].tolist()
['Halo (song)', 'Halo 3', 'Frozen II']
>>> clean_results(log, query="query", score="score", rule=["margin=0.1", "threshold=0.5"])["result"].tolist()
['Halo (song)', 'Frozen II']
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import InputError, NotFoundError

_RULE = re.compile(r"^\s*(threshold|top|margin)\s*=\s*([0-9.eE+-]+)\s*$")


def parse_rule(rule: str) -> tuple[str, float]:
    match = _RULE.match(str(rule))
    if not match:
        raise InputError(
            f"a rule is 'threshold=T' (keep score >= T), 'top=K' (the K best results of each query) or "
            f"'margin=M' (results within M of their query's best score), got {rule!r}"
        )
    kind, value = match.group(1), float(match.group(2))
    if kind == "top" and (value < 1 or value != int(value)):
        raise InputError(f"top=K needs a whole number K >= 1, got {rule!r}")
    if kind == "margin" and value < 0:
        raise InputError(f"margin=M needs M >= 0, got {rule!r}")
    return kind, value


def clean_results(df: pd.DataFrame, *, query: str, score: str, rule="threshold=0.5", keep_unscored: bool = False):
    """The rows of a query/result table that the rule(s) keep, in their order.

    Parameters
    ----------
    df
        One row per (query, result) pair with a score column.
    query, score
        The query column (results are grouped by it) and the score column.
    rule
        ``"threshold=T"`` (score >= T), ``"top=K"`` (each query's K best results; ties broken
        by row order), ``"margin=M"`` (results within M of their query's best score), or a list
        of rules that must all hold.
    keep_unscored
        Keep rows whose score is missing (NaN); by default they are not kept: a score that
        could not be computed does not vouch for the result.

    Returns
    -------
    pandas.DataFrame
        The kept rows (index kept), with ``rank`` (1 = the query's best result) and ``gap``
        (how far below the query's best score) added.
    """
    for column in (query, score):
        if column not in df:
            raise NotFoundError(f"column {column!r} not in the table; its columns are {list(df.columns)}")
    rules = [rule] if isinstance(rule, str) else list(rule)
    if not rules:
        raise InputError("give at least one rule")
    parsed = [parse_rule(r) for r in rules]
    values = pd.to_numeric(df[score], errors="coerce")
    groups = df[query].astype(object).where(df[query].notna(), "\x00missing")
    rank = values.groupby(groups, sort=False).rank(ascending=False, method="first")
    best = values.groupby(groups, sort=False).transform("max")
    gap = best - values
    keep = np.ones(len(df), dtype=bool)
    for kind, value in parsed:
        if kind == "threshold":
            keep &= (values >= value).to_numpy()
        elif kind == "top":
            keep &= (rank <= value).to_numpy()
        else:
            keep &= (gap <= value + 1e-12).to_numpy()
    unscored = values.isna().to_numpy()
    keep = np.where(unscored, keep_unscored, keep)
    out = df[keep].copy()
    out["rank"] = rank[keep].astype("Int64")
    out["gap"] = gap[keep]
    return out
