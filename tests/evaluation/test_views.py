"""The library steps the analysis widgets are views over, without a browser or a widget:
scoring a labelled table, the comparison report, the labelling session."""

import numpy as np
import pandas as pd
import pytest

from simwidgets import ModelComparison, ThresholdTuner, score_pairs
from simwidgets.evaluation import evaluate_pairs, evaluate_scores, fit_ensemble
from simwidgets.evaluation.comparison_report import compare_report, disagreements
from simwidgets.evaluation.labelling_session import LabellingSession
from simwidgets.evaluation.scored_pairs import score_table
from simwidgets.readers import read_stsb


@pytest.fixture(scope="module")
def sts(test_data):
    frame = read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:80].reset_index(drop=True)
    frame.loc[3, "left"] = None  # a missing text
    return frame


def test_score_table_one_column_check_one_missing_text_rule_one_label_cut(sts, glove):
    with pytest.raises(KeyError, match=r"column\(s\) \['grade'\] not in pairs_df; its columns are"):
        score_table(sts, "left", "right", "grade", [glove])
    table = score_table(sts, "left", "right", "score", [glove, "tfidf"])
    assert table.names == ["glove-50d", "tfidf"] and table.scores.shape == (2, 80)
    assert table.left[3] == "" and np.isnan(table.scores[:, 3]).all()
    graded = sts.score.to_numpy(float)
    assert table.label_cut == (graded.min() + graded.max()) / 2
    binary = score_table(sts.assign(y=(sts.score >= 3).astype(int)), "left", "right", "y", [glove])
    assert binary.label_cut == 0.5
    # the table the tuner shows is the table scored here
    tuner = ThresholdTuner(sts, "left", "right", "score", models=[glove, "tfidf"], n_null=50)
    assert tuner.left_texts == table.left and np.allclose(tuner.scores, table.scores, equal_nan=True)
    assert tuner.label_cut == table.label_cut


def test_the_stacked_column_is_one_step_for_views_and_the_batch_job(sts, glove):
    scored = score_pairs(sts.left, sts.right, [glove, "tfidf"])
    stacked = fit_ensemble(scored, sts.score, kind="linear", cv=3)
    table = score_table(sts, "left", "right", "score", [glove, "tfidf"], ensemble=stacked)
    prediction, reasons = stacked.predict_column(scored, sts.left, sts.right)
    assert table.names[-1] == "ensemble"
    assert np.allclose(table.scores[-1], prediction, equal_nan=True)
    assert np.isnan(prediction[3]) and reasons[3] == "no model scored this pair" and reasons[0] is None
    with pytest.raises(ValueError, match=r"needs the scores of \['glove-50d', 'tfidf'\]"):
        stacked.predict_column(scored[["left", "right", "score_tfidf"]], sts.left, sts.right)


def test_the_comparison_report_prints_and_is_what_the_widget_shows(sts, glove):
    scored = score_pairs(sts.left, sts.right, [glove, "tfidf"])
    report = compare_report(scored, sts.score, by="length", n_boot=200)
    text = str(report)
    assert text.startswith("models compared: glove-50d, tfidf")
    assert "stacked model (forest)" in text and "spearman" in text
    assert report.table.equals(evaluate_scores(scored, sts.score, n_boot=200))
    assert set(report.curves) == {"glove-50d", "tfidf"}
    assert report.slices["names"][0] == "all"
    assert "calibration error (ECE), raw score -> calibrated out of fold: glove-50d" in text
    assert set(report.calibration["kind"]) == {"raw", "calibrated"}
    by_length = evaluate_pairs(sts.left, sts.right, sts.score, [glove, "tfidf"], by="length", n_boot=0)
    for name in report.slices["names"]:
        ours = report.slices["tables"][name]["spearman"]
        assert np.allclose(ours.to_numpy(), by_length.loc[name]["spearman"].to_numpy(), equal_nan=True)
    rows = disagreements(scored.filter(like="score_").to_numpy().T, 0, 1, n=3)
    assert len(rows) == 3
    widget = ModelComparison(sts, "left", "right", "score", models=[glove, "tfidf"], by="length", n_boot=200)
    assert widget.model_names == report.names
    assert np.allclose(widget.table()["spearman"].to_numpy(float), report.table["spearman"].to_numpy(float))
    assert widget.ensemble["verdict"] == report.stacked.lift_text()


def test_a_labelling_session_labels_skips_and_undoes_on_disk(tmp_path):
    left, right = [f"query {i}" for i in range(40)], [f"result {i}" for i in range(40)]
    scores = np.linspace(0, 1, 40)[None, :]
    path = tmp_path / "labels.csv"
    session = LabellingSession(left, right, scores, ["m"], path=path, strategy="random", seed=1)
    first = session.pair
    session.label(1)
    assert len(pd.read_csv(path)) == 1 and session.last["label"] == "1"
    assert session.pair["row"] != first["row"]
    session.skip()
    assert session.progress()["remaining"] == 38
    session.undo()
    assert len(pd.read_csv(path)) == 0 and session.pair["row"] == first["row"]
    with pytest.raises(ValueError, match="not one of the labels"):
        session.label(0.3)
    for value in (1, 0, 1):
        session.label(value)
    again = LabellingSession(left, right, scores, ["m"], path=path, strategy="random", seed=1)
    assert again.progress()["labelled"] == 3 and again.progress()["random"] == 3
    assert (again.pair["left"], again.pair["right"]) not in set(
        zip(again.store.frame().left, again.store.frame().right)
    )
