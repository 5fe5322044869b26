"""cross_validate: every candidate judged on folds it was not trained on."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import simwidgets as sw
from simwidgets.evaluation import read_stsb
from simwidgets.evaluation.paired import fold_metrics


@pytest.fixture(scope="module")
def sts(test_data) -> pd.DataFrame:
    return read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:200].reset_index(drop=True)


def _overlap(lefts, rights):
    return [
        len(set(a.lower().split()) & set(b.lower().split())) / (1 + len(set(a.lower().split())))
        for a, b in zip(lefts, rights)
    ]


class Memorizer(sw.trainers.Trainer):
    """The worst possible trainer: it learns its training labels by heart (and says the word
    overlap for pairs it has not seen). Any leak of a held-out label shows at once."""

    name = "memorizer"

    def __init__(self):
        self.calls = []

    def fit(self, left, right, gold, *, seed=0, gold_range=None, progress=False):
        self.calls.append(set(zip(left, right)))
        memory = dict(zip(zip(left, right), gold))

        def score(lefts, rights):
            base = _overlap(lefts, rights)
            return [memory.get((a, b), s) for a, b, s in zip(lefts, rights, base)]

        return sw.extend.PairFunction(score, name="memorizer")


def test_no_pair_is_scored_by_a_model_that_saw_its_label(sts):
    memorizer = Memorizer()
    result = sw.cross_validate([memorizer], sts.left, sts.right, sts.score, folds=5, n_boot=0, progress=False)
    folds = result.scores["fold"].to_numpy()
    for k, seen in enumerate(memorizer.calls):  # each fit saw the other folds' pairs only
        held = set(zip(sts.left[folds == k], sts.right[folds == k]))
        assert not held & seen and seen == set(zip(sts.left[folds != k], sts.right[folds != k]))
    # a pair labelled twice (STS-B dev has some) keeps both copies in one fold
    pairs = sts.left + "\x00" + sts.right
    assert (result.scores.groupby(pairs.to_numpy())["fold"].nunique() == 1).all() and pairs.duplicated().any()
    # so its out-of-fold scores are the word overlap, never a memorized label
    np.testing.assert_allclose(result.scores["score_memorizer"], _overlap(sts.left, sts.right))


def test_noise_labels_in_one_fold_do_not_raise_that_folds_score(sts):
    """Labels of fold 0 replaced by noise: a leak would let the memorizer reproduce the noise
    (Spearman 1 on that fold); judged out of sample it scores about zero there."""
    gold = sts.score.to_numpy().copy()
    folds = sw.cross_validate(["tfidf"], sts.left, sts.right, gold, n_boot=0, progress=False).scores["fold"]
    noisy = gold.copy()
    noisy[folds == 0] = np.random.default_rng(1).uniform(0, 5, int((folds == 0).sum()))
    result = sw.cross_validate([Memorizer()], sts.left, sts.right, noisy, folds=5, n_boot=0, progress=False)
    per_fold = result.folds.set_index("fold")["spearman"]
    assert abs(per_fold[0]) < 0.35 and per_fold[1:].min() > 0.3
    # the same memorizer judged in sample (trained on every label) would reach about 1.0 on fold 0
    leaky = np.array(
        Memorizer().fit(list(sts.left), list(sts.right), noisy).score_batch(list(sts.left), list(sts.right))
    )
    assert (
        fold_metrics(leaky[None, :], noisy, folds.to_numpy(), "graded")[0, 0, 0] > 0.95
    )  # (a pair labelled twice: two noises)


def test_the_table_has_intervals_and_paired_differences_against_the_best_off_the_shelf_model(sts):
    result = sw.cross_validate(
        ["glove-50d", "tfidf", "ensemble:forest"], sts.left, sts.right, sts.score, folds=4, n_boot=200, progress=False
    )
    table = result.table
    assert list(table.index) == ["glove-50d", "tfidf", "ensemble (forest)"]
    assert table["type"].tolist() == ["off the shelf", "off the shelf", "stacked"]
    assert result.reference == table.loc[["glove-50d", "tfidf"], "spearman"].idxmax()
    assert table.loc[result.reference, "diff"] == 0 and np.isnan(table.loc[result.reference, "p_better"])
    for name, row in table.iterrows():
        assert row["spearman_low"] <= row["spearman"] <= row["spearman_high"]
        assert row["spearman"] == pytest.approx(result.folds[result.folds.candidate == name]["spearman"].mean())
    other = [n for n in ("glove-50d", "tfidf") if n != result.reference][0]
    assert table.loc[other, "diff_high"] < 0.1 and 0 <= table.loc[other, "p_better"] <= 1
    assert len(result.folds) == 3 * 4 and result.scores.filter(like="score_").notna().all().all()
    # an off-the-shelf model's fold metrics are plain metrics of its scores on that fold's pairs
    fold0 = result.scores[result.scores.fold == 0]
    from scipy import stats

    assert result.folds.iloc[0]["spearman"] == pytest.approx(stats.spearmanr(fold0["score_glove-50d"], fold0.gold)[0])


def test_a_loaded_model_with_its_own_fit_is_a_model_not_a_trainer(sts):
    from simwidgets.models import TfidfModel

    model = TfidfModel()
    model.name = "tf"
    result = sw.cross_validate([model], sts.left, sts.right, sts.score, n_boot=0, progress=False)
    assert result.table.loc["tf", "type"] == "off the shelf"


def test_binary_gold_gets_auc_and_average_precision(sts):
    binary = (sts.score >= 2.5).astype(int)
    result = sw.cross_validate(["tfidf", "glove-50d"], sts.left, sts.right, binary, folds=3, n_boot=100, progress=False)
    assert result.metric == "roc_auc" and {"roc_auc", "average_precision"} <= set(result.table.columns)


def test_groups_keep_a_querys_pairs_in_one_fold(sts):
    groups = sts.index // 4
    result = sw.cross_validate(["tfidf"], sts.left, sts.right, sts.score, groups=groups, n_boot=0, progress=False)
    assert (result.scores.groupby(groups)["fold"].nunique() == 1).all()


def test_bad_input_is_refused(sts):
    with pytest.raises(ValueError, match="at least 10 labelled pairs"):
        sw.cross_validate(["tfidf"], sts.left[:6], sts.right[:6], sts.score[:6], progress=False)
    with pytest.raises(ValueError, match="off-the-shelf"):
        sw.cross_validate(["ensemble:forest"], sts.left, sts.right, sts.score, progress=False)
    with pytest.raises(ValueError, match="ensemble:forest"):
        sw.cross_validate(["ensemble:tree"], sts.left, sts.right, sts.score, progress=False)
    with_nan = sts.score.astype(float).copy()
    with_nan[:5] = np.nan
    result = sw.cross_validate(["tfidf"], sts.left, sts.right, with_nan, n_boot=0, progress=False)
    assert result.table.loc["tfidf", "pairs"] == 195 and (result.scores.fold[:5] == -1).all()


@pytest.mark.filterwarnings("ignore:train_word_vectors.*far too few")
def test_trainers_are_fitted_per_fold(sts, tmp_path, monkeypatch):
    pytest.importorskip("datasets", reason="training needs the [train] extra (datasets, accelerate)")
    monkeypatch.setenv("SIMWIDGETS_CACHE_DIR", str(tmp_path))
    small = sts.iloc[:32]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = sw.cross_validate(
            [
                "minilm",
                sw.trainers.FineTune("minilm", epochs=1, device="cpu"),
                sw.trainers.CrossEncoderTrainer("minilm", epochs=1, max_tokens=48, device="cpu"),
                sw.trainers.WordVectorTrainer("fasttext", dim=16, epochs=2, min_count=1),
            ],
            small.left,
            small.right,
            small.score,
            folds=2,
            n_boot=50,
            progress=False,
        )
    assert result.table["type"].tolist() == ["off the shelf", "trained", "trained", "trained"]
    # each trained candidate against its base on the same resamples, and a warning for one that is worse
    table = result.table
    assert table["base"].fillna("").tolist() == ["", "minilm", "minilm", ""]
    for name in table.index[1:3]:
        low, high = table.loc[name, ["vs_base_low", "vs_base_high"]]
        expected = "yes" if low > 0 else "no: worse" if high < 0 else "not shown"
        assert table.loc[name, "beats_base"] == expected
        assert table.loc[name, "vs_base"] == pytest.approx(table.loc[name, "diff"])  # minilm is the reference
    worse = [str(w.message) for w in caught if "worse than its base" in str(w.message)]
    assert len(worse) == (table["beats_base"] == "no: worse").sum()
    verdict = result.verdict()
    if (table["beats_base"] == "yes").any():
        assert "beat its base 'minilm'" in verdict
    else:
        assert verdict.startswith("none of the 2 trained candidates beat its base")
    assert verdict in str(result) and __import__("html").escape(verdict) in result._repr_html_()
    assert result.reference == "minilm" and result.scores.filter(like="score_").notna().all().all()
    trained = result.table.iloc[1:]  # each against minilm: a real difference only if its interval excludes 0
    assert (trained["real"] == ((trained["diff_low"] > 0) | (trained["diff_high"] < 0))).all()
    assert not result.table["real"].iloc[0]
    assert len(list((tmp_path / "trained").glob("st-*"))) == 2 and len(list((tmp_path / "trained").glob("ce-*"))) == 2


def test_a_cross_encoder_candidate_holds_validation_pairs_out_inside_each_training_fold():
    # the anchored cross-encoder keeps its correction only when pairs it did not train on are sure
    # of it; a fine-tune trains on the whole fold
    cross, fine = sw.trainers.CrossEncoderTrainer("minilm"), sw.trainers.FineTune("minilm")
    assert cross._validation(1000) == pytest.approx(0.1) and fine._validation(1000) == 0
    assert cross._validation(300) == pytest.approx(30 / 300)  # at least 20 pairs
    assert cross._validation(100) == pytest.approx(20 / 100)
    assert cross._validation(59) == 0  # too few to spare 20
