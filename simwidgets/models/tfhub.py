"""Models from local TF-Hub SavedModel folders: the Universal Sentence Encoder and ELMo.

Both are published on TF-Hub (now Kaggle Models) as SavedModel folders that users download
once and keep; simwidgets loads such a folder with TensorFlow, which is imported only when
one of these models loads (``pip install "simwidgets[tfhub]"``). Nothing is downloaded.

``"use:PATH"``
    A Universal Sentence Encoder: v4 (DAN), v5 (Transformer, large) or the multilingual ones
    (their ops need ``tensorflow-text`` of the same version as TensorFlow). Texts in, 512-d
    vectors out: the SavedModel's own call, or its ``serving_default`` signature's
    ``outputs``.
``"elmo:PATH"``
    ELMo v3: its ``default`` signature reads whole strings (split at spaces). A text's vector
    is the mean of the ``elmo`` layer (the learned mix of the three layers) over its tokens
    (``pooling=mean``, default), or the module's own ``default`` output
    (``pooling=default``). A single word is a text of one token, so ``neighbours(word,
    "elmo:PATH", among=words)`` gives neighbours over a word list.

TensorFlow runs on a GPU it sees (a ``tensorflow[and-cuda]`` install), else on the CPU.

>>> score_pairs(df.query, df.result, models=["use:~/models/use-4", "elmo:~/models/elmo-3", "minilm"])  # doctest: +SKIP
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..extras import load_triton_first, require
from .base import Embedder


def import_tensorflow():
    """TensorFlow, imported quietly and after triton (:func:`~simwidgets.extras.load_triton_first`),
    or the [tfhub] extra's error."""
    if "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up notes are not the user's business
        load_triton_first()
    return require("tensorflow", "use: and elmo: models (TF-Hub SavedModels)")


def load_saved_model(path, family: str):
    """A SavedModel folder loaded with TensorFlow (a TF1 Hub module, as ELMo v3 is, through
    its untagged graph); a folder that is not one is a clear error."""
    tf = import_tensorflow()
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{family} model folder not found: {folder}")
    if not any((folder / name).is_file() for name in ("saved_model.pb", "saved_model.pbtxt")):
        raise InputError(
            f"{folder} is not a SavedModel folder (no saved_model.pb): download the TF-Hub model once and extract "
            "its archive into the folder (docs/models.md says where)"
        )
    try:
        import tensorflow_text  # noqa: F401  (registers the ops the multilingual encoders use)
    except ImportError:
        pass
    try:
        return tf.saved_model.load(str(folder))
    except Exception as first:  # several graphs (a TF1 Hub module): take the untagged one
        try:
            return tf.saved_model.load(str(folder), tags=[])
        except Exception:
            pass
        text = str(first)
        if "not registered" in text or "Op type" in text:
            raise ImportError(
                f"{folder} uses TensorFlow ops that are not installed (the multilingual encoders need "
                f"tensorflow-text of TensorFlow's version: pip install tensorflow-text=={tf.__version__}): {text[:300]}"
            ) from first
        raise InputError(f"could not load {folder} as a SavedModel ({type(first).__name__}: {text[:300]})") from first


def _string_argument(function) -> str:
    """The name of a concrete function's one string input (``inputs``, ``strings``...)."""
    _, keywords = function.structured_input_signature
    names = sorted(keywords)
    if len(names) != 1:
        raise InputError(f"expected a signature with one string input, found {names}")
    return names[0]


class _SavedModelEmbedder(Embedder):
    """What both families share: a folder, a loaded SavedModel, batches of texts."""

    family = "tfhub"

    def __init__(self, path, name: str | None = None, *, batch_size: int = 64, **kwargs):
        super().__init__(**kwargs)
        self.path = Path(path).expanduser().resolve()
        self.module = load_saved_model(self.path, self.family)
        self.batch_size = int(batch_size)
        if self.batch_size < 1:
            raise InputError(f"batch_size must be at least 1, got {batch_size}")
        self.name = name or f"{self.family}:{self.path.name}"

    @property
    def identity(self) -> str:
        stat = (self.path / "saved_model.pb").stat() if (self.path / "saved_model.pb").exists() else self.path.stat()
        return f"{type(self).__name__}:{self.path}:{stat.st_size}:{stat.st_mtime_ns}:{self._settings()}"

    def _settings(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} ({self.path})>"

    def _signature(self, *names):
        signatures = getattr(self.module, "signatures", {}) or {}
        for name in names:
            if name in signatures:
                return signatures[name]
        return None


class UniversalSentenceEncoder(_SavedModelEmbedder):
    """A Universal Sentence Encoder from a local SavedModel folder (``use:PATH``)."""

    family = "use"

    def __init__(self, path, name: str | None = None, **kwargs):
        super().__init__(path, name, **kwargs)
        signature = self._signature("serving_default", "default")
        if callable(self.module):  # a TF2 SavedModel's own call (USE v4, v5)
            self._call = self.module
        elif signature is not None:
            self._argument = _string_argument(signature)
            self._call = lambda texts: signature(**{self._argument: texts})
        else:
            raise InputError(f"{self.path} has neither a call nor a serving signature to embed texts with")

    def embed_batch(self, texts: list[str]):
        tf = import_tensorflow()
        out = self._call(tf.constant(list(texts), dtype=tf.string))
        if isinstance(out, dict):
            key = "outputs" if "outputs" in out else "default" if "default" in out else None
            if key is None:
                raise InputError(f"{self.path}'s output has no 'outputs' or 'default' key: {sorted(out)}")
            out = out[key]
        return np.asarray(out, dtype=np.float32), None


class ELMoModel(_SavedModelEmbedder):
    """ELMo from a local TF-Hub folder (``elmo:PATH``), pooled over its tokens."""

    family = "elmo"

    def __init__(self, path, name: str | None = None, *, pooling: str = "mean", **kwargs):
        if pooling not in ("mean", "default"):
            raise InputError(f"pooling must be 'mean' or 'default', got {pooling!r}")
        super().__init__(path, name, **kwargs)
        self.pooling = pooling
        self._function = self._signature("default")
        if self._function is None:
            raise InputError(f"{self.path} has no 'default' signature (ELMo's, taking whole strings)")
        self._argument = _string_argument(self._function)
        if pooling != "mean":
            self.name = name or f"elmo:{self.path.name}?pooling={pooling}"

    def _settings(self) -> str:
        return self.pooling

    def embed_batch(self, texts: list[str]):
        tf = import_tensorflow()
        out = self._function(**{self._argument: tf.constant(list(texts), dtype=tf.string)})
        if self.pooling == "default":
            return np.asarray(out["default"], dtype=np.float32), None
        layer = np.asarray(out["elmo"], dtype=np.float32)  # (texts, longest, dim), zero-padded
        if "sequence_len" in out:
            lengths = np.asarray(out["sequence_len"], dtype=np.int64).reshape(-1)
        else:  # ELMo splits whole strings at spaces
            lengths = np.array([len(t.split()) for t in texts], dtype=np.int64)
        lengths = np.clip(lengths, 1, layer.shape[1])
        mask = np.arange(layer.shape[1])[None, :] < lengths[:, None]
        vectors = (layer * mask[:, :, None]).sum(axis=1) / lengths[:, None]
        return vectors.astype(np.float32), None
