"""PairLabeler: labels on disk after every key, resuming, strategies, and honest estimates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simwidgets as sw
from simwidgets.evaluation.labelling import (
    MIN_RANDOM_LABELS,
    PairQueue,
    labels_needed,
    margin_of_error,
    wilson_interval,
)


@pytest.fixture(scope="module")
def log(test_data) -> pd.DataFrame:
    frame = sw.readers.read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:60]
    return frame.rename(columns={"left": "query", "right": "result"}).reset_index(drop=True)


def _labeler(log, path, **kwargs):
    return sw.PairLabeler(log, "query", "result", models=["glove-50d", "tfidf"], path=path, **kwargs)


def test_every_label_is_on_disk_at_once_and_a_reopened_labeler_resumes(log, tmp_path):
    path = tmp_path / "labels.csv"
    w = _labeler(log, path)
    seen = []
    for value in (1, 0, 0.5):
        seen.append((w.pair["left"], w.pair["right"]))
        w.label(value)
        on_disk = pd.read_csv(path)
        assert len(on_disk) == len(seen) and on_disk.label.iloc[-1] == value  # written before the next pair shows
    assert w.labels[["left", "right"]].apply(tuple, axis=1).tolist() == seen
    assert w.progress["labelled"] == 3
    again = _labeler(log, path)  # a crash, a closed tab, a new kernel: the same path resumes
    assert len(again.labels) == 3 and again.progress["remaining"] == 57
    offered = set()
    for _ in range(57):
        offered.add((again.pair["left"], again.pair["right"]))
        again.skip()
    assert not offered & set(seen) and again.pair == {}


def test_undo_takes_the_label_back_from_the_file_and_shows_the_pair_again(log, tmp_path):
    w = _labeler(log, tmp_path / "labels.csv", strategy="uncertain")
    first = dict(w.pair)
    w.label(1)
    w.undo()
    assert w.pair["row"] == first["row"] and len(pd.read_csv(tmp_path / "labels.csv")) == 0
    with pytest.raises(ValueError, match="no label to undo"):
        w.undo()


def test_browser_requests_label_skip_and_undo(log, tmp_path):
    w = _labeler(log, tmp_path / "labels.csv")
    sent = []
    w.send = sent.append
    w._answer_request(w, {"type": "rpc-request", "id": 1, "method": "label", "params": {"value": 0.5}}, [])
    w._answer_request(w, {"type": "rpc-request", "id": 2, "method": "label", "params": {"value": 7}}, [])
    w._answer_request(w, {"type": "rpc-request", "id": 3, "method": "skip", "params": {}}, [])
    assert sent[0] == {"type": "rpc-reply", "id": 1, "ok": True, "result": {"labelled": 1}}
    assert not sent[1]["ok"] and "not one of the labels" in sent[1]["error"]
    assert sent[2]["ok"] and len(w.labels) == 1


def test_strategies_pick_what_they_promise(log, tmp_path):
    w = _labeler(log, tmp_path / "u.csv", strategy="uncertain", threshold=0.9)
    glove = sw.score_pairs(log["query"], log["result"], ["glove-50d"])["score_glove-50d"].to_numpy()
    assert w.pair["row"] == int(np.nanargmin(np.abs(glove - 0.9)))
    w.strategy = "disagree"
    both = sw.score_pairs(log["query"], log["result"], ["glove-50d", "tfidf"])
    ranks = both[["score_glove-50d", "score_tfidf"]].rank(pct=True)
    assert w.pair["row"] == int((ranks.max(axis=1) - ranks.min(axis=1)).to_numpy().argmax())
    # random: a stratified sample; every pair eventually, each once
    queue = PairQueue(np.vstack([glove]), None, threshold=0.5)
    order = []
    for _ in range(60):
        row = queue.next("random", order)
        order.append(row)
        queue.close(row)
    assert sorted(order) == list(range(60)) and queue.next("random", order) is None
    first_ten = pd.Series(glove).rank(pct=True).to_numpy()[order[:10]]
    assert (first_ten < 0.5).sum() in (4, 5, 6)  # the strata are spread, not one end of the scores
    # diverse: the farthest pair from those labelled
    space = np.array([[0.0], [1.0], [10.0], [2.0]])
    queue = PairQueue(np.zeros((1, 4)), space, threshold=0.5)
    queue.close(0)
    assert queue.next("diverse", [0]) == 2
    with pytest.raises(Exception, match="strategy must be one of"):
        w.strategy = "clever"


def test_mixed_labels_keep_a_random_stratum_and_estimates_use_it_only(log, tmp_path):
    w = _labeler(log, tmp_path / "m.csv")
    for i in range(12):
        w.label([0, 0.5, 1][i % 3])
    strata = w.labels.stratum.value_counts().to_dict()
    assert strata == {"random": 6, "active": 6}
    p = w.progress
    random = w.labels[w.labels.stratum == "random"]
    share = (random.label >= 0.5).mean()
    assert p["similar_share"] == pytest.approx(share) and p["random"] == 6
    low, high = wilson_interval(int((random.label >= 0.5).sum()), 6, 0.95, 60)
    assert p["interval"] == [round(low, 4), round(high, 4)] and low < share < high
    assert p["margin"] == round(max(share - low, high - share), 3) and not p["reached"]
    assert p["more_needed"] == labels_needed(min(max(0.5, low), high), 0.03, 0.95, 60) - 6
    table = w.evaluate(n_boot=0)
    assert (table["pairs"] == 6).all() and table["sample"].iloc[0] == "random stratum: 6 of 12 labels"


def test_the_margin_arithmetic_is_the_users_own():
    assert labels_needed(0.5, 0.03, confidence=0.99) == 1844  # "99% confidence, plus or minus 3%"
    assert margin_of_error(0.5, 1844, confidence=0.99) == 0.03
    assert labels_needed(0.5, 0.03, confidence=0.99, population=2500) < 1844  # a finite log needs fewer


def test_bad_arguments_are_clear(log, tmp_path):
    with pytest.raises(KeyError, match="not in df"):
        sw.PairLabeler(log, "q", "result", models=["tfidf"], path=tmp_path / "a.csv")
    with pytest.raises(ValueError, match="share a key"):
        sw.PairLabeler(log, "query", "result", models=["tfidf"], labels=(1, 10), path=tmp_path / "b.csv")
    (tmp_path / "other.csv").write_text("x,y\n1,2\n")
    with pytest.raises(ValueError, match="not a label file"):
        sw.PairLabeler(log, "query", "result", models=["tfidf"], path=tmp_path / "other.csv")
    w = sw.PairLabeler(log, "query", "result", models=["tfidf"], labels=(0, 1), path=tmp_path / "c.csv")
    with pytest.raises(ValueError, match="not one of the labels"):
        w.label(0.5)


def test_uncertain_can_follow_the_stacked_model(log, tmp_path):
    scores = sw.score_pairs(log["query"], log["result"], ["glove-50d", "tfidf"])
    stack = sw.fit_ensemble(scores, log.score, kind="linear", cv=3)
    w = sw.PairLabeler(
        log,
        "query",
        "result",
        models=["glove-50d", "tfidf"],
        path=tmp_path / "e.csv",
        ensemble=stack,
        model="ensemble",
        strategy="uncertain",
        threshold=2.5,
    )
    predicted = stack.predict(scores)
    assert w.model_names == ["glove-50d", "tfidf", "ensemble"]
    assert w.pair["row"] == int(np.argmin(np.abs(predicted - 2.5)))


def test_one_label_never_reaches_the_margin_and_the_line_says_what_counts_as_similar(log, tmp_path):
    w = _labeler(log, tmp_path / "one.csv", strategy="random", target_margin=0.5)
    w.label(1)
    p = w.progress
    assert p["similar_share"] == 1.0 and p["interval"][0] < 0.5 and p["interval"][1] == 1.0
    assert p["margin"] > 0.3 and not p["reached"] and p["more_needed"] == MIN_RANDOM_LABELS - 1
    assert p["label_cut"] == 0.5  # a 0.5 label counts as similar by default, and the line says so
    cut = _labeler(log, tmp_path / "cut.csv", strategy="random", label_cut=1.0)
    cut.label(0.5)
    assert cut.progress["similar_share"] == 0.0 and cut.progress["label_cut"] == 1.0
    # with enough random labels and a wide target, it is reached
    for _ in range(MIN_RANDOM_LABELS - 1):
        w.label(1)
    assert w.progress["reached"] and w.progress["more_needed"] == 0
    assert wilson_interval(0, 10)[0] == 0.0 and 0.2 < wilson_interval(0, 10)[1] < 0.4


def test_the_learning_curve_of_the_labels_given_shows_in_the_progress(log, tmp_path):
    class Calibrated(sw.trainers.Trainer):  # cheap: GloVe's cosine through a line fitted on the training pairs
        name = "glove regression"

        def fit(self, left, right, gold, *, seed=0, gold_range=None, progress=False):
            from sklearn.linear_model import LinearRegression

            cosine = lambda a, b: sw.score_pairs(a, b, "glove-50d")[["score_glove-50d"]].fillna(0).to_numpy()  # noqa: E731
            line = LinearRegression().fit(cosine(left, right), gold)
            return sw.extend.PairFunction(lambda a, b: line.predict(cosine(a, b)), name=self.name)

    w = _labeler(log, tmp_path / "curve.csv", labels=(0, 0.5, 1))
    gold = dict(zip(zip(log["query"], log["result"]), log["score"]))
    with pytest.raises(ValueError, match="at least 20"):
        w.learning_curve([Calibrated()])
    for _ in range(45):  # a person labelling as the data says
        value = gold[(w.pair["left"], w.pair["right"])]
        w.label(min((0, 0.5, 1), key=lambda v: abs(v - value)))
    curve = w.learning_curve([Calibrated()], sizes=[10, 20, 30], folds=3, n_boot=50, progress=False)
    shown = w.progress["learning_curve"]
    assert shown["metric"] == curve.metric == "spearman"
    (trainer,) = shown["trainers"]
    assert trainer["name"] == "glove regression" and [n for n, _ in trainer["points"]] == [10, 20, 30]
    assert trainer["points"][-1][1] == pytest.approx(curve.table.loc[(trainer["name"], 30), "spearman"], abs=1e-4)
    w.label(1)  # the curve stays shown as labelling goes on
    assert w.progress["learning_curve"] == shown
