import numpy as np
import pandas as pd
import pytest

from simwidgets import evaluate_pairs, fit_ensemble, load_model, score_pairs
from simwidgets.evaluation import best_thresholds, calibrate, evaluate_scores, random_pair_scores
from simwidgets.readers import load_pairs, read_mrpc, read_stsb, read_word_pairs
from simwidgets.results import IsotonicCalibrator, PercentileCalibrator


@pytest.mark.parametrize("name", ["EN-WS-353-ALL.txt", "EN-SIMLEX-999.txt", "EN-RG-65.txt", "EN-MC-30.txt"])
def test_word_pairs_match_gensim_evaluate_word_pairs(test_data, glove, name):
    path = test_data / "word-sim" / name
    pairs = read_word_pairs(path)
    ours = evaluate_pairs(pairs.left, pairs.right, pairs.score, models=[glove], n_boot=0)
    pearson, spearman, oov = glove.kv.evaluate_word_pairs(str(path), restrict_vocab=len(glove.kv.index_to_key))
    assert ours.loc["glove-50d", "spearman"] == pytest.approx(spearman.statistic, abs=1e-6)
    assert ours.loc["glove-50d", "pearson"] == pytest.approx(pearson.statistic, abs=1e-6)
    assert ours.loc["glove-50d", "unscored_share"] * 100 == pytest.approx(oov, abs=1e-9)


def test_same_oov_handling_as_gensim_with_a_restricted_vocabulary(test_data):
    """gensim's default restrict_vocab=300000 leaves one SimLex pair out: Spearman 0.263."""
    path = test_data / "word-sim" / "EN-SIMLEX-999.txt"
    pairs = read_word_pairs(path)
    model = load_model("glove-50d", max_vocab=300_000)
    ours = evaluate_pairs(pairs.left, pairs.right, pairs.score, models=[model], n_boot=0).iloc[0]
    pearson, spearman, oov = model.kv.evaluate_word_pairs(str(path))
    assert ours["spearman"] == pytest.approx(spearman.statistic, abs=1e-6)
    assert ours["spearman"] == pytest.approx(0.263, abs=5e-4)
    assert ours["unscored_share"] * 100 == pytest.approx(oov)
    assert ours["scored"] == 998


def test_small_trained_word2vec_with_oov_matches_gensim(word_vector_files, tmp_path):
    kv = word_vector_files["w2v"]
    words = kv.index_to_key[:40]
    rng = np.random.default_rng(0)
    lines = [f"{words[i]}\t{words[j]}\t{rng.uniform(0, 10):.2f}" for i, j in rng.integers(0, 40, (60, 2))]
    lines += ["zzunknown\tthe\t5.0", "the\tqqnotaword\t2.0"]
    path = tmp_path / "pairs.txt"
    path.write_text("\n".join(lines) + "\n")
    pairs = read_word_pairs(path)
    model = load_model(f"word2vec:{word_vector_files['folder'] / 'w2v.bin'}")
    ours = evaluate_pairs(pairs.left, pairs.right, pairs.score, models=[model], n_boot=0).iloc[0]
    pearson, spearman, oov = kv.evaluate_word_pairs(str(path))
    assert ours["spearman"] == pytest.approx(spearman.statistic, abs=1e-6)
    assert ours["unscored_share"] * 100 == pytest.approx(oov)


def test_graded_metrics_have_bootstrap_intervals(glove):
    left = ["cat", "car", "king", "apple", "river", "dog"]
    right = ["kitten", "truck", "queen", "banana", "stream", "puppy"]
    gold = [9, 8, 8, 6, 7, 9]
    out = evaluate_pairs(left, right, gold, models=[glove], n_boot=200).iloc[0]
    assert out["spearman_low"] <= out["spearman"] <= out["spearman_high"]
    assert out["pearson_low"] <= out["pearson"] <= out["pearson_high"]


def test_nan_gold_is_left_out_and_counted(glove):
    out = evaluate_pairs(
        ["cat", "car", "sun", "king"],
        ["dog", "truck", "moon", "queen"],
        [8.0, np.nan, 6.0, 7.0],
        models=[glove],
        n_boot=0,
    ).iloc[0]
    assert out["gold_missing"] == 1 and out["pairs"] == 3
    with pytest.raises(ValueError, match="every gold label is missing"):
        evaluate_pairs(["cat"], ["dog"], [np.nan], models=[glove])
    with pytest.raises(ValueError, match="labels for"):
        evaluate_pairs(["cat", "a"], ["dog", "b"], [1.0], models=[glove])


def test_binary_metrics_and_thresholds(glove):
    scores = np.array([0.9, 0.8, 0.7, 0.4, 0.3, 0.2])
    labels = np.array([1, 1, 0, 1, 0, 0])
    found = best_thresholds(scores, labels)
    assert found["best_accuracy"] == pytest.approx(5 / 6)  # keep scores >= 0.8
    assert found["best_accuracy_threshold"] == pytest.approx(0.8)
    assert found["best_f1"] == pytest.approx(6 / 7)  # keep the top 4: recall 1, precision 3/4
    assert found["best_f1_threshold"] == pytest.approx(0.4)
    frame = pd.DataFrame({"score_m": scores})
    out = evaluate_scores(frame, labels).iloc[0]
    assert out["roc_auc"] == pytest.approx(8 / 9)  # 8 of 9 positive-negative pairs ordered right
    assert {"average_precision", "f1_threshold", "accuracy_threshold", "in_sample_best_f1_threshold"} <= set(out.index)
    assert out["in_sample_best_f1"] == pytest.approx(6 / 7) and out["in_sample_best_f1_threshold"] == pytest.approx(0.4)
    assert np.isnan(out["f1"])  # 3 pairs of each kind: too few for 5 folds, so no out-of-sample figure


def test_evaluate_pairs_reports_thresholds_chosen_out_of_sample(test_data):
    from simwidgets import choose_threshold, evaluate_pairs, score_pairs

    df = read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:300]
    similar = (df.score >= 3).astype(int)
    row = evaluate_pairs(df.left, df.right, similar, models=["glove-50d"], n_boot=200).iloc[0]
    scores = score_pairs(df.left, df.right, ["glove-50d"])["score_glove-50d"]
    choice = choose_threshold(scores, similar, "f1", n_boot=200)
    assert row["f1_threshold"] == choice.threshold == row["in_sample_best_f1_threshold"]
    assert row["f1"] == pytest.approx(choice.table.loc["f1", "out_of_sample"])
    assert row["f1_low"] <= row["f1"] <= row["f1_high"]
    assert row["f1"] <= row["in_sample_best_f1"]  # the in-sample figure flatters


def test_readers_load_the_shipped_sets(test_data):
    ws = read_word_pairs(test_data / "word-sim" / "EN-WS-353-ALL.txt")
    assert len(ws) == 353 and ws.iloc[0].tolist() == ["love", "sex", 6.77]
    assert len(read_word_pairs(test_data / "word-sim" / "EN-SIMLEX-999.txt")) == 999
    sts = read_stsb(test_data / "sts" / "stsb-en-dev.csv")
    assert len(sts) == 1500 and sts.score.between(0, 5).all()
    assert len(load_pairs(test_data / "sts" / "stsb-en-train.csv")) == 5749


def test_the_mrpc_reader_loads_the_paraphrase_corpus(shared_data):
    mrpc = read_mrpc(shared_data / "sts" / "msr-para-train.tsv")
    assert len(mrpc) == 3576 and set(mrpc.score.unique()) == {0, 1}
    assert '"the witness"' in mrpc.left.iloc[0]


def test_malformed_word_pair_lines_name_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("cat\tdog\t5\n# a comment\n\nsun\tmoon\nking\tqueen\t8\n")
    with pytest.raises(ValueError, match="line 4"):
        read_word_pairs(path)
    path.write_text("cat\tdog\t5\nsun\tmoon\tnine\n")
    with pytest.raises(ValueError, match="line 2.*not a number"):
        read_word_pairs(path)
    with pytest.raises(FileNotFoundError):
        read_word_pairs(tmp_path / "missing.txt")
    path.write_text("a,b\n")
    with pytest.raises(ValueError, match="line 1: expected 3 fields"):
        read_stsb(path)


def test_percentile_calibration_makes_thresholds_comparable(glove):
    texts = ["cat", "dog", "car", "sun", "king", "apple", "river", "music", "film", "game"] * 3
    null = random_pair_scores(texts, model=glove, n=300)
    cal = PercentileCalibrator().fit(null)
    assert cal.transform([1.0])[0] == 1.0 and cal.transform([-1.0])[0] == 0.0
    assert np.isnan(cal.transform([np.nan])[0])
    assert cal.transform([cal.inverse(0.5)])[0] == pytest.approx(0.5, abs=0.02)
    frame = score_pairs(texts[:10], texts[1:11], [glove])
    out = calibrate(frame, [glove])
    assert out["score_glove-50d"].between(0, 1).all()


def test_isotonic_calibration_is_monotone():
    cal = IsotonicCalibrator().fit([0.1, 0.2, 0.5, 0.9, np.nan], [0, 0, 1, 1, 1])
    out = cal.transform([0.0, 0.3, 1.0, np.nan])
    assert out[0] == 0 and out[2] == 1 and np.isnan(out[3])
    assert np.all(np.diff(out[:3]) >= 0)


def test_stacked_models_report_lift_and_importances(test_data, glove):
    pairs = read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:400]
    scores = score_pairs(pairs.left, pairs.right, ["glove-50d", "tfidf"])
    forest = fit_ensemble(scores, pairs.score, kind="forest", cv=3, n_estimators=50)
    assert forest.task == "regression"
    assert list(forest.table.index) == ["glove-50d", "tfidf", "ensemble (forest)"]
    assert forest.best_single in ("glove-50d", "tfidf")
    assert forest.lift == pytest.approx(1 - forest.table["error"].iloc[-1] / forest.table["error"].iloc[:-1].min())
    assert forest.lift > 0  # the scores plus pair features beat either model alone here
    low, high = forest.lift_interval  # a paired bootstrap of the out-of-fold errors
    assert low < forest.lift < high and forest.real == (low > 0 or high < 0)
    assert f"[{100 * low:+.1f}%, {100 * high:+.1f}%]" in forest.lift_text()
    assert {"score_glove-50d", "overlap", "oov_left"} <= set(forest.importances["feature"])
    assert forest.importances["impurity"].sum() == pytest.approx(1.0, abs=0.05)
    linear = fit_ensemble(scores, pairs.score, kind="linear", cv=3)
    assert "coefficient" in linear.importances and len(linear.cv_predictions) == 400
    assert linear.predict(
        pd.concat(
            [
                scores.reset_index(drop=True)[["score_glove-50d", "score_tfidf"]],
                pd.DataFrame(0.0, index=range(400), columns=linear.features[2:]),
            ],
            axis=1,
        )
    ).shape == (400,)


def test_a_stacked_model_no_better_than_its_best_model_says_so_with_its_interval():
    rng = np.random.default_rng(0)
    gold = rng.uniform(size=200)
    scores = pd.DataFrame({"score_a": gold + rng.normal(0, 0.3, 200), "score_b": rng.uniform(size=200)})
    result = fit_ensemble(scores, gold, kind="linear", cv=3, pair_features_on=False)
    low, high = result.lift_interval
    assert low < 0 < high and not result.real  # one useful score: stacking adds nothing real
    assert result.lift_text().endswith("not a real difference on these pairs")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        loaded = type(result).load(result.save(Path(folder) / "stack.skops"))
    assert loaded.lift_interval == pytest.approx(result.lift_interval) and loaded.real == result.real


def test_ensemble_binary_and_bad_input(glove):
    rng = np.random.default_rng(0)
    scores = pd.DataFrame({"score_a": rng.uniform(size=60), "score_b": rng.uniform(size=60)})
    gold = (scores.score_a + 0.1 * rng.normal(size=60) > 0.5).astype(int)
    scores.loc[3, "score_b"] = np.nan  # an unscored pair is imputed, not dropped
    result = fit_ensemble(scores, gold, kind="linear", cv=3)
    assert result.task == "classification" and "roc_auc" in result.table
    with pytest.raises(ValueError, match="score_"):
        fit_ensemble(pd.DataFrame({"x": [1.0] * 20}), [0, 1] * 10)
    with pytest.raises(ValueError, match="kind"):
        fit_ensemble(scores, gold, kind="boosting")


def test_percentile_calibration_says_when_nearly_every_pair_is_related(glove):
    """A search log's pairs are nearly all related: most sit above the random pairs' 99th
    percentile, percentiles then tell little, and the calibration says so and points to
    the isotonic calibrator."""
    from simwidgets import SimwidgetsWarning

    topics = ["war", "snow", "music", "game", "computer", "wizard", "football", "cooking", "ocean", "law", "bank"]
    queries = [f"{t} news" for t in topics]
    results = [f"{t} news today" for t in topics]
    frame = score_pairs(queries, results, [glove])
    with pytest.warns(SimwidgetsWarning, match=r"glove-50d \d+% of these pairs score above 99% .*method='isotonic'"):
        out = calibrate(frame, [glove], n_null=200)
    assert out.attrs["saturation"]["glove-50d"] > 0.5


def test_pair_features_of_repeated_texts_equal_those_computed_row_by_row(glove):
    import re

    from simwidgets.evaluation.features import pair_features

    rng = np.random.default_rng(0)
    words = ["cat", "dog", "the", "zorblax", "star", "wars", "a"]
    left = [" ".join(rng.choice(words, rng.integers(0, 4))) if rng.random() > 0.1 else None for _ in range(400)]
    right = [" ".join(rng.choice(words, rng.integers(0, 4))) if rng.random() > 0.1 else np.nan for _ in range(400)]
    vocabulary = glove.vocabulary()

    def tokens(text):
        return re.findall(r"\w+", text.lower()) if isinstance(text, str) else []

    def oov(toks):
        return sum(vocabulary.lookup(t) is None for t in toks) / len(toks) if toks else 1.0

    rows = [(tokens(a), tokens(b)) for a, b in zip(left, right)]
    expected = pd.DataFrame(
        {
            "len_left": [len(a) for a, _ in rows],
            "len_right": [len(b) for _, b in rows],
            "len_diff": [abs(len(a) - len(b)) for a, b in rows],
            "overlap": [len(set(a) & set(b)) / len(set(a) | set(b)) if (a or b) else 0.0 for a, b in rows],
            "oov_left": [oov(a) for a, _ in rows],
            "oov_right": [oov(b) for _, b in rows],
        },
        dtype=np.float64,
    )
    pd.testing.assert_frame_equal(pair_features(left, right, vocabulary), expected)
