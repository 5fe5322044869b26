"""frontier: held-out quality against speed measured on this machine."""

from __future__ import annotations

import numpy as np
import pytest

import simwidgets as sw
from simwidgets.evaluation.datasets import read_stsb


@pytest.fixture(scope="module")
def result(test_data):
    dev = read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:240]
    return sw.frontier(
        ["glove-50d", "tfidf-char", "minilm"], dev.left, dev.right, dev.score, folds=3, seconds=1, rows=10**9,
        progress=False, gpu=False,
    )  # fmt: skip


def test_frontier_gives_quality_speed_and_hours_per_candidate(result):
    t = result.table
    assert list(t.index) == ["glove-50d", "tfidf-char", "minilm"]
    assert result.metric == "spearman" and (t["spearman_low"] <= t["spearman"]).all()
    assert (t["texts_per_s_cpu"] > 0).all()
    assert np.allclose(t["hours_cpu"], 1e9 * 2 / t["texts_per_s_cpu"] / 3600)
    assert t.loc["glove-50d", "texts_per_s_cpu"] > 20 * t.loc["minilm", "texts_per_s_cpu"]
    assert t.loc["minilm", "spearman"] > t.loc["glove-50d", "spearman"]
    # on the frontier: no other candidate both better and faster
    for _, row in t.iterrows():
        dominated = ((t["spearman"] > row["spearman"]) & (t["hours_cpu"] <= row["hours_cpu"])).any()
        assert row["on_frontier"] == (not dominated)
    assert "hours for 1,000,000,000 rows" in str(result) and "<table" in result._repr_html_()


def test_frontier_draws_its_chart(result):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    ax = result.plot()
    assert ax.get_xscale() == "log" and "hours" in ax.get_xlabel()
    points = ax.lines[0].get_xydata()  # each candidate drawn at its hours and its metric
    t = result.table
    assert np.allclose(points, np.c_[t["hours_cpu"], t["spearman"]])
    assert [a.get_text() for a in ax.texts] == list(t.index)


def test_frontier_refuses_nonsense_sizes(test_data):
    with pytest.raises(ValueError, match="rows"):
        sw.frontier(["glove-50d"], ["a"], ["b"], [1.0], rows=0)


def test_model_comparison_shows_speed_beside_the_metrics(test_data):
    dev = read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:120].reset_index(drop=True)
    w = sw.ModelComparison(dev, "left", "right", "score", models=["glove-50d", "tfidf"], ensemble=None,
                           n_boot=50, progress=False, speed_rows=10**6)  # fmt: skip
    table = w.table()
    assert {"texts_per_s_cpu", "hours_cpu"} <= set(table.columns)
    assert (table["texts_per_s_cpu"] > 0).all()
    assert np.allclose(table["hours_cpu"], 2e6 / table["texts_per_s_cpu"] / 3600)


def test_an_encoder_trainer_is_timed_at_its_base_and_a_cross_encoder_trainer_is_not():
    from simwidgets.training.frontier import _specs_by_name

    fine, cross = sw.trainers.FineTune("minilm"), sw.trainers.CrossEncoderTrainer("minilm")
    by_name = _specs_by_name([fine, cross, "glove-50d", "ensemble:forest"])
    assert by_name == {"minilm": "minilm", fine.name: "minilm", "glove-50d": "glove-50d"}
