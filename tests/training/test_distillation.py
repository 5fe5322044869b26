"""distill_static: a sentence encoder distilled into a model2vec static model, optionally taught on the log."""

from __future__ import annotations

import os

import numpy as np
import pytest
from scipy.stats import spearmanr

from simwidgets import distill_static, load_model, score_pairs
from simwidgets.errors import InputError
from simwidgets.evaluation.datasets import read_stsb

pytest.importorskip("model2vec")


@pytest.fixture(scope="module")
def log_texts(test_data):
    train = read_stsb(test_data / "sts" / "stsb-en-train.csv")
    texts = train.left.tolist()[:600] + ["the zorblaxian fleet", "zorblaxian ships", "a zorblaxian captain"]
    return texts


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cache")
    old = os.environ.get("SIMWIDGETS_CACHE_DIR")
    os.environ["SIMWIDGETS_CACHE_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("SIMWIDGETS_CACHE_DIR")
    else:
        os.environ["SIMWIDGETS_CACHE_DIR"] = old


@pytest.fixture(scope="module")
def distilled(cache, log_texts):
    return distill_static("minilm", log_texts, dims=64, learn=300, epochs=2, progress=False)


def test_a_distilled_model_is_a_spec_every_api_takes_and_ranks_pairs_like_its_encoder(distilled, test_data, cache):
    assert distilled.startswith("m2v:") and str(cache) in distilled and distilled.endswith("?name=m2v-minilm-log")
    model = load_model(distilled)
    assert model.dim == 64 and model.name == "m2v-minilm-log"
    dev = read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:400]
    scores = score_pairs(dev.left, dev.right, distilled)["score_m2v-minilm-log"]
    assert spearmanr(scores, dev.score)[0] > 0.55  # MiniLM itself: about 0.87 on these pairs
    # the log's word the encoder splits into pieces is now one token, distilled in context
    tokens = model.static.tokenizer.encode("zorblaxian", add_special_tokens=False).tokens
    assert tokens == ["zorblaxian"]
    config = model.static.config["simwidgets"]
    assert config["distilled_from"] == "minilm" and config["words_added"] >= 1 and config["texts_learned"] == 300


def test_the_same_call_reuses_the_model_and_another_vocabulary_makes_another(distilled, cache, log_texts):
    folder = distilled[len("m2v:") :].partition("?")[0]
    stamp = os.stat(os.path.join(folder, "model.safetensors")).st_mtime_ns
    assert distill_static("minilm", log_texts, dims=64, learn=300, epochs=2, progress=False) == distilled
    assert os.stat(os.path.join(folder, "model.safetensors")).st_mtime_ns == stamp
    assert len(list((cache / "static").glob("token-vectors-*.npy"))) == 1  # the encoder's token pass, kept
    other = distill_static("minilm", log_texts[:200], dims=64, learn=None, max_words=0, progress=False)
    assert other != distilled and load_model(other).static.config["simwidgets"]["texts_learned"] == 0


def test_distill_static_never_writes_over_a_folder_and_refuses_what_it_cannot_distil(tmp_path, cache):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="never writes over"):
        distill_static("minilm", ["a text"], out=tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    with pytest.raises(InputError, match="not a sentence-transformers encoder"):
        distill_static("glove-50d")
    with pytest.raises(InputError, match="dims"):
        distill_static("minilm", dims=1)


def test_vectors_of_a_distilled_model_are_the_mean_of_its_rows(distilled):
    model = load_model(distilled)
    ids = model.static.tokenizer.encode("a cat on a mat", add_special_tokens=False).ids
    expected = model.static.embedding[ids].mean(0)
    assert np.allclose(model.embed(["a cat on a mat"])[0], expected / np.linalg.norm(expected), atol=1e-5)


def test_the_static_tokenizer_neither_pads_nor_cuts(distilled):
    import json

    folder = distilled[len("m2v:") :].partition("?")[0]
    saved = json.loads(open(os.path.join(folder, "tokenizer.json"), encoding="utf-8").read())
    assert saved["padding"] is None and saved["truncation"] is None  # as written, for model2vec's own loader too
