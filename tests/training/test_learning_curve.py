"""learning_curve: each trainer judged out of fold with more and more labels."""

from __future__ import annotations

import numpy as np
import pytest

import simwidgets as sw
from simwidgets.evaluation import read_stsb
from simwidgets.training.learning_curve import labels_for_gain


class Calibrated(sw.trainers.Trainer):
    """A cheap trainer whose quality grows with its labels: GloVe's and TF-IDF's cosines
    combined by a regression fitted on the training pairs."""

    name = "glove+tfidf regression"

    def __init__(self):
        self.sizes = []

    def fit(self, left, right, gold, *, seed=0, gold_range=None, progress=False):
        from sklearn.linear_model import Ridge

        self.sizes.append(len(left))
        features = lambda a, b: sw.score_pairs(a, b, ["glove-50d", "tfidf-char"], progress=False)[  # noqa: E731
            ["score_glove-50d", "score_tfidf-char"]].fillna(0).to_numpy()  # fmt: skip
        model = Ridge(alpha=1.0).fit(features(left, right), gold)
        return sw.extend.PairFunction(lambda a, b: model.predict(features(a, b)), name=self.name)


@pytest.fixture(scope="module")
def sts(test_data):
    return read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:400].reset_index(drop=True)


def test_each_size_is_cross_validated_with_that_many_training_labels(sts):
    trainer = Calibrated()
    curve = sw.learning_curve(["glove-50d", trainer], sts.left, sts.right, sts.score, sizes=[10, 40, 160, 290],
                              folds=4, n_boot=100, progress=False)  # fmt: skip
    table = curve.table
    assert curve.metric == "spearman"
    assert list(table.loc["glove+tfidf regression"].index) == [10, 40, 160, 290]
    assert list(table.loc["glove-50d"].index) == [0]  # off the shelf: one row, no labels used
    assert sorted(set(trainer.sizes)) == [10, 40, 160, 290]
    assert trainer.sizes.count(10) == 4  # a fit per fold at each size
    row = table.loc[("glove+tfidf regression", 290)]
    assert row["spearman_low"] <= row["spearman"] <= row["spearman_high"]
    # ten labels are worse than 290: the curve rises
    assert table.loc[("glove+tfidf regression", 10), "spearman"] < row["spearman"]
    gain = curve.next_gain.loc["glove+tfidf regression"]
    assert gain["labels"] == 290 and gain["spearman"] == row["spearman"]
    assert np.isnan(gain["labels_for_next_gain"]) == (gain["why"] is not None)


def test_the_next_gain_is_read_off_a_power_law_and_sizes_too_big_are_said(sts):
    n = np.array([100, 200, 400, 800])
    needed, why = labels_for_gain(n, 0.9 - 2.0 * n**-0.5)
    assert why is None and needed == pytest.approx((2 / (0.9 - (0.9 - 2 / np.sqrt(800) + 0.01))) ** 2, rel=1e-3)
    flat, why = labels_for_gain(n, np.full(4, 0.7))
    assert np.isnan(flat) and "levels off" in why
    assert "fewer than 3" in labels_for_gain(n[:2], [0.5, 0.6])[1]
    with pytest.warns(sw.SimwidgetsWarning, match="sizes above 29[0-9]"):
        curve = sw.learning_curve([Calibrated()], sts.left, sts.right, sts.score, sizes=[50, 5000], folds=4,
                                  n_boot=0, progress=False)  # fmt: skip
    assert list(curve.table.index.get_level_values("labels")) == [50]
    with pytest.raises(ValueError, match="at least one trainer"):
        sw.learning_curve(["glove-50d"], sts.left, sts.right, sts.score)
