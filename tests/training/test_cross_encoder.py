"""Cross-encoders: trained on the user's pairs, a pair scorer every pair API takes, refused where vectors are needed."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("datasets", reason="training needs the [train] extra (datasets, accelerate)")
pytest.importorskip("accelerate", reason="training needs the [train] extra (datasets, accelerate)")

import simwidgets as sw  # noqa: E402
from simwidgets import load_model, score_pairs, train_cross_encoder  # noqa: E402
from simwidgets.errors import NoVectorsError, SimwidgetsWarning  # noqa: E402
from simwidgets.evaluation import read_stsb  # noqa: E402
from simwidgets.training.store import DONE  # noqa: E402

# 36 pairs and one epoch leave this cross-encoder worse than its base: its warning says so (tested below)
pytestmark = pytest.mark.filterwarnings("ignore:the trained model is WORSE than its base")


@pytest.fixture(scope="module")
def sts(test_data) -> pd.DataFrame:
    return read_stsb(test_data / "sts" / "stsb-en-train.csv").iloc[:48].reset_index(drop=True)


@pytest.fixture(scope="module")
def trained(sts, tmp_path_factory):
    out = tmp_path_factory.mktemp("ce") / "model"
    return train_cross_encoder(
        "minilm",
        sts.left,
        sts.right,
        sts.score,
        epochs=1,
        max_tokens=64,
        validation=0.25,
        output_dir=out,
        progress=False,
        device="cpu",
    )


def test_train_cross_encoder_returns_a_ce_spec_history_and_report(trained, sts):
    assert trained.spec.startswith("ce:") and (trained.path / DONE).is_file()
    assert trained.objective == "bce" and not trained.reused
    assert trained.history["epoch"].tolist() == [1]
    assert {"train_loss", "validation_spearman"} <= set(trained.history.columns)
    assert list(trained.report.index) == ["before", "after"]
    assert trained.report.loc["after", "pairs"] == 12  # a quarter of 48 held out
    # the validation metric the trainer logged is the report's Spearman of the trained model
    assert trained.history["validation_spearman"].iloc[-1] == pytest.approx(
        trained.report.loc["after", "spearman"], abs=1e-3
    )


def test_the_same_call_again_loads_the_model(trained, sts):
    again = train_cross_encoder(
        "minilm",
        sts.left,
        sts.right,
        sts.score,
        epochs=1,
        max_tokens=64,
        validation=0.25,
        output_dir=trained.path,
        progress=False,
        device="cpu",
    )
    assert again.reused and again.spec == trained.spec


def test_pairs_are_scored_in_0_1_each_distinct_pair_once_bad_rows_nan_with_reason(trained, monkeypatch):
    model = load_model(trained.spec)
    calls = []
    original = type(model).score_batch

    def counting(self, lefts, rights, **kwargs):
        calls.append(len(lefts))
        return original(self, lefts, rights, **kwargs)

    monkeypatch.setattr(type(model), "score_batch", counting)
    left = ["a cat sits", "a cat sits", None, "", "a dog", "a kitten sits"]
    right = ["a kitten sits", "a kitten sits", "x", "y", "a dog runs", "a cat sits"]
    frame = score_pairs(left, right, models=[model])
    scores, reasons = frame[f"score_{model.name}"], frame[f"reason_{model.name}"]
    assert calls == [3]  # (a cat, a kitten) once; the swapped pair is a different input
    score_pairs(left[::-1], right[::-1], models=[model])
    assert calls == [3]  # scored before: from the model's memory cache (a batch job's later partitions too)
    assert scores[[0, 1, 4, 5]].between(0, 1).all() and scores[0] == scores[1]
    assert scores[[2, 3]].isna().all()
    assert reasons[2] == "left: missing text (None or NaN)" and reasons[3].startswith("left: empty")
    assert reasons[[0, 1, 4, 5]].isna().all()
    # the scores are sentence-transformers' logit corrected by the anchor encoder's calibrated cosine
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.cross_encoder import CrossEncoder

    logit = CrossEncoder(str(trained.path), device="cpu").predict(
        [("a dog", "a dog runs")], activation_fn=torch.nn.Identity()
    )
    a, b = SentenceTransformer(str(trained.path / "anchor"), device="cpu").encode(["a dog", "a dog runs"])
    anchor = __import__("json").loads((trained.path / "simwidgets-anchor.json").read_text())
    cosine = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    expected = 1 / (1 + np.exp(-(float(logit[0]) + anchor["scale"] * cosine + anchor["offset"])))
    assert scores[4] == pytest.approx(expected, abs=1e-5)


def test_long_pairs_are_truncated_with_a_warning(trained):
    model = load_model(trained.spec)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        score_pairs(["word " * 200], ["short"], models=[model])
    assert any("distinct pairs were longer" in str(w.message) for w in caught)


def test_what_needs_vectors_refuses_a_cross_encoder_clearly(trained):
    for call in (
        lambda: sw.similarity_matrix(["a cat", "a dog"], model=trained.spec),
        lambda: sw.neighbours("cat", model=trained.spec),
        lambda: sw.neighbours("cat", model=trained.spec, among=["a dog"]),
        lambda: sw.EmbeddingMap(trained.spec),
        lambda: sw.NeighbourExplorer(models=[trained.spec]),
        lambda: sw.SimilarityHeatmap(["a", "b"], model=trained.spec),
        lambda: load_model(trained.spec).embed(["a cat"]),
    ):
        with pytest.raises(NoVectorsError, match="cross-encoder: it scores pairs and has no vectors"):
            call()


def test_every_pair_api_takes_it(trained, test_data, tmp_path, client):
    name = load_model(trained.spec).name
    pairs = read_stsb(test_data / "sts" / "stsb-en-train.csv").iloc[100:124].reset_index(drop=True)  # not trained on
    table = sw.evaluate_pairs(pairs.left, pairs.right, pairs.score, models=["glove-50d", trained.spec], n_boot=50)
    assert set(table.index) == {"glove-50d", name} and table.loc[name, "pairs"] == 24
    scored = score_pairs(pairs.left, pairs.right, models=["glove-50d", trained.spec])
    result = sw.fit_ensemble(scored, pairs.score.to_numpy(), cv=3, n_estimators=20)
    assert f"score_{name}" in result.score_columns
    tuner = sw.ThresholdTuner(pairs, "left", "right", label="score", models=[trained.spec], n_null=10)
    assert tuner.model_names == [name] and np.isfinite(np.asarray(tuner.scores)).all()
    comparison = sw.ModelComparison(pairs, "left", "right", "score", models=["glove-50d", trained.spec], ensemble=None)
    assert comparison.model_names == ["glove-50d", name]
    pairs.rename(columns={"left": "query", "right": "result"}).to_csv(tmp_path / "pairs.csv", index=False)
    summary = sw.score_file(
        tmp_path / "pairs.csv", tmp_path / "out", "query", "result", [trained.spec], client=client, progress=False
    )
    out = pd.read_parquet(tmp_path / "out")
    assert summary.rows == 24
    np.testing.assert_allclose(out[f"score_{name}"], scored[f"score_{name}"], atol=1e-5)


def test_bad_bases_and_input_are_refused(sts, tmp_path):
    with pytest.raises(ValueError, match="train_word_vectors"):
        train_cross_encoder("glove-50d", sts.left, sts.right, sts.score, output_dir=tmp_path / "a")
    with pytest.raises(ValueError, match="at least 8"):
        train_cross_encoder("minilm", sts.left[:5], sts.right[:5], sts.score[:5], output_dir=tmp_path / "b")
    with pytest.raises(TypeError, match="gold labels"):
        train_cross_encoder("minilm", sts.left, sts.right)
    with pytest.raises(FileNotFoundError):
        train_cross_encoder("ce:./no-such-folder", sts.left, sts.right, sts.score, output_dir=tmp_path / "c")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        train_cross_encoder("minilm", sts.left, sts.right, sts.score, output_dir=tmp_path / "d")


def test_an_anchored_cross_encoder_starts_at_its_encoder_and_never_ends_below_it_on_validation(trained, sts):
    # the default from a sentence encoder: a correction to the encoder's calibrated cosine, its head
    # from zero; 36 pairs move no validation ranking, so the start is kept and ranks as the encoder
    record = __import__("json").loads((trained.path / DONE).read_text())
    assert record["settings"]["anchor"] is True and record["settings"]["warm_start"] is False
    anchor = record["anchor"]
    assert anchor["scale"] > 0 and anchor["kept_start"] is True
    assert anchor["start_validation_spearman"] == pytest.approx(trained.report.loc["before", "spearman"], abs=1e-9)
    assert trained.report.loc["after", "spearman"] == pytest.approx(trained.report.loc["before", "spearman"], abs=1e-9)
    assert trained.versus_base["verdict"] != "worse"
    # kept at the start: the head is zero, so the score is the calibrated cosine alone
    from simwidgets.models.cross_encoder import CrossEncoderModel

    model = CrossEncoderModel(str(trained.path), device="cpu")
    left, right = ["a dog", "a man plays"], ["a dog runs", "stocks fell"]
    expected = 1 / (1 + np.exp(-model.anchor_term(left, right)))
    np.testing.assert_allclose(model.score_batch(left, right), expected, atol=1e-6)
    both = score_pairs(sts.left, sts.right, models=["minilm", trained.spec])
    order = both["score_minilm"].rank().to_numpy(), both.filter(like="score_").iloc[:, 1].rank().to_numpy()
    np.testing.assert_array_equal(*order)  # the same ranking as the encoder on every pair


def test_a_damaged_or_hostile_anchor_file_is_refused(trained, tmp_path):
    import shutil

    from simwidgets.models.cross_encoder import ANCHOR_FILE

    copy = tmp_path / "copy"
    shutil.copytree(trained.path, copy)
    for text, match in [
        ("{not json", "is damaged"),
        ('{"scale": 1, "offset": 0}', "is damaged"),
        ('{"scale": 1, "offset": 0, "encoder": "../../elsewhere"}', "expected 'anchor'"),
        ('{"scale": "nan", "offset": 0, "encoder": "anchor"}', "finite"),
    ]:
        (copy / ANCHOR_FILE).write_text(text)
        with pytest.raises(ValueError, match=match):
            load_model(f"ce:{copy}")
    (copy / ANCHOR_FILE).write_text('{"scale": 1, "offset": 0, "encoder": "anchor"}')
    shutil.rmtree(copy / "anchor")
    with pytest.raises(ValueError, match="does not hold"):
        load_model(f"ce:{copy}")


def test_a_plain_cross_encoder_warms_up_on_the_encoder_and_a_cold_head_says_when_it_is_worse(sts, tmp_path):
    # anchor=False: a plain cross-encoder; its new head first learns the encoder's cosine (on
    # the training pairs, not their labels, and as many random pairings), then the labels
    common = dict(epochs=1, max_tokens=64, validation=0.25, anchor=False, progress=False, device="cpu")
    warm = train_cross_encoder("minilm", sts.left, sts.right, sts.score, output_dir=tmp_path / "warm", **common)
    record = __import__("json").loads((warm.path / DONE).read_text())
    assert record["warm_start"]["pairs"] == 2 * 36 and record["settings"]["warm_start"] is True
    assert not (warm.path / "simwidgets-anchor.json").exists()
    # a plain cross-encoder's scores are sentence-transformers' own: the sigmoid of the logit
    from sentence_transformers.cross_encoder import CrossEncoder

    plain = CrossEncoder(str(warm.path), device="cpu").predict([("a dog", "a dog runs")])
    ours = score_pairs(["a dog"], ["a dog runs"], models=[warm.spec]).iloc[0, 2]
    assert ours == pytest.approx(float(plain[0]), abs=1e-5)
    # the labels alone from a new head: 36 pairs leave it far worse than its base, and it says so
    with pytest.warns(SimwidgetsWarning, match="WORSE than its base.*keep using the base"):
        cold = train_cross_encoder(
            "minilm", sts.left, sts.right, sts.score, warm_start=False, output_dir=tmp_path / "cold", **common
        )
    assert cold.versus_base["verdict"] == "worse" and "is WORSE than its base" in repr(cold)
    # the same labels from the warm start end nearer the encoder (the GPU benchmark measures how near)
    assert warm.report.loc["after", "spearman"] > cold.report.loc["after", "spearman"] + 0.2
    with pytest.raises(TypeError, match="warm_start must be"):
        train_cross_encoder("minilm", sts.left, sts.right, sts.score, warm_start="yes", output_dir=tmp_path / "x")


def test_an_anchored_correction_is_kept_only_when_the_validation_pairs_are_sure_of_it(sts, tmp_path, monkeypatch):
    from simwidgets.models.cross_encoder import CrossEncoderModel
    from simwidgets.training import anchor

    common = dict(epochs=2, max_tokens=64, validation=0.25, progress=False, device="cpu")
    monkeypatch.setattr(anchor, "share_better", lambda *a, **k: 0.95)  # the validation pairs say: it helps
    kept = train_cross_encoder("minilm", sts.left, sts.right, sts.score, output_dir=tmp_path / "kept", **common)
    record = __import__("json").loads((kept.path / DONE).read_text())
    assert record["anchor"]["kept_start"] is False and record["anchor"]["share_better"] == 0.95
    model = CrossEncoderModel(str(kept.path), device="cpu")
    left, right = ["a dog", "a man plays"], ["a dog runs", "stocks fell"]
    corrected = model.score_batch(left, right)
    assert not np.allclose(corrected, 1 / (1 + np.exp(-model.anchor_term(left, right))), atol=1e-6)
    # not sure enough (below keep_confidence): back to the encoder's ranking
    monkeypatch.setattr(anchor, "share_better", lambda *a, **k: 0.95)
    doubted = train_cross_encoder(
        "minilm", sts.left, sts.right, sts.score, keep_confidence=0.99, output_dir=tmp_path / "doubted", **common
    )
    assert __import__("json").loads((doubted.path / DONE).read_text())["anchor"]["kept_start"] is True
    for bad in (0, -1e-4, "fast"):
        with pytest.raises(TypeError, match="head_learning_rate must be a number > 0"):
            train_cross_encoder(
                "minilm", sts.left, sts.right, sts.score, head_learning_rate=bad, output_dir=tmp_path / "z"
            )
    for bad in (1.5, -0.1, "high"):
        with pytest.raises(TypeError, match="keep_confidence"):
            train_cross_encoder(
                "minilm", sts.left, sts.right, sts.score, keep_confidence=bad, output_dir=tmp_path / "x"
            )
    with pytest.raises(TypeError, match="warm_start=True is for a plain"):
        train_cross_encoder("minilm", sts.left, sts.right, sts.score, warm_start=True, output_dir=tmp_path / "y")
