"""Cascade scoring: the cheap model everywhere, the expensive one in a band chosen out of sample."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from simwidgets.batch import score_file
from simwidgets.errors import InputError, OptionError
from simwidgets.evaluation import Cascade, choose_cascade
from simwidgets.evaluation.cascade import OUTSIDE_BAND, fit_band, fit_band_within, in_band, keep_chance
from simwidgets.evaluation.datasets import read_stsb

pytest.importorskip("distributed")


def test_fit_band_is_the_narrowest_band_within_the_budget_by_brute_force():
    rng = np.random.default_rng(3)
    for _ in range(60):
        n = int(rng.integers(5, 40))
        cheap = np.round(rng.random(n), 1)  # ties
        keep = rng.random(n) < cheap  # the expensive model agrees with the cheap one, loosely
        budget = int(rng.integers(0, 4))
        low, high = fit_band(cheap, keep, budget)
        inside = in_band(cheap, low, high)
        decided = np.where(inside, keep, cheap >= high)
        assert (decided != keep).sum() <= budget
        cuts = np.r_[-np.inf, np.unique(cheap), np.inf]
        best = min(
            in_band(cheap, lo, hi).sum()
            for lo in cuts
            for hi in cuts
            if lo <= hi and (np.where(in_band(cheap, lo, hi), keep, cheap >= hi) != keep).sum() <= budget
        )
        assert inside.sum() == best


def test_fit_band_within_leaves_the_fewest_expected_disagreements_within_the_budget_by_brute_force():
    rng = np.random.default_rng(5)
    for _ in range(40):
        n = int(rng.integers(6, 40))
        cheap = np.round(rng.random(n), 1)  # ties
        keep = rng.random(n) < cheap
        max_inside = int(rng.integers(0, n // 2 + 1))
        low, high = fit_band_within(cheap, keep, max_inside)
        inside = in_band(cheap, low, high)
        assert inside.sum() <= max_inside
        chance = keep_chance(cheap, keep)

        def expected(lo, hi, cheap=cheap, chance=chance):
            band = in_band(cheap, lo, hi)
            return chance[~band & (cheap < lo)].sum() + (1 - chance)[~band & (cheap >= hi)].sum()

        cuts = np.r_[-np.inf, np.unique(cheap), np.inf]
        best = min(
            expected(lo, hi) for lo in cuts for hi in cuts if lo <= hi and in_band(cheap, lo, hi).sum() <= max_inside
        )
        assert expected(low, high) == pytest.approx(best, abs=1e-9)


def test_a_call_budget_keeps_a_margin_that_holds_on_pairs_the_band_was_not_fitted_on():
    # the cheap score is the expensive one blurred: the narrowest band that meets max_differ on
    # the labelled pairs lets more differ on new pairs than one that takes a 20% budget
    rng = np.random.default_rng(0)
    expensive = rng.random(6000)
    cheap = expensive + rng.normal(0, 0.04, 6000)
    fit, new = slice(0, 3000), slice(3000, None)
    kwargs = {"scores": (cheap[fit], expensive[fit]), "threshold": 0.5, "max_differ": 0.01}
    narrow = choose_cascade("cheap", "expensive", [], [], **kwargs)
    budget = choose_cascade("cheap", "expensive", [], [], max_calls=0.2, **kwargs)
    keep = expensive[new] >= 0.5

    def judged(cascade):
        decided = cascade.decide(cheap[new], expensive[new])
        return float((decided != keep).mean()), float(cascade.sends(cheap[new]).mean())

    narrow_differ, narrow_calls = judged(narrow)
    budget_differ, budget_calls = judged(budget)
    assert narrow_calls < budget_calls <= 0.22
    assert budget.held_out["calls"] == pytest.approx(0.2, abs=0.02)
    assert budget_differ < narrow_differ and budget_differ <= 0.01
    assert budget.held_out["fitted_share"] is None and budget.max_calls == 0.2
    assert "fitted to 20.0% of the calls" in str(budget)
    # a budget too small to hold max_differ says so
    tight = choose_cascade("cheap", "expensive", [], [], max_calls=0.01, **kwargs)
    assert tight.held_out["differ"] > 0.01 and "widen max_calls" in str(tight)


@pytest.fixture(scope="module")
def sts(test_data):
    dev = read_stsb(test_data / "sts" / "stsb-en-dev.csv")
    return dev.iloc[:900].reset_index(drop=True), dev.iloc[900:1200].reset_index(drop=True)


@pytest.fixture(scope="module")
def cascade(sts):
    labelled, _ = sts
    return choose_cascade("glove-50d", "minilm", labelled.left, labelled.right, labelled.score, max_differ=0.02)


def test_choose_cascade_judges_its_band_on_folds_it_did_not_fit(cascade):
    held = cascade.held_out
    assert held["pairs"] == 900 and held["folds"] == 5
    assert 0 < held["calls"] < 1  # some pairs are spared the expensive model, some are not
    assert held["differ_low"] <= held["differ"] <= held["differ_high"]
    assert held["differ"] <= 0.02  # out of sample, as asked: the band is fitted for a smaller share if need be
    assert 0 <= held["fitted_share"] <= 0.02
    assert cascade.low < cascade.high and 0 < cascade.threshold < 1
    assert "held out" in str(cascade) and "glove-50d" in str(cascade)


def test_a_job_with_a_cascade_calls_the_expensive_model_only_in_the_band_and_decides_as_it_would(
    cascade, sts, tmp_path, client, minilm, glove
):
    from simwidgets import score_pairs

    _, unseen = sts
    log = tmp_path / "log.csv"
    unseen.rename(columns={"left": "query", "right": "result"}).to_csv(log, index=False)
    path = cascade.save(tmp_path / "cascade.json")
    summary = score_file(log, tmp_path / "out", "query", "result", [], cascade=path, client=client, progress=False)
    out = pd.read_parquet(tmp_path / "out")
    assert len(out) == len(unseen) and {"score_glove-50d", "score_minilm", "keep_cascade"} <= set(out.columns)
    sent = cascade.sends(out["score_glove-50d"])
    assert out["score_minilm"][~sent].isna().all() and (out["reason_minilm"][~sent] == OUTSIDE_BAND).all()
    full = score_pairs(unseen.left, unseen.right, minilm)["score_minilm"].to_numpy()
    assert np.allclose(out["score_minilm"][sent], full[sent], atol=1e-5)  # the expensive model's own scores
    everywhere = full >= cascade.threshold
    cheap = out["score_glove-50d"].to_numpy()
    assert (out["keep_cascade"][sent] == everywhere[sent]).all()
    assert (out["keep_cascade"][~sent] == (cheap[~sent] >= cascade.high)).all()
    differ = float((out["keep_cascade"].to_numpy() != everywhere).mean())
    assert differ <= 0.05  # unseen pairs: about the held-out share
    assert summary.scored["minilm"] == int(sent.sum())
    assert f"{int((~sent).sum()):,} calls saved" in str(summary)


def test_a_cascade_file_is_data_only_and_anything_else_is_refused(cascade, tmp_path):
    path = cascade.save(tmp_path / "c.json")
    again = Cascade.load(path)
    assert (again.low, again.high, again.threshold, again.expensive) == (
        cascade.low, cascade.high, cascade.threshold, cascade.expensive
    )  # fmt: skip
    older = json.loads(path.read_text())
    older.pop("max_calls")  # a file written before max_calls existed
    (tmp_path / "older.json").write_text(json.dumps(older))
    assert Cascade.load(tmp_path / "older.json").max_calls is None
    (tmp_path / "other.json").write_text(json.dumps({"cheap": "x"}))
    with pytest.raises(InputError, match="not a cascade file"):
        Cascade.load(tmp_path / "other.json")
    (tmp_path / "bad.json").write_bytes(b"\x80\x81 not json")
    with pytest.raises(InputError, match="not a cascade file"):
        Cascade.load(tmp_path / "bad.json")


def test_choose_cascade_refuses_settings_it_cannot_honour():
    cheap, expensive = np.linspace(0, 1, 40), np.linspace(0, 1, 40) ** 2
    with pytest.raises(OptionError, match="max_differ"):
        choose_cascade("a", "b", [], [], scores=(cheap, expensive), threshold=0.5, max_differ=1.5)
    with pytest.raises(OptionError, match="max_calls"):
        choose_cascade("a", "b", [], [], scores=(cheap, expensive), threshold=0.5, max_calls=0)
    with pytest.raises(OptionError, match="folds"):
        choose_cascade("a", "b", [], [], scores=(cheap, expensive), threshold=0.5, folds=1)
    with pytest.raises(OptionError, match="threshold="):
        choose_cascade("a", "b", [], [], scores=(cheap, expensive))
    with pytest.raises(InputError, match="too few"):
        choose_cascade("a", "b", [], [], scores=(cheap[:6], expensive[:6]), threshold=0.5)
