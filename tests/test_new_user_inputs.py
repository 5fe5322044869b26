"""What a new user reaches for: their own label files and label kinds, base rates beside
best-F1, threshold reports, a stacked model that scores new pairs and is saved safely."""

import numpy as np
import pandas as pd
import pytest

import simwidgets as sw
from simwidgets.cli import main
from simwidgets.evaluation import EnsembleResult, fit_ensemble, load_pairs, read_columns, read_sick

PAIRS = pd.DataFrame(
    {
        "query": ["star wars", "frozen", "zelda", "cat", "taylor swift", "matrix", "halo", "dog"] * 3,
        "result": ["star wars a new hope", "frozen 2", "stock market", "car", "swift album", "reloaded", "x", "dog"]
        * 3,
        "grade": [1, 1, 0, 0, 1, 0.5, 0, 1] * 3,
    }
)


def test_text_labels_and_graded_labels_as_binary_are_explained(glove):
    with pytest.raises(ValueError, match=r"found text: 'similar', 'not'.*gold.map\(\{'not': 0, 'similar': 1\}\)"):
        sw.evaluate_pairs(["a", "b", "c"], ["a", "c", "d"], ["similar", "not", "similar"], ["glove-50d"])
    with pytest.raises(ValueError, match=r"kind='binary' needs labels 0 and 1; found 3 values \(1, 3, 5\)"):
        sw.evaluate_pairs(["cat", "dog", "car"], ["dog", "cat", "bus"], [1, 3, 5], ["glove-50d"], kind="binary")


def test_the_text_label_hint_never_inverts_labels_and_asks_when_names_do_not_say():
    from simwidgets.evaluation.gold import as_gold

    for labels in (["not", "similar", "not"], np.array(["similar", "not"]), ["dissimilar", "similar"]):
        with pytest.raises(ValueError) as caught:
            as_gold(labels, len(labels))
        negative = "not" if "not" in list(labels) else "dissimilar"
        assert f"gold.map({{'{negative}': 0, 'similar': 1}})" in str(caught.value)
        assert "np.str_" not in str(caught.value)
    with pytest.raises(ValueError, match=r"saying which one means similar: gold.map\(\{'A': 1, 'B': 0\}\) or"):
        as_gold(["A", "B"], 2)


def test_binary_results_give_the_base_rate_and_flag_a_keep_all_threshold(glove):
    left, right = ["cat", "dog", "car", "sun", "tree"], ["dog", "cat", "bus", "moon", "leaf"]
    table = sw.evaluate_pairs(left, right, [1, 1, 0, 1, 1], ["glove-50d"], n_boot=0).iloc[0]
    assert table["positive_share"] == 0.8 and table["keep_all_f1"] == pytest.approx(2 * 0.8 / 1.8)
    assert 0 < table["f1_kept_share"] <= 1
    assert table["f1_keeps_all"] == (table["f1_kept_share"] == 1.0)
    if table["f1_keeps_all"]:
        assert table["in_sample_best_f1"] == pytest.approx(table["keep_all_f1"])


def test_threshold_report_counts_and_metrics():
    report = sw.threshold_report([0.9, 0.4, 0.7, None, 0.2], [1, 0, 1, 1, np.nan], [0.5, 0.8])
    first = report.iloc[0]
    assert (first["kept"], first["removed"]) == (2, 3)
    assert first["precision"] == 1.0 and first["recall"] == pytest.approx(2 / 3)
    assert first["good_lost"] == 1 and first["good_lost_share"] == pytest.approx(1 / 3) and first["bad_kept"] == 0
    assert report["threshold"].tolist() == [0.5, 0.8] and report.iloc[1]["kept"] == 1
    with pytest.raises(ValueError, match="graded.*good="):
        sw.threshold_report([0.1, 0.2], [0, 0.5], [0.5])
    graded = sw.threshold_report([0.9, 0.3], [0.5, 0], [0.5], good=0.5)
    assert graded.iloc[0]["recall"] == 1.0
    no_labels = sw.threshold_report([0.9, 0.3], thresholds=[0.5])
    assert list(no_labels.columns) == ["threshold", "kept", "removed", "kept_share"]


def test_threshold_command_on_a_scored_file(tmp_path, capsys):
    path = tmp_path / "scored.csv"
    pd.DataFrame({"score_m": [0.9, 0.4, 0.7], "label": [1, 0, 1]}).to_csv(path, index=False)
    assert main(["threshold", str(path), "--score", "score_m", "--label", "label", "-t", "0.6", "-t", "0.95"]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "0.600" in out and "0.950" in out
    assert main(["threshold", str(path), "--score", "nope"]) == 2
    assert "column 'nope' not in" in capsys.readouterr().err


def test_sick_and_own_columns_and_a_wrong_guess(tmp_path, capsys, glove):
    sick = tmp_path / "SICK_trial.txt"
    sick.write_text(
        "pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment\n"
        "1\tA man plays a guitar\tA person plays music\t4.5\tENTAILMENT\n"
        "2\tA dog runs\tThe stock fell\t1.2\tNEUTRAL\n3\tA cat sleeps\tA kitten naps\t4.1\tNEUTRAL\n"
    )
    pairs = load_pairs(sick)
    assert pairs["score"].tolist() == [4.5, 1.2, 4.1] and pairs["left"][0] == "A man plays a guitar"
    assert read_sick(sick).equals(pairs)
    own = tmp_path / "labels.tsv"
    PAIRS.to_csv(own, sep="\t", index=False)
    mine = read_columns(own, "query", "result", "grade")
    assert mine["score"].tolist() == PAIRS["grade"].tolist() and mine["left"].tolist() == PAIRS["query"].tolist()
    assert (
        main(
            [
                "evaluate",
                str(own),
                "--left",
                "query",
                "--right",
                "result",
                "--label",
                "grade",
                "-m",
                "glove-50d",
                "--bootstrap",
                "0",
            ]
        )
        == 0
    )
    assert "spearman" in capsys.readouterr().out
    PAIRS.to_parquet(tmp_path / "labels.parquet")
    assert (
        read_columns(tmp_path / "labels.parquet", "query", "result", "grade")["score"].tolist()
        == mine["score"].tolist()
    )
    wrong = tmp_path / "mine.txt"  # guessed as word pairs, but it is a three-column CSV
    wrong.write_text("query,result,grade\nstar wars,frozen,1\n")
    assert main(["evaluate", str(wrong), "-m", "glove-50d"]) == 2
    err = capsys.readouterr().err
    assert "guessed as 'wordsim'" in err and "first line is 'query,result,grade'" in err and "--left" in err
    assert main(["evaluate", str(own), "--left", "query"]) == 2


def test_a_stacked_model_scores_new_pairs_and_round_trips_without_pickle(tmp_path, glove):
    scores = sw.score_pairs(PAIRS["query"], PAIRS["result"], ["glove-50d", "tfidf"])
    result = fit_ensemble(scores, PAIRS["grade"], n_estimators=20, cv=3)
    assert {"len_left", "overlap", "oov_left"} <= set(result.features)
    fresh = sw.score_pairs(["star wars", "cat"], ["star wars a new hope", "car"], ["glove-50d", "tfidf"])
    predicted = result.predict(fresh)  # pair features built from the frame's left/right
    assert predicted.shape == (2,) and np.isfinite(predicted).all()
    path = result.save(tmp_path / "stack.skops")
    loaded = EnsembleResult.load(path)
    np.testing.assert_allclose(loaded.predict(fresh), predicted)
    assert loaded.models == ["glove-50d", "tfidf"] and loaded.table.equals(result.table)
    with pytest.raises(KeyError, match=r"needs the score column\(s\) \['score_tfidf'\]"):
        loaded.predict(fresh.drop(columns=["score_tfidf"]))
    from fractions import Fraction

    import skops.io as sio

    sio.dump({"model": Fraction(1, 3), "meta": "{}"}, tmp_path / "foreign.skops")
    with pytest.raises(
        ValueError, match=r"holds types other than those of a stacked model.*refused.*\['fractions.Fraction'\]"
    ):
        EnsembleResult.load(tmp_path / "foreign.skops")


def test_score_adds_the_ensemble_prediction(tmp_path, glove, capsys):
    scores = sw.score_pairs(PAIRS["query"], PAIRS["result"], ["glove-50d", "tfidf"])
    path = fit_ensemble(scores, PAIRS["grade"], n_estimators=20, cv=3).save(tmp_path / "stack.skops")
    source = tmp_path / "pairs.csv"
    PAIRS.assign(query=PAIRS["query"].where(PAIRS.index != 3, "")).to_csv(source, index=False)
    argv = [
        "score",
        str(source),
        "-o",
        str(tmp_path / "out"),
        "--left",
        "query",
        "--right",
        "result",
        "-q",
        "--workers",
        "1",
        "-m",
        "glove-50d",
        "-m",
        "tfidf",
        "--ensemble",
        str(path),
    ]
    assert main(argv) == 0
    out = pd.read_parquet(tmp_path / "out")
    assert out["score_ensemble"].notna().sum() == len(PAIRS) - 1
    assert out["reason_ensemble"].iloc[3] == "no model scored this pair"
    assert main(argv[:-4] + ["-o", str(tmp_path / "out2"), "--ensemble", str(path)]) == 2
    assert "needs the scores of ['glove-50d', 'tfidf']" in capsys.readouterr().err


def test_threshold_tuner_takes_precomputed_scores_and_an_ensemble(glove):
    scores = sw.score_pairs(PAIRS["query"], PAIRS["result"], ["glove-50d", "tfidf"])
    result = fit_ensemble(scores, PAIRS["grade"], n_estimators=20, cv=3)
    frame = pd.concat([PAIRS, scores.drop(columns=["left", "right"])], axis=1)
    tuner = sw.ThresholdTuner(
        frame, "query", "result", label="grade", score_columns=["score_glove-50d"], ensemble=result
    )
    assert tuner.model_names == ["glove-50d", "ensemble"]
    np.testing.assert_allclose(tuner.scores[0], frame["score_glove-50d"], rtol=1e-6)
    np.testing.assert_allclose(tuner.scores[1], result.predict(scores), rtol=1e-5)
    assert np.isnan(tuner.null_scores).all()
    tuner.threshold = 0.5
    assert len(tuner.cleaned()) == int((frame["score_glove-50d"] >= 0.5).sum())


def test_load_model_takes_a_name_for_every_bundled_family(glove):
    assert sw.load_model("glove-50d", name="g2").name == "g2"
    assert sw.load_model("tfidf", name="t2").name == "t2"
    assert sw.load_model("glove-50d?name=g3").name == "g3"


def test_tfidf_pair_scores_use_sparse_rows_and_equal_the_dense_definition(monkeypatch):
    """TF-IDF pairs are scored on sparse rows (no dense 32,768-float vector is ever made),
    with the scores and reasons of the dense cosine."""
    from simwidgets.models import TfidfModel
    from simwidgets.similarity import cosine_matrix

    left = ["star wars", "frozen 2", None, "", "a", "the matrix reloaded", "zelda"]
    right = ["star wars a new hope", "frozen", "x", "cat", "b", "matrix", "qq"]
    dense_model = sw.load_model("tfidf")
    dense_model.fit([t for t in left + right if t])
    expected = [
        float(cosine_matrix(dense_model.embed([a]), dense_model.embed([b]))[0, 0]) if a and b else np.nan
        for a, b in zip(left, right)
    ]

    def no_dense(self, texts):
        raise AssertionError("dense TF-IDF vectors were built for pair scores")

    monkeypatch.setattr(TfidfModel, "embed_batch", no_dense)
    frame = sw.score_pairs(left, right, ["tfidf"])
    np.testing.assert_allclose(frame["score_tfidf"], expected, atol=1e-6)
    reasons = frame["reason_tfidf"].tolist()
    assert reasons[2] == "left: missing text (None or NaN); right: no tokens after tokenization"
    assert reasons[3] == "left: empty or whitespace-only text"
    assert reasons[4] == "left: no tokens after tokenization; right: no tokens after tokenization"
    assert reasons[0] is None and reasons[6] is None


def test_transformer_vectors_can_be_centred(minilm):
    texts = [f"a sentence about topic number {i} and {w}" for i, w in enumerate(["films", "music", "games"] * 9)]
    model = sw.load_model("minilm", centre=1, name="minilm-centred")
    vectors = model.embed(texts)  # fitted on the first texts it embeds
    assert model._centring.fitted and np.abs(vectors.mean(axis=0)).max() < 1e-4
    raw = sw.load_model("minilm").embed(texts)
    assert np.abs(raw.mean(axis=0)).max() > 1e-3


def test_a_worse_stacked_model_says_more_error():
    from simwidgets.evaluation.ensemble import EnsembleResult

    table = pd.DataFrame({"error": [0.100, 0.113]}, index=pd.Index(["minilm", "ensemble (forest)"], name="model"))
    worse = EnsembleResult(None, "forest", "regression", [], table, "minilm", 1 - 0.113 / 0.100, pd.DataFrame(), None)
    assert worse.lift_text() == "13.0% more error than minilm (worse than the best single model)"
    assert "13.0% more error than minilm" in str(worse) and "less error" not in str(worse)
