"""fine_tune on a ULMFiT base: the AWD-LSTM trained as a siamese model with fastai, saved without pickle."""

from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("fastai", reason="ULMFiT needs the [ulmfit] extra (fastai)")

from simwidgets import fine_tune, load_model, score_pairs  # noqa: E402
from simwidgets.evaluation import read_stsb  # noqa: E402
from simwidgets.training.store import DONE  # noqa: E402


@pytest.fixture(scope="module")
def sts(test_data) -> pd.DataFrame:
    return read_stsb(test_data / "sts" / "stsb-en-train.csv").iloc[:80].reset_index(drop=True)


@pytest.fixture(scope="module")
def trained(sts, tmp_path_factory):
    out = tmp_path_factory.mktemp("ulmfit") / "model"
    return fine_tune(
        "ulmfit-small",
        sts.left,
        sts.right,
        sts.score,
        epochs=2,
        validation=0.25,
        output_dir=out,
        progress=False,
        device="cpu",
    )


def test_a_siamese_ulmfit_is_saved_the_safe_way_and_reloads_as_a_ulmfit_spec(trained, sts):
    assert trained.spec.startswith("ulmfit:") and trained.spec.endswith("&pooling=concat")
    assert "?name=ulmfit-small-siamese-" in trained.spec
    files = {p.name for p in trained.path.iterdir()}
    assert {"weights.pth", "vocab.json", DONE} <= files and not any(f.endswith(".pkl") for f in files)
    assert trained.objective == "cosine" and trained.history["epoch"].tolist() == [1, 2]
    assert {"train_loss", "validation_loss"} <= set(trained.history.columns)
    assert list(trained.report.index) == ["before", "after"] and trained.report.loc["after", "pairs"] == 20
    model = load_model(trained.spec)
    assert model.pooling == "concat" and model.dim == 3 * load_model("ulmfit-small").dim
    scores = score_pairs(sts.left[:4], sts.right[:4], models=[trained.spec])
    assert scores.filter(like="score_").notna().all().all()


def test_the_weights_changed_and_the_base_model_did_not(trained):
    base = load_model("ulmfit-small?centre=none&pooling=concat")
    after = load_model(trained.spec)
    a, b = base.encoder.encoder.weight, after.encoder.encoder.weight
    assert a.shape == b.shape and not (a == b).all()
    fresh = load_model("ulmfit-small?centre=none&pooling=concat", name="fresh")
    assert (fresh.encoder.encoder.weight == a).all()  # training worked on a copy


def test_the_same_call_again_loads_it(trained, sts):
    again = fine_tune(
        "ulmfit-small",
        sts.left,
        sts.right,
        sts.score,
        epochs=2,
        validation=0.25,
        output_dir=trained.path,
        progress=False,
        device="cpu",
    )
    assert again.reused and again.spec == trained.spec


def test_what_ulmfit_cannot_train_on_is_refused(sts, tmp_path):
    with pytest.raises(ValueError, match="cosine objective"):
        fine_tune("ulmfit-small", sts.left, sts.right, sts.score, objective="mnrl", output_dir=tmp_path / "a")
    with pytest.raises(ValueError, match="needs gold labels"):
        fine_tune("ulmfit-small", sts.left, sts.right, None, output_dir=tmp_path / "b")


def test_an_exported_learner_pickle_is_never_loaded_without_trust(sts, tmp_path):
    from simwidgets.models import UntrustedFileError

    export = tmp_path / "export.pkl"
    export.write_bytes(b"\x80\x04not really a learner")  # never unpickled: refused by name first
    with pytest.raises(UntrustedFileError, match="trust=True"):
        fine_tune(f"ulmfit:{export}", sts.left, sts.right, sts.score, output_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_language_model_on_my_texts_then_similarity_is_one_cross_validated_row(sts, test_data, tmp_path, monkeypatch):
    import simwidgets as sw
    from simwidgets import adapt

    monkeypatch.setenv("SIMWIDGETS_CACHE_DIR", str(tmp_path))
    log = read_stsb(test_data / "sts" / "stsb-en-dev.csv")
    texts = list(dict.fromkeys(log.left.tolist() + log.right.tolist()))[:400]
    lm = adapt("ulmfit-small", texts, epochs=1, progress=False)
    assert lm.spec.startswith("ulmfit:") and lm.objective == "lm"
    assert load_model(lm.spec).embed(["a man is playing a guitar"]).shape[0] == 1
    with pytest.raises(ValueError, match="language model"):
        adapt("ulmfit-small", texts, method="simcse")
    small = sts.iloc[:40]
    result = sw.cross_validate(
        [sw.trainers.FineTune("ulmfit-small", adapt_on=texts, adapt_options={"epochs": 1}, epochs=1, device="cpu")],
        small.left, small.right, small.score, folds=2, n_boot=50, progress=False,
    )  # fmt: skip
    row = result.table.loc["ulmfit-small lm + fine-tuned"]
    assert row["base"] == "ulmfit-small" and row["beats_base"] in ("yes", "no: worse", "not shown")
    assert result.scores["score_ulmfit-small lm + fine-tuned"].notna().all()
