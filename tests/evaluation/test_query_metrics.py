"""Per-query cleaning metrics: nDCG@k, precision@k and emptied queries, before and after a rule."""

import numpy as np
import pandas as pd
import pytest

from simwidgets.evaluation import query_metrics


@pytest.fixture()
def log():
    return pd.DataFrame({
        "query": ["halo"] * 3 + ["frozen"] * 2 + ["cars"] * 2,
        "score": [0.9, 0.4, 0.2, 0.8, 0.3, 0.45, 0.35],
        "label": [2, 2, 0, 1, 0, 1, 0],
    })  # fmt: skip


def test_hand_computed_before_and_after_a_threshold(log):
    table = query_metrics(log, query="query", score="score", label="label", rules=["threshold=0.5"], k=2, n_boot=0)
    assert list(table.index) == ["before", "threshold=0.5"]
    d = 1 / np.log2(3)
    # before: halo shows (2, 2): ideal; frozen shows (1, 0): ideal; cars shows (1, 0): ideal
    assert table.loc["before", "ndcg_at_k"] == pytest.approx(1.0)
    assert table.loc["before", "precision_at_k"] == pytest.approx((1 + 0.5 + 0.5) / 3)
    # after: halo keeps only its 0.9 result (gain 2 of an ideal 2 + 2d), frozen keeps its good one, cars none
    halo = 2 / (2 + 2 * d)
    assert table.loc["threshold=0.5", "ndcg_at_k"] == pytest.approx((halo + 1 + 0) / 3)
    assert table.loc["threshold=0.5", "precision_at_k"] == pytest.approx(1.0)  # over the queries with a result
    assert table.loc["threshold=0.5", "queries_emptied"] == pytest.approx(1 / 3)
    assert table.loc["threshold=0.5", "results_kept"] == 2


def test_intervals_come_from_whole_queries_and_hold_the_estimate():
    rng = np.random.default_rng(0)
    queries = np.repeat(np.arange(300), 5)
    good = rng.random(len(queries)) < 0.4
    score = np.where(good, rng.normal(0.7, 0.1, len(queries)), rng.normal(0.4, 0.1, len(queries)))
    frame = pd.DataFrame({"q": queries, "s": score, "y": good.astype(int)})
    table = query_metrics(frame, query="q", score="s", label="y", rules=["threshold=0.55", ["top=2", "margin=0.2"]])
    for rule in table.index:
        for metric in ("ndcg_at_k", "precision_at_k", "queries_emptied"):
            assert table.loc[rule, f"{metric}_low"] <= table.loc[rule, metric] <= table.loc[rule, f"{metric}_high"]
    assert table.loc["threshold=0.55", "precision_at_k"] > table.loc["before", "precision_at_k"]
    assert "top=2 & margin=0.2" in table.index


def test_bad_calls_are_refused(log):
    with pytest.raises(KeyError, match="column 'grade' not in the table"):
        query_metrics(log, query="query", score="score", label="grade")
    with pytest.raises(ValueError, match="no result is labelled good"):
        query_metrics(log.assign(label=0), query="query", score="score", label="label")
    with pytest.raises(ValueError, match="a rule is"):
        query_metrics(log, query="query", score="score", label="label", rules=["best=3"])
