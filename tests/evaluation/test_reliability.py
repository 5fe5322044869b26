"""Reliability tables and expected calibration error, out of fold."""

import numpy as np
import pandas as pd
import pytest

from simwidgets.evaluation import expected_calibration_error, reliability


def test_ece_by_hand():
    # two bins: predictions 0.1 (observed 0 of 2) and 0.9 (observed 1 of 2)
    assert expected_calibration_error([0.1, 0.1, 0.9, 0.9], [0, 0, 1, 0], bins=2) == pytest.approx(
        (2 * 0.1 + 2 * abs(0.9 - 0.5)) / 4
    )
    assert expected_calibration_error([0.5] * 4, [0, 1, 0, 1], bins=10) == pytest.approx(0.0)


def test_out_of_fold_calibration_closes_the_gap_of_overconfident_scores():
    rng = np.random.default_rng(0)
    n = 5000
    good = rng.random(n) < 0.3
    cosine = np.clip(np.where(good, rng.normal(0.85, 0.05, n), rng.normal(0.75, 0.08, n)), -1, 1)  # all high
    scored = pd.DataFrame({"score_m": cosine})
    table = reliability(scored, good.astype(int))
    ece = table.groupby("kind")["ece"].first()
    assert ece["raw"] > 0.3 and ece["calibrated"] < 0.05  # a raw cosine of 0.8 is no 80% chance
    calibrated = table[table.kind == "calibrated"]
    assert np.allclose(calibrated.predicted, calibrated.observed, atol=0.12)
    assert calibrated.pairs.sum() == n
    with pytest.raises(ValueError, match="good and not-good"):
        reliability(scored, np.ones(n))


def test_per_slice_each_slice_has_its_own_bins_and_ece(test_data, glove):
    from simwidgets import score_pairs
    from simwidgets.readers import read_stsb

    pairs = read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:400]
    scored = score_pairs(pairs.left, pairs.right, [glove])
    table = reliability(scored, pairs.score >= 3, by="length")
    slices = table["slice"].unique().tolist()
    assert slices[0] == "all" and len(slices) > 2
    per = table[(table.kind == "calibrated")].groupby("slice")["pairs"].sum()
    assert per["all"] == per.drop("all").sum() == 400
    with pytest.raises(ValueError, match="needs the pairs' texts"):
        reliability(scored.drop(columns=["left", "right"]), pairs.score >= 3, by="length")
