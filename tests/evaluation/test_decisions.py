"""Decisions that hold out of sample: thresholds chosen on training folds, paired model
comparisons, per-slice metrics and the search-log cut-offs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simwidgets as sw
from simwidgets.evaluation import read_stsb
from simwidgets.evaluation.threshold_choice import decision_metrics, pick_threshold


@pytest.fixture(scope="module")
def dev(test_data):
    return read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:400].reset_index(drop=True)


@pytest.fixture(scope="module")
def scores(dev):
    return sw.score_pairs(dev.left, dev.right, ["glove-50d", "tfidf"])


def test_each_objective_picks_what_it_says(dev, scores):
    x = scores["score_tfidf"].to_numpy()
    positive = (dev.score >= 3).to_numpy()
    for p in (0.7, 0.8):
        t = pick_threshold(x, positive, f"precision>={p}")
        kept = x >= t
        assert positive[kept].mean() >= p
        lower = x[x < t].max()  # the next lower threshold would miss the precision
        assert positive[x >= lower].mean() < p
    t = pick_threshold(x, positive, "recall>=0.9")
    assert positive[x >= t].sum() / positive.sum() >= 0.9
    assert positive[x > t].sum() / positive.sum() < 0.9
    assert (x >= pick_threshold(x, positive, "keep=0.25")).mean() == pytest.approx(0.25, abs=0.01)


def test_thresholds_are_chosen_on_training_folds_and_judged_on_held_out_ones(dev, scores):
    similar = (dev.score >= 3).astype(int)
    choice = sw.choose_threshold(scores["score_glove-50d"], similar, "f1", cv=5, n_boot=300)
    assert len(choice.fold_thresholds) == 5 and choice.pairs == 400
    table = choice.table
    assert list(table.index) == ["precision", "recall", "f1", "accuracy", "kept_share"]
    assert ((table.low <= table.out_of_sample) & (table.out_of_sample <= table.high)).all()
    assert table.loc["f1", "out_of_sample"] <= table.loc["f1", "in_sample"]
    # the held-out decisions, recomputed by hand from the fold thresholds
    from simwidgets.evaluation.folds import pair_folds

    fold = pair_folds(similar.astype(float), 5)
    x = scores["score_glove-50d"].to_numpy()
    kept = np.array([x[i] >= choice.fold_thresholds[fold[i]] for i in range(len(x))])
    expected = decision_metrics(kept, similar.to_numpy().astype(bool))[0]
    np.testing.assert_allclose(table.out_of_sample, expected)
    assert "out of sample precision" in repr(choice)
    # graded gold: similar means gold >= label_cut (default: the middle of the range)
    graded = sw.choose_threshold(scores["score_glove-50d"], dev.score, "keep=0.5", label_cut=3, n_boot=0)
    assert graded.table.loc["kept_share", "in_sample"] == pytest.approx(0.5, abs=0.01)


def test_choose_threshold_refuses_what_it_cannot_do(scores):
    x = scores["score_tfidf"]
    with pytest.raises(ValueError, match="objective must be"):
        sw.choose_threshold(x, np.r_[np.ones(200), np.zeros(200)], "precision>=95")
    with pytest.raises(ValueError, match="one kind"):
        sw.choose_threshold(x, np.ones(400), "f1")
    with pytest.raises(ValueError, match="at least 5 pairs of each kind"):
        sw.choose_threshold(x, np.r_[np.ones(3), np.zeros(397)], "f1")


def test_paired_comparison_of_every_pair_of_models(dev, scores):
    table = sw.compare_models(scores, dev.score, n_boot=500)
    assert len(table) == 2 and table.metric.tolist() == ["spearman", "pearson"]
    row = table.iloc[0]
    assert (row.model_a, row.model_b) == ("glove-50d", "tfidf")
    from scipy import stats

    assert row.a == pytest.approx(stats.spearmanr(scores["score_glove-50d"], dev.score).statistic)
    assert row["diff"] == pytest.approx(row.a - row.b) and row.diff_low <= row["diff"] <= row.diff_high
    assert row.real == (row.diff_high < 0 or row.diff_low > 0)
    # a model against itself plus noise: the paired interval is narrow, per-model ones are wide
    noisy = scores["score_tfidf"] + np.random.default_rng(0).normal(0, 0.01, 400)
    same = sw.compare_models({"a": scores["score_tfidf"], "b": noisy}, dev.score, n_boot=500).iloc[0]
    assert same.diff_high - same.diff_low < 0.02 and not same.real
    binary = sw.compare_models(scores, (dev.score >= 3).astype(int), n_boot=200)
    assert binary.metric.tolist() == ["roc_auc", "average_precision"]
    with pytest.raises(ValueError, match="at least two"):
        sw.compare_models(scores[["score_tfidf"]], dev.score)


def test_metrics_per_slice(dev):
    table = sw.evaluate_pairs(dev.left, dev.right, dev.score, ["glove-50d"], by="length", n_boot=0)
    slices = table.index.get_level_values("slice").unique().tolist()
    assert slices[0] == "all" and len(slices) == 5 and slices[1].endswith("words or fewer")
    assert table.loc[slices[1:], "pairs"].sum() == 400
    genre = np.where(np.arange(400) % 2, "news", "captions")
    by_genre = sw.evaluate_pairs(dev.left, dev.right, dev.score, ["glove-50d"], by=genre, n_boot=0)
    news = by_genre.loc[("news", "glove-50d")]
    plain = sw.evaluate_pairs(
        dev.left[genre == "news"], dev.right[genre == "news"], dev.score[genre == "news"], ["glove-50d"], n_boot=0
    ).iloc[0]
    assert news["spearman"] == pytest.approx(plain["spearman"]) and news["pairs"] == 200
    oov = sw.evaluate_pairs(
        ["zxqv blorp", "a cat"] * 5, ["zorklet", "a cat"] * 5, [0, 1] * 5, ["tfidf"], by="oov", n_boot=0
    )
    assert "over 50% unknown" in oov.index.get_level_values("slice")
    with pytest.raises(ValueError, match="slice labels for"):
        sw.evaluate_pairs(dev.left, dev.right, dev.score, ["glove-50d"], by=["a"], n_boot=0)


def test_clean_results_cut_offs():
    log = pd.DataFrame(
        {
            "query": ["halo", "halo", "halo", "frozen", "frozen", None],
            "result": ["Halo (song)", "Halo 3", "Frozen", "Frozen II", "Frozen (film)", "x"],
            "score": [0.9, 0.85, 0.2, 0.8, np.nan, 0.99],
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    top = sw.clean_results(log, query="query", score="score", rule="top=1")
    assert top.index.tolist() == [10, 13, 15] and top["rank"].tolist() == [1, 1, 1]
    margin = sw.clean_results(log, query="query", score="score", rule="margin=0.05")
    assert margin.index.tolist() == [10, 11, 13, 15]
    both = sw.clean_results(log, query="query", score="score", rule=["threshold=0.82", "top=5"])
    assert both.index.tolist() == [10, 11, 15]
    assert 14 in sw.clean_results(log, query="query", score="score", rule="top=1", keep_unscored=True).index
    with pytest.raises(ValueError, match="a rule is"):
        sw.clean_results(log, query="query", score="score", rule="best=2")
    with pytest.raises(KeyError, match="not in the table"):
        sw.clean_results(log, query="q", score="score")


def test_a_target_missed_or_unsure_out_of_sample_is_said_and_warned():
    from simwidgets.errors import SimwidgetsWarning

    rng = np.random.default_rng(0)
    gold = (rng.random(120) < 0.5).astype(float)
    scores = gold * 0.5 + rng.normal(0, 0.5, 120)
    with pytest.warns(SimwidgetsWarning, match=r"target precision>=0.8 missed: out of sample precision 0.724"):
        missed = sw.choose_threshold(scores, gold, "precision>=0.8")
    assert missed.target == "missed" and missed.table.loc["precision", "out_of_sample"] < 0.8
    assert "missed" in repr(missed)
    rng = np.random.default_rng(5)
    gold = (rng.random(120) < 0.5).astype(float)
    scores = gold * 0.5 + rng.normal(0, 0.5, 120)
    with pytest.warns(SimwidgetsWarning, match="met on the held-out pairs but not surely"):
        unsure = sw.choose_threshold(scores, gold, "precision>=0.8")
    row = unsure.table.loc["precision"]
    assert unsure.target == "uncertain" and row["out_of_sample"] >= 0.8 > row["low"]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        met = sw.choose_threshold(scores, gold, "keep=0.3")
        plain = sw.choose_threshold(scores, gold, "f1")
    assert met.target == "met" and plain.target is None and plain.target_note is None
