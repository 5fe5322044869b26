"""The audit of a scored log: a sample drawn by score band, and estimates on every row."""

import numpy as np
import pandas as pd
import pytest

from simwidgets.cli import main
from simwidgets.evaluation import audit_sample, estimate_on_log
from simwidgets.evaluation.audit import PROBABILITY, SIZE, STRATUM, WEIGHT


def _log(n=20_000, seed=0):
    """A log whose every row's label is known: good pairs score higher, with overlap."""
    rng = np.random.default_rng(seed)
    good = rng.random(n) < 0.3
    score = np.clip(np.where(good, rng.normal(0.75, 0.1, n), rng.normal(0.45, 0.15, n)), -1, 1)
    score[rng.random(n) < 0.01] = np.nan  # some rows the model could not score
    return pd.DataFrame({"query": [f"q{i}" for i in range(n)], "score_m": score, "truth": good.astype(int)})


def _folder(log, tmp_path, rows_per_part):
    """The log as a folder of Parquet parts, as a score job writes it."""
    folder = tmp_path / "scored"
    folder.mkdir()
    for k, start in enumerate(range(0, len(log), rows_per_part)):
        log.iloc[start : start + rows_per_part].to_parquet(folder / f"part-{k:05d}.parquet", index=False)
    return folder


def test_the_draw_is_stratified_and_carries_its_probabilities():
    log = _log()
    sample = audit_sample(log, "score_m", n=400, bands=[0.5, 0.6, 0.7])
    assert len(sample) == 400 and sample["audit_row"].is_unique
    assert sample["query"].tolist() == log["query"].iloc[sample["audit_row"]].tolist()  # the rows themselves
    counts = sample[STRATUM].value_counts()
    assert set(counts.index) == {"< 0.5", "0.5 to 0.6", "0.6 to 0.7", ">= 0.7", "unscored"}
    assert counts.max() - counts.min() <= 1  # an equal share each
    for _, group in sample.groupby(STRATUM):
        size = group[SIZE].iloc[0]
        assert group[PROBABILITY].iloc[0] == pytest.approx(len(group) / size)
        assert group[WEIGHT].iloc[0] == pytest.approx(size / len(group))
    # every stratum's size is its rows in the log
    assert sample.groupby(STRATUM)[SIZE].first().sum() == len(log)
    # and by a slice too: a stratum per band and slice
    log["source"] = np.where(np.arange(len(log)) % 4 == 0, "ads", "web")
    by_source = audit_sample(log, "score_m", n=400, bands=[0.5], by="source")
    assert set(by_source[STRATUM]) == {
        f"{band} · {src}" for band in ("< 0.5", ">= 0.5", "unscored") for src in ("ads", "web")
    }
    assert (by_source.groupby(STRATUM)["source"].nunique() == 1).all()


def test_estimates_equal_hand_computed_values_on_a_small_population():
    # 10 rows; one stratum drawn whole (weight 1) and one of 6 rows of which 2 drawn (weight 3)
    audit = pd.DataFrame({
        "score_m": [0.9, 0.8, 0.7, 0.6, 0.3, 0.2],
        "label": [1, 1, 0, 1, 1, 0],
        STRATUM: ["high"] * 4 + ["low"] * 2,
        SIZE: [4] * 4 + [6] * 2,
        PROBABILITY: [1.0] * 4 + [1 / 3] * 2,
    })  # fmt: skip
    log = pd.DataFrame({"score_m": [0.9, 0.8, 0.7, 0.6, 0.3, 0.2, 0.1, 0.1, 0.2, 0.3]})
    table = estimate_on_log(log, audit, "score_m", [0.65], n_boot=0)
    row = table.loc[0.65]
    assert row["kept"] == 3 and row["kept_share"] == pytest.approx(0.3)
    # kept: rows 0.9, 0.8, 0.7 (weight 1): good kept 2 of 3; good in all: 3 (high) + 1 x 3 (low) = 6
    assert row["precision"] == pytest.approx(2 / 3)
    assert row["recall"] == pytest.approx(2 / 6)
    assert row["good_lost"] == pytest.approx(4)
    assert row["sample_recall"] == pytest.approx(2 / 4)  # the unweighted claim, beside


def test_intervals_cover_the_truth_of_the_whole_log():
    log = _log(seed=1)
    covered, naive_error, weighted_error = 0, [], []
    thresholds = [0.6]
    truth_kept = (log.score_m >= 0.6) & log.truth.astype(bool)
    true_recall = truth_kept.sum() / log.truth.sum()
    for seed in range(30):
        audit = audit_sample(log, "score_m", n=400, bands=[0.4, 0.5, 0.6, 0.7], seed=seed)
        audit["label"] = audit["truth"]
        row = estimate_on_log(log, audit, "score_m", thresholds, n_boot=300, seed=seed).loc[0.6]
        covered += row["recall_low"] <= true_recall <= row["recall_high"]
        naive_error.append(abs(row["sample_recall"] - true_recall))
        weighted_error.append(abs(row["recall"] - true_recall))
    assert covered >= 25  # of 30: about 95% expected
    assert np.mean(weighted_error) < np.mean(naive_error) / 2  # the unweighted claim is off


def test_the_audit_command_draws_then_estimates_on_a_score_folder(tmp_path, capsys):
    log = _log(5000, seed=2)
    folder = _folder(log, tmp_path, 2000)
    labels = tmp_path / "audit.csv"
    assert main(["audit", str(folder), "--score", "score_m", "--labels", str(labels), "--draw", "200"]) == 0
    drawn = pd.read_csv(labels)
    assert len(drawn) == 200
    # the rows drawn across the three parts are the log's rows at their positions
    assert drawn["query"].tolist() == log["query"].iloc[drawn["audit_row"]].tolist()
    drawn["label"] = drawn["truth"]
    drawn.to_csv(labels, index=False)
    capsys.readouterr()
    assert main(["audit", str(folder), "--score", "score_m", "--labels", str(labels), "-t", "0.6", "-t", "0.7"]) == 0
    out = capsys.readouterr().out
    assert "precision_low" in out and "sample_precision" in out and "0.600" in out
    assert main(["audit", str(folder), "--score", "nope", "--labels", str(labels)]) == 2


def test_the_tuner_shows_what_its_threshold_does_to_the_whole_log(glove):
    from simwidgets import ThresholdTuner

    log = _log(3000, seed=3).rename(columns={"score_m": "score_glove-50d"})
    audit = audit_sample(log, "score_glove-50d", n=300, bands=[0.5, 0.6, 0.7])
    audit["label"] = audit["truth"]
    pairs = pd.DataFrame({"q": ["a cat", "a dog", "stock prices"], "r": ["a kitten", "a puppy", "a banana"]})
    tuner = ThresholdTuner(pairs, "q", "r", models=[glove], n_null=50, log=log, audit=audit)
    grid = tuner.log_estimates
    assert 90 <= len(grid) <= 101 and {"kept", "precision_low", "recall_high", "good_lost"} <= set(grid[0])
    direct = estimate_on_log(log, audit, "score_glove-50d", [grid[10]["threshold"]], n_boot=300).iloc[0]
    assert grid[10]["kept"] == direct["kept"] and grid[10]["precision"] == pytest.approx(direct["precision"])
    with pytest.raises(TypeError, match="need both log="):
        ThresholdTuner(pairs, "q", "r", models=[glove], n_null=50, log=log)


def test_an_audit_is_labelled_in_the_labeller_in_its_drawn_order(tmp_path, glove):
    from simwidgets import PairLabeler
    from simwidgets.evaluation import with_labels

    log = _log(2000, seed=4).assign(result=lambda f: [f"result {i}" for i in range(len(f))])
    audit = audit_sample(log, "score_m", n=60, bands=[0.5, 0.6])
    path = tmp_path / "audit-labels.csv"
    labeler = PairLabeler(audit, "query", "result", models=[glove], strategy="audit", path=path, labels=(0, 1))
    shown = []
    for _ in range(10):
        shown.append(labeler.pair["left"])
        labeler.label(audit["truth"][audit["query"] == labeler.pair["left"]].iloc[0])
    assert shown == audit["query"].tolist()[:10]  # the drawn order
    assert set(pd.read_csv(path)["stratum"]) == {"audit"}
    labelled = with_labels(audit, path, left="query", right="result")
    assert labelled["label"].notna().sum() == 10
    assert labelled["label"].dropna().tolist() == audit["truth"].iloc[:10].astype(float).tolist()
    # the rest of the labels, as if given, and the estimate on the whole log
    labelled["label"] = audit["truth"]
    assert estimate_on_log(log, labelled, "score_m", [0.6], n_boot=50).loc[0.6, "kept"] == int(
        (log.score_m >= 0.6).sum()
    )
    with pytest.raises(FileNotFoundError):
        with_labels(audit, tmp_path / "none.csv", left="query", right="result")


def test_the_labels_file_of_an_audit_keeps_its_design_and_alone_gives_the_estimates(tmp_path, glove):
    from simwidgets import PairLabeler
    from simwidgets.evaluation import with_labels
    from simwidgets.evaluation.labelling import AUDIT_COLUMNS

    log = _log(3000, seed=5).assign(result=lambda f: [f"result {i}" for i in range(len(f))])
    folder = _folder(log, tmp_path, rows_per_part=700)
    audit = audit_sample(folder, "score_m", n=80, bands=[0.5, 0.6, 0.7])
    path = tmp_path / "audit-labels.csv"
    labeler = PairLabeler(audit, "query", "result", models=[glove], strategy="audit", path=path, labels=(0, 1))
    truth = dict(zip(audit["query"], audit["truth"]))
    for _ in range(len(audit)):
        labeler.label(truth[labeler.pair["left"]])
    labeler.undo()  # an undone label leaves no trace, its pair is labelled again
    labeler.label(truth[labeler.pair["left"]])
    written = pd.read_csv(path)
    assert written.columns.tolist() == AUDIT_COLUMNS
    assert written["audit_row"].tolist() == audit["audit_row"].tolist()
    assert written["inclusion_probability"].tolist() == pytest.approx(audit[PROBABILITY].tolist())
    # the file alone, with the log, gives what the audit frame with its labels gives
    from_file = estimate_on_log(folder, path, "score_m", [0.6, 0.7], n_boot=100)
    from_frame = estimate_on_log(folder, with_labels(audit, path, left="query", right="result"), "score_m",
                                 [0.6, 0.7], n_boot=100)  # fmt: skip
    pd.testing.assert_frame_equal(from_file, from_frame)
    # another score of the same log is read from the log at the audit's rows
    shifted = log.assign(score_n=log["score_m"] - 0.1)
    other = estimate_on_log(shifted, path, "score_n", [0.5, 0.6], n_boot=100)
    assert other["precision"].tolist() == pytest.approx(from_file["precision"].tolist())
    # the file reopens, and a plain labels file is refused as an audit with what to do
    PairLabeler(audit, "query", "result", models=[glove], strategy="audit", path=path, labels=(0, 1))
    with pytest.raises(KeyError, match="audit_stratum"):
        plain = tmp_path / "plain.csv"
        PairLabeler(log.head(5), "query", "result", models=[glove], strategy="random", path=plain).label(1)
        estimate_on_log(folder, plain, "score_m", [0.6])
    with pytest.raises(ValueError, match="is it this log's audit"):
        estimate_on_log(log.head(100), path, "score_m", [0.6])


def test_on_dask_each_pass_is_a_task_per_part_with_the_same_result(tmp_path, client):
    log = _log(6000, seed=5)
    folder = _folder(log, tmp_path, 1500)
    here = audit_sample(folder, "score_m", n=150, bands=[0.5, 0.6], seed=3)
    there = audit_sample(folder, "score_m", n=150, bands=[0.5, 0.6], seed=3, client=client)
    pd.testing.assert_frame_equal(here, there)
    here["label"] = there["label"] = here["truth"]
    pd.testing.assert_frame_equal(
        estimate_on_log(folder, here, "score_m", [0.55, 0.65], n_boot=100),
        estimate_on_log(folder, there, "score_m", [0.55, 0.65], n_boot=100, client=client),
    )


def test_bad_audits_are_refused_with_what_to_do():
    log = _log(500, seed=6)
    with pytest.raises(ValueError, match="n must be at least 1"):
        audit_sample(log, "score_m", n=0)
    with pytest.raises(KeyError, match="column 'nope' not in the scored log"):
        audit_sample(log, "nope")
    audit = audit_sample(log, "score_m", n=20)
    with pytest.raises(KeyError, match="the audit has no 'label' column"):
        estimate_on_log(log, audit, "score_m")
    audit["label"] = np.nan
    audit.loc[0, "label"] = 1
    with pytest.raises(ValueError, match="fewer than two labelled rows"):
        estimate_on_log(log, audit, "score_m")


def test_the_whole_road_on_a_folder_the_score_job_wrote(tmp_path, client):
    """Score a log with two models, then draw, label (in the labeller), estimate, carry the
    threshold to the other model and count the queries each rule empties, all on the folder."""
    from simwidgets import PairLabeler
    from simwidgets.batch import score_file
    from simwidgets.evaluation import migrate_threshold, query_metrics

    rng = np.random.default_rng(8)
    words = "star wars matrix halo frozen cars toy story alien jaws rocky heat up coco".split()
    n = 1500
    queries = [" ".join(rng.choice(words, 2)) for _ in range(n)]
    results = [q if rng.random() < 0.3 else " ".join(rng.choice(words, 3)) for q in queries]
    source = tmp_path / "log.csv"
    pd.DataFrame({"query": queries, "result": results}).to_csv(source, index=False)
    score_file(source, tmp_path / "scored", "query", "result", ["glove-50d", "tfidf"], blocksize=20_000,
               client=client, progress=False)  # fmt: skip
    folder = tmp_path / "scored"
    assert len(list(folder.glob("part-*.parquet"))) > 1
    log = pd.read_parquet(folder)
    audit = audit_sample(folder, "score_glove-50d", n=60, bands=[0.6, 0.8, 0.95])
    path = tmp_path / "audit-labels.csv"
    labeler = PairLabeler(audit, "query", "result", models=["tfidf"], strategy="audit", path=path, labels=(0, 1))
    while labeler.pair:
        labeler.label(float(labeler.pair["left"] == labeler.pair["right"]))  # good: the same title
    table = estimate_on_log(folder, path, "score_glove-50d", [0.8, 0.95], n_boot=50)
    assert table["kept"].tolist() == [int((log["score_glove-50d"] >= t).sum()) for t in (0.8, 0.95)]
    moved = migrate_threshold(0.8, folder, folder, old_column="score_glove-50d", new_column="score_tfidf",
                              labels=path, warn=False)  # fmt: skip
    assert moved.kept_share == pytest.approx(moved.kept_share_old, abs=0.01)
    assert 0 <= moved.precision <= 1
    effects = query_metrics(folder, query="query", score=["score_glove-50d", "score_tfidf"], rules=["threshold=0.8"])
    emptied = (log.groupby("query")["score_tfidf"].max() < 0.8).sum()
    assert effects.loc[("score_tfidf", "threshold=0.8"), "queries_emptied"] == emptied
