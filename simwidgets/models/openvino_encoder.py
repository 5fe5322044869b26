"""Sentence encoders on OpenVINO: the ONNX export of :mod:`.onnx_encoder`, compiled for the CPU.

``"minilm?backend=openvino-int8"`` (or ``backend=openvino`` for float32) runs the encoder's
transformer through OpenVINO's CPU runtime. The model is the float32 ONNX export the
``onnx`` backend makes (torch's own exporter), read by OpenVINO; for ``openvino-int8`` it is
quantized by NNCF's post-training quantization (int8 weights and activations, with the
transformer preset), calibrated on a fixed sample of 256 sentences shipped with the package
(spread over STS-B train's genres, no labels read) and 32 passages of them joined up to the
token limit, so the same model gives the same file on every machine. Both
are written once as OpenVINO IR under :func:`simwidgets.files.cache_dir`, keyed by a hash of
the model's files and the recipe.

Static int8 fixes each activation's range from the calibration texts, so they must cover the
text it will meet. Calibrated on the file's first sentences alone (image captions), forum
sentences of STS-B dev fell to 0.82 in cosine with torch's vectors; spread over its genres as
now, and cut at the encoder's own token limit (256 for MiniLM) as the encoder cuts what it
embeds, the least over dev's 2,910 sentences is 0.989 (mean 0.998; ONNX Runtime's dynamic
int8, ``onnx-int8``, which measures ranges per batch: 0.979, mean 0.993). A text unlike any of
them still drifts further: one word repeated 400 times, 0.94 (ONNX Runtime: 0.99).

NNCF sends usage statistics unless told otherwise; the quantization therefore runs in a
child process started with ``NNCF_CI=1`` (NNCF's own switch that replaces its telemetry with
a stub), so nothing leaves the machine and the user's own process is left as it was.

Measured with MiniLM on two CPU cores (``benchmarks/bench_cpu_fast.py``, STS-B dev):
``openvino-int8`` kept torch's Spearman (0.8673 vs 0.8672) at 3.02x torch's texts/s, where ONNX
Runtime's dynamic int8 gave 0.8654 at 2.64x in the same run (2.27x-2.74x over six runs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from ..extras import require
from .onnx_encoder import OnnxEncoder, exported_model, input_feeds

OPENVINO_BACKENDS = ("openvino", "openvino-int8")
CALIBRATION_TEXTS = 256
_IR_VERSION = "4"  # bump when the conversion or quantization recipe changes


def calibration_sentences(n: int = CALIBRATION_TEXTS, long: int = 32) -> list[str]:
    """``n`` distinct sentences of the bundled STS-B train file (text only), evenly spaced
    over it, then ``long`` passages of consecutive sentences joined (8 to 64 each), their
    starts evenly spaced too, so that the activation ranges cover each of the file's genres
    (captions, news, forum posts: it holds them in that order) and texts up to the model's
    token limit."""
    import csv

    path = Path(__file__).resolve().parents[1] / "data" / "sts" / "stsb-en-train.csv"
    with open(path, newline="", encoding="utf-8") as f:
        rows = [row for row in csv.reader(f) if len(row) >= 2]  # left, right, score: no header
    sentences = list(dict.fromkeys([r[0] for r in rows] + [r[1] for r in rows]))
    chosen = sentences[:: max(1, len(sentences) // n)][:n]
    starts = np.linspace(0, max(0, len(sentences) - 64), long).astype(int)
    passages = [" ".join(sentences[at : at + (8 << (k % 4))]) for k, at in enumerate(starts.tolist())]
    return chosen + passages


def _quantize(onnx_path: str, out: str, tokenizer_dir: str, texts_file: str, lowercase: bool, max_tokens: int) -> None:
    """NNCF's post-training int8 quantization of an ONNX encoder, written as OpenVINO IR
    (runs in the child process :func:`converted_model` starts). The calibration texts are cut
    at ``max_tokens``, the encoder's own limit, so activations are measured at the lengths the
    encoder runs at."""
    import nncf
    import openvino as ov
    from transformers import AutoTokenizer

    texts = json.loads(Path(texts_file).read_text(encoding="utf-8"))
    if lowercase:
        texts = [t.lower() for t in texts]
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    model = ov.Core().read_model(onnx_path)
    names = {p.get_any_name() for p in model.inputs}
    feeds = [
        input_feeds(
            tokenizer(texts[at : at + 16], padding=True, truncation=True, max_length=max_tokens, return_tensors="np"),
            names,
        )
        for at in range(0, len(texts), 16)
    ]
    quantized = nncf.quantize(model, nncf.Dataset(feeds), model_type=nncf.ModelType.TRANSFORMER, subset_size=len(feeds))
    ov.save_model(quantized, out, compress_to_fp16=False)


def converted_model(transformer_dir: Path, backend: str, lowercase: bool = False, max_tokens: int = 512) -> Path:
    """The OpenVINO IR (``model.xml``) of a transformer folder for ``backend``, made on first use
    (int8: calibrated on texts cut at ``max_tokens``, the encoder's token limit)."""
    ov = require("openvino", f"the {backend} backend")
    from ..files import cache_dir, folder_digest, staged_folder

    recipe = f"{_IR_VERSION}-t{max_tokens}" if backend == "openvino-int8" else _IR_VERSION
    key = f"{folder_digest(transformer_dir)}-{backend}-{recipe}-ov{ov.__version__.split('-')[0]}"
    folder = cache_dir() / "openvino" / key
    if (folder / "model.xml").is_file():
        return folder / "model.xml"
    onnx_path = exported_model(transformer_dir, "onnx")
    with staged_folder(folder, existing="keep") as tmp:
        if backend == "openvino":
            # OpenVINO stores weights in fp16 unless told otherwise: float32 is float32 here
            ov.save_model(ov.Core().read_model(str(onnx_path)), str(tmp / "model.xml"), compress_to_fp16=False)
        else:
            require("nncf", "the openvino-int8 backend")
            texts_file = tmp / "calibration.json"
            texts_file.write_text(json.dumps(calibration_sentences()), encoding="utf-8")
            call = (
                "import sys; from simwidgets.models.openvino_encoder import _quantize; "
                "_quantize(*sys.argv[1:5], sys.argv[5] == '1', int(sys.argv[6]))"
            )
            args = [
                str(onnx_path),
                str(tmp / "model.xml"),
                str(transformer_dir),
                str(texts_file),
                str(int(lowercase)),
                str(max_tokens),
            ]
            env = {**os.environ, "NNCF_CI": "1"}  # NNCF's telemetry replaced by its stub
            done = subprocess.run([sys.executable, "-c", call, *args], env=env, capture_output=True, text=True)
            if done.returncode or not (tmp / "model.xml").is_file():
                raise RuntimeError(f"quantizing {transformer_dir} with NNCF failed:\n{done.stderr[-3000:]}")
            texts_file.unlink()
    return folder / "model.xml"


class OpenVinoEncoder(OnnxEncoder):
    """:class:`~.onnx_encoder.OnnxEncoder`'s encoder compiled by OpenVINO for the CPU:
    ``backend="openvino"`` (float32) or ``"openvino-int8"``; ``threads`` are OpenVINO's
    inference threads (default: every core).

    >>> model = load_model("minilm?backend=openvino-int8")  # doctest: +SKIP
    >>> model.embed(["a cat", "a dog"]).shape  # doctest: +SKIP
    (2, 384)
    """

    _runtime = ("openvino", OPENVINO_BACKENDS)

    def _model_file(self, transformer_dir: Path) -> Path:
        return converted_model(transformer_dir, self.backend, self.lowercase, self.max_tokens)

    def _new_session(self):
        import openvino as ov

        config = {"INFERENCE_NUM_THREADS": int(self.threads), "PERFORMANCE_HINT": "LATENCY"}
        return ov.Core().compile_model(str(self.onnx_path), "CPU", config)

    def _input_names(self) -> set[str]:
        return {p.get_any_name() for p in self.session.inputs}

    def _output_width(self):
        width = self.session.outputs[0].get_partial_shape()[-1]
        return width.get_length() if width.is_static else None

    def _hidden(self, feeds: dict) -> np.ndarray:
        return self.session(feeds)[0]

    @property
    def identity(self) -> str:
        return f"openvino:{self.source}:{self.onnx_path.parent.name}"
