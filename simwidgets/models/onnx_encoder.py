"""Sentence encoders on ONNX Runtime: the same model, exported once, optionally quantized to int8.

``"minilm?backend=onnx-int8"`` (or ``"st:PATH?backend=onnx"``) runs the encoder's transformer
through ONNX Runtime on the CPU instead of torch. The export is made offline the first time,
with torch's own exporter, and kept under :func:`simwidgets.files.cache_dir` keyed by a hash of
the model's files and the settings, so a later load (another process, another day) reads it.

- ``onnx``: the transformer as exported, in float32: the same vectors as torch (cosine with
  torch's above 0.99999 on STS-B dev sentences);
- ``onnx-int8``: its matrix multiplications' weights quantized to int8, one scale per output
  channel, activations quantized on the fly (ONNX Runtime's dynamic quantization). Measured
  on STS-B dev with MiniLM on two CPU cores (``benchmarks/bench_cpu_fast.py``): Spearman
  0.8664 against 0.8672 in torch, at 2.4x-2.8x the texts per second across runs; single vectors differ
  from torch's by up to 0.03 in cosine (:data:`INT8_MIN_COSINE` is what the tests hold it to).
  Activations are quantized per batch, so a text's int8 vector also depends slightly on the
  texts it was batched with (Spearman 0.8660-0.8664 on STS-B dev across batch sizes).

Pooling (mean, cls or max) and the final normalisation are read from the folder's
sentence-transformers files and done in numpy, so only folders of the usual Transformer ->
Pooling -> (Normalize) stack run here; any other stack is refused with what to do.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..extras import require
from .base import Embedder, Note
from .transformer import _token_notes, standard_layout

#: The least cosine between a text's int8 vector and its torch vector the tests accept.
INT8_MIN_COSINE = 0.95
_EXPORT_VERSION = "1"  # bump when the export or quantization recipe changes


def _export(transformer_dir: Path, target: Path, int8: bool) -> None:
    """Write ``model.onnx`` (the transformer's last hidden state; batch and length dynamic)
    into ``target``, quantized when ``int8``."""
    import warnings

    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(transformer_dir, attn_implementation="eager").eval()
    takes_types = "token_type_ids" in model.forward.__code__.co_varnames

    class Hidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            extra = {"token_type_ids": token_type_ids} if takes_types else {}
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state

    ids = torch.ones(2, 8, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    plain = target / ("plain.onnx" if int8 else "model.onnx")
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the tracer's notes on constant branches (none depends on shapes)
        torch.onnx.export(
            Hidden(model),
            (ids, torch.ones_like(ids), torch.zeros_like(ids)),
            str(plain),
            input_names=names,
            output_names=["hidden"],
            dynamic_axes={k: {0: "batch", 1: "tokens"} for k in [*names, "hidden"]},
            opset_version=17,
            dynamo=False,
        )
    if int8:
        import logging

        from onnxruntime.quantization import QuantType, quantize_dynamic

        logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))  # its pre-processing hint
        quantize_dynamic(
            str(plain),
            str(target / "model.onnx"),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
        plain.unlink()


def input_feeds(encoding, names) -> dict:
    """The int64 inputs of an exported encoder, from a tokenizer's numpy output (token types
    all zero), keeping those the model takes (``names``)."""
    ids = encoding["input_ids"].astype(np.int64)
    feeds = {
        "input_ids": ids,
        "attention_mask": encoding["attention_mask"].astype(np.int64),
        "token_type_ids": np.zeros_like(ids),
    }
    return {k: v for k, v in feeds.items() if k in names}


def exported_model(transformer_dir: Path, backend: str) -> Path:
    """The ONNX file of a transformer folder for ``backend``, exported on first use."""
    import onnxruntime

    from ..files import cache_dir, folder_digest, staged_folder

    key = f"{folder_digest(transformer_dir)}-{backend}-{_EXPORT_VERSION}-ort{onnxruntime.__version__}"
    folder = cache_dir() / "onnx" / key
    if not (folder / "model.onnx").is_file():
        with staged_folder(folder, existing="keep") as tmp:
            _export(transformer_dir, tmp, int8=backend == "onnx-int8")
    return folder / "model.onnx"


class OnnxEncoder(Embedder):
    """A sentence-transformers folder's encoder run by ONNX Runtime on the CPU.

    Parameters
    ----------
    path_or_name
        A local sentence-transformers folder of the usual Transformer -> Pooling ->
        (Normalize) stack.
    backend
        ``"onnx"`` (float32) or ``"onnx-int8"``.
    threads
        ONNX Runtime's threads (default: every core).

    Examples
    --------
    >>> model = load_model("minilm?backend=onnx-int8")  # doctest: +SKIP
    >>> model.embed(["a cat", "a dog"]).shape  # doctest: +SKIP
    (2, 384)
    """

    batch_size = 32  # 2-4% faster than 64 or 128 for MiniLM int8 on two cores (fewer padded tokens)
    _runtime = ("onnxruntime", ("onnx", "onnx-int8"))  # the module it needs, the backends it runs

    def __init__(
        self,
        path_or_name: str,
        backend: str = "onnx-int8",
        name: str | None = None,
        threads: int | None = None,
        device: str | None = None,
        **kwargs,
    ):
        module, backends = self._runtime
        if backend not in backends:
            raise InputError(f"{type(self).__name__} runs {backends}, not {backend!r}")
        require(module, f"the {backend} backend")
        if device not in (None, "cpu"):
            raise InputError(f"the {backend} backend runs on the CPU; drop device={device!r} or use backend=torch")
        ignored = {k for k in kwargs if k not in ("cache_dir", "memory_cache", "centre")}
        if ignored:
            raise InputError(f"option(s) {sorted(ignored)} are for the torch backend, not {backend}")
        super().__init__(**kwargs)
        root = Path(path_or_name)
        layout = standard_layout(str(root))
        if layout is None:
            raise InputError(
                f"{path_or_name!r} is not a local sentence-transformers folder of the usual Transformer -> "
                f"Pooling (mean, cls or max) -> Normalize stack, which is what the {backend} backend runs; "
                "use backend=torch"
            )
        from transformers import AutoTokenizer

        self.backend = backend
        self.source = str(root)
        self.name = name or f"st:{root.name}-{backend}"
        self.pooling, self.normalize = layout.pooling, layout.normalize
        self.max_tokens = layout.max_seq_length
        self.lowercase = layout.do_lower_case
        self.tokenizer = AutoTokenizer.from_pretrained(layout.transformer_dir)
        self.onnx_path = self._model_file(Path(layout.transformer_dir))
        self.threads = threads or os.cpu_count() or 1
        self.session = self._new_session()
        self._inputs = self._input_names()
        self._dim = self._output_width()

    # -- the runtime: what a subclass for another runtime replaces ---------------------------
    def _model_file(self, transformer_dir: Path) -> Path:
        return exported_model(transformer_dir, self.backend)

    def _input_names(self) -> set[str]:
        return {i.name for i in self.session.get_inputs()}

    def _output_width(self):
        width = self.session.get_outputs()[0].shape[-1]
        return width if isinstance(width, int) else None

    def _hidden(self, feeds: dict) -> np.ndarray:
        return self.session.run(None, feeds)[0]

    def _new_session(self):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.log_severity_level = 3
        return ort.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])

    @property
    def identity(self) -> str:
        return f"onnx:{self.source}:{self.onnx_path.parent.name}"

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("session", None)  # rebuilt in the process that unpickles it
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.session = self._new_session()  # with the threads it was given

    def embed_batch(self, texts: list[str]) -> tuple[np.ndarray, list[Note]]:
        if self.lowercase:
            texts = [t.lower() for t in texts]
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="np")
        hidden = self._hidden(input_feeds(enc, self._inputs))
        mask = enc["attention_mask"]
        weights = mask[..., None].astype(np.float32)
        if self.pooling == "mean":
            vectors = (hidden * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
        elif self.pooling == "cls":
            vectors = hidden[:, 0]
        else:  # max over real tokens
            vectors = np.where(weights > 0, hidden, -np.inf).max(1)
        if self.normalize:
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        notes = [Note(n_tokens=n) for n in mask.sum(1).tolist()]
        cut = [i for i, e in enumerate(enc.encodings) if e.overflowing]
        for i, note in zip(cut, _token_notes(self.tokenizer, [texts[i] for i in cut], None) if cut else []):
            notes[i] = Note(n_tokens=note.n_tokens, truncated=True)
        return np.ascontiguousarray(vectors, dtype=np.float32), notes
