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


def test_on_a_score_folder_every_rule_keeps_what_clean_results_keeps_on_the_whole_log(tmp_path):
    from simwidgets.evaluation import clean_results
    from simwidgets.evaluation.query_effects import queries_on_log

    rng = np.random.default_rng(7)
    n = 5_000
    log = pd.DataFrame({
        "query": rng.choice([f"q{i}" for i in range(700)] + [None], n),  # a query's rows fall in several parts
        "score_a": np.round(rng.random(n), 2),  # ties
        "score_b": rng.normal(0.5, 0.2, n),
    })  # fmt: skip
    log.loc[rng.random(n) < 0.03, "score_a"] = np.nan
    folder = tmp_path / "scored"
    folder.mkdir()
    for k, start in enumerate(range(0, n, 900)):
        log.iloc[start : start + 900].to_parquet(folder / f"part-{k:05d}.parquet", index=False)
    rules = [
        "threshold=0.6",
        "top=2",
        "margin=0.1",
        ["threshold=0.4", "top=3"],
        ["margin=0.2", "threshold=0.5", "top=1"],
    ]
    table = query_metrics(folder, query="query", score=["score_a", "score_b"], rules=rules)
    assert table.equals(queries_on_log(log, query="query", score=["score_a", "score_b"], rules=rules))
    queries = log["query"].fillna("\x00missing")
    for s in ("score_a", "score_b"):
        for rule in rules:
            name = rule if isinstance(rule, str) else " & ".join(rule)
            kept = clean_results(log, query="query", score=s, rule=rule)
            row = table.loc[(s, name)]
            assert row["results_kept"] == len(kept)
            assert row["queries_emptied"] == queries.nunique() - queries[kept.index].nunique()
            assert row["results_kept_share"] == pytest.approx(len(kept) / n)
        assert table.loc[(s, "before"), "results_kept"] == log[s].notna().sum()
    with pytest.raises(TypeError, match="label"):
        query_metrics(folder, query="query", score="score_a", label="label")


def test_several_models_give_a_block_each(log):
    log = log.assign(other=log["score"][::-1].to_numpy())
    table = query_metrics(log, query="query", score=["score", "other"], label="label", rules=["top=1"], k=2, n_boot=0)
    assert table.index.names == ["model", "rule"]
    alone = query_metrics(log, query="query", score="other", label="label", rules=["top=1"], k=2, n_boot=0)
    pd.testing.assert_frame_equal(table.loc["other"], alone)
