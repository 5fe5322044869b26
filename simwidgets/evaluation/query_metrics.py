"""What cleaning does to each query's results: nDCG@k and precision@k per query before and
after a rule, and the share of queries left with no result, with intervals from a bootstrap
over queries (a query's results stay together: the user's data is query -> results).

>>> import pandas as pd
>>> log = pd.DataFrame({"query": ["halo", "halo", "halo", "frozen", "frozen"],
...                     "result": ["Halo (song)", "Halo 3", "Frozen", "Frozen II", "Cars"],
...                     "score": [0.9, 0.7, 0.2, 0.8, 0.3], "label": [1, 1, 0, 1, 0]})
>>> table = query_metrics(log, query="query", score="score", label="label", rules=["threshold=0.5"], k=2, n_boot=0)
>>> table.loc["threshold=0.5", ["precision_at_k", "ndcg_at_k", "queries_emptied"]].round(3).tolist()
[1.0, 1.0, 0.0]
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import InputError, NotFoundError, OptionError
from .cleaning import clean_results
from .gold import as_gold, default_label_cut
from .resampling import interval


def _per_query(frame: pd.DataFrame, query: str, score: str, gains, good, kept, k: int):
    """Per query: nDCG@k and precision@k of its kept results ranked by score, and whether none
    is kept. nDCG is normalised by the ideal ranking of *all* the query's results, so losing a
    good result costs; precision@k is the share of good results among the kept top k (NaN for
    a query left with none, which is counted apart)."""
    data = pd.DataFrame(
        {"q": frame[query].astype(object).where(frame[query].notna(), "\x00missing").to_numpy(),
         "s": pd.to_numeric(frame[score], errors="coerce").to_numpy(np.float64), "g": gains, "good": good,
         "kept": kept}
    )  # fmt: skip
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ndcg, precision, empty = [], [], []
    for _, group in data.groupby("q", sort=False):
        ideal = np.sort(group["g"].to_numpy())[::-1][:k]
        best = float((ideal * discounts[: len(ideal)]).sum())
        shown = group[group["kept"]].sort_values("s", ascending=False, kind="stable")[:k]
        dcg = float((shown["g"].to_numpy() * discounts[: len(shown)]).sum())
        ndcg.append(dcg / best if best > 0 else np.nan)
        precision.append(float(shown["good"].mean()) if len(shown) else np.nan)
        empty.append(not group["kept"].any())
    return np.array(ndcg), np.array(precision), np.array(empty, dtype=float)


def query_metrics(
    df,
    *,
    query: str,
    score,
    label: str | None = None,
    rules=("threshold=0.5",),
    k: int = 10,
    label_cut: float | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    client=None,
) -> pd.DataFrame:
    """Per-query cleaning metrics of each rule (see :func:`~simwidgets.clean_results`), and
    of keeping every scored result (``"before"``).

    Parameters
    ----------
    df
        One row per (query, result) with a score and a label (graded labels are the gains of
        nDCG; a label at or above ``label_cut`` is a good result for precision@k). Without
        ``label`` (the scored log, a ``simwidgets score`` folder or a frame): what each rule
        keeps and the queries it empties, exact over every row
        (:func:`~simwidgets.evaluation.query_effects.queries_on_log`; ``client`` a Dask client).
    score
        A score column, or a list of them (one block of rows per model, indexed by
        ``(model, rule)``).
    rules
        Each a rule or a list of rules of :func:`~simwidgets.clean_results`
        (``"threshold=0.6"``, ``["top=3", "margin=0.1"]``...).
    k
        The cut-off of nDCG@k and precision@k.

    Returns
    -------
    pandas.DataFrame
        One row per rule (``"before"`` first): ``ndcg_at_k`` (the kept results ranked by score,
        against the ideal ranking of all the query's results), ``precision_at_k`` (the share of
        good results among the kept top k, over the queries left with a result) and
        ``queries_emptied`` (share of queries left with no result), each a mean over queries
        with ``*_low`` / ``*_high`` from a bootstrap over queries, and ``results_kept``.
    """
    if label is None:
        from .query_effects import queries_on_log

        return queries_on_log(df, query=query, score=score, rules=rules, client=client)
    if not isinstance(df, pd.DataFrame):
        raise OptionError(
            "nDCG and precision@k need labels, which a scored log has not: give the labelled sample as a frame, "
            "or leave label out for the log's results kept and queries emptied"
        )
    if not isinstance(score, str):
        common = dict(query=query, label=label, rules=rules, k=k, label_cut=label_cut, n_boot=n_boot, seed=seed,
                      confidence=confidence)  # fmt: skip
        tables = {s: query_metrics(df, score=s, **common) for s in score}
        out = pd.concat(tables, names=["model"])
        out.attrs["k"] = k
        return out
    for column in (query, score, label):
        if column not in df:
            raise NotFoundError(f"column {column!r} not in the table; its columns are {list(df.columns)}")
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    frame = df.reset_index(drop=True)
    gold = as_gold(frame[label], len(frame))
    cut = default_label_cut(gold) if label_cut is None else float(label_cut)
    gains = np.where(np.isfinite(gold), np.clip(gold, 0, None), 0.0)  # graded labels are graded gains
    good = gold >= cut
    if not good.any():
        raise InputError("no result is labelled good: nDCG and precision@k have nothing to find")
    scored = pd.to_numeric(frame[score], errors="coerce").notna().to_numpy()
    choices = [("before", scored)]
    for rule in rules:
        kept = np.zeros(len(frame), dtype=bool)
        kept[clean_results(frame, query=query, score=score, rule=rule).index.to_numpy()] = True
        choices.append((rule if isinstance(rule, str) else " & ".join(rule), kept))
    rows = []
    rng = np.random.default_rng(seed)
    for name, kept in choices:
        per = _per_query(frame, query, score, gains, good, kept, k)
        n = len(per[0])
        row = {"rule": name, "results_kept": int(kept.sum()), "queries": n}
        draws = rng.integers(0, n, size=(n_boot, n)) if n_boot else None
        for metric, values in zip(("ndcg_at_k", "precision_at_k", "queries_emptied"), per):
            row[metric] = float(np.nanmean(values)) if np.isfinite(values).any() else np.nan
            if draws is not None:
                with warnings.catch_warnings():  # a resample of emptied queries only has no precision
                    warnings.simplefilter("ignore", RuntimeWarning)
                    boot = np.nanmean(values[draws], axis=1)
                low, high = interval(boot, confidence)
                row[f"{metric}_low"], row[f"{metric}_high"] = float(low), float(high)
        rows.append(row)
    table = pd.DataFrame(rows).set_index("rule")
    table.attrs["k"] = k
    return table
