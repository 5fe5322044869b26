"""Transformer encoders: sentence-transformers models and Hugging Face BERT-family models."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..vocab import Vocabulary, token_kinds
from .base import Embedder, Note
from .sources import check_source, quiet_loading
from .streaming import POOLINGS

HF_POOLINGS = ("mean", "cls")


def pick_device(device: str | None) -> str:
    """``device`` as given, or ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _renamed_option(old: str, old_value, new: str, new_value):
    """The value of an option given under its new name or, with a ``FutureWarning``, its old one."""
    if old_value is None:
        return new_value
    import warnings

    if new_value is not None and new_value != old_value:
        raise InputError(
            f"{old}= is the old name of {new}=; give only {new}= (got {old}={old_value}, {new}={new_value})"
        )
    warnings.warn(f"{old}= is deprecated and will be removed; use {new}= (same meaning)", FutureWarning, stacklevel=4)
    return old_value


@contextmanager
def _loading(kind: str, source, errors: tuple = (OSError,)):
    """:func:`quiet_loading`, and a model that cannot be read (``errors``) refused with a
    ValueError naming it."""
    try:
        with quiet_loading():
            yield
    except errors as exc:
        raise InputError(f"could not load {kind} model {source!r}: {exc}") from exc


def _token_notes(tokenizer, texts: list[str], limit: int | None) -> list[Note]:
    """Token counts (special tokens included) and truncation per text."""
    encoded = tokenizer(
        texts,
        add_special_tokens=True,
        truncation=False,
        return_attention_mask=False,
        return_token_type_ids=False,
        verbose=False,
    )["input_ids"]
    notes = []
    for ids in encoded:
        n = len(ids)
        notes.append(Note(n_tokens=n, truncated=limit is not None and n > limit))
    return notes


def vocabulary_from(tokenizer, embedding_matrix) -> Vocabulary:
    """Word pieces of a tokenizer with the rows of the model's input embedding matrix."""
    matrix = embedding_matrix.detach().float().cpu().numpy()
    by_id = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    tokens = [tok for tok, idx in by_id if idx < len(matrix)]
    ids = np.array([idx for tok, idx in by_id if idx < len(matrix)])
    lowercase = bool(getattr(tokenizer, "do_lower_case", False)) or (
        tokenizer("A", add_special_tokens=False)["input_ids"] == tokenizer("a", add_special_tokens=False)["input_ids"]
    )
    return Vocabulary(
        tokens=tokens,
        vectors=np.ascontiguousarray(matrix[ids], dtype=np.float32),
        kinds=token_kinds(tokens, specials=tokenizer.all_special_tokens),
        ranks=None,
        cased=not lowercase,
    )


class SentenceTransformerModel(Embedder):
    """Any sentence-transformers model (a local folder, or a hub name available offline).

    On a GPU, models built the usual way (Transformer, Pooling, optional Normalize; MiniLM
    and most sentence encoders) run through the streaming encoder
    (:class:`~simwidgets.models.streaming.StreamEncoder`): parallel tokenization, length
    buckets, fp16, pinned memory and asynchronous copies. ``streaming=True`` uses it on a CPU
    too; ``streaming=False`` keeps sentence-transformers' own forward pass everywhere.

    Parameters
    ----------
    device
        ``"cuda"``, ``"cuda:N"`` or ``"cpu"`` (default: a GPU when present).
    streaming
        Use the streaming encoder (default: on a GPU, where the model allows it). The old
        name ``pipeline=`` still works for this release, with a ``FutureWarning``.
    dtype
        ``"float16"`` (default on a GPU), ``"bfloat16"`` or ``"float32"``, for the streaming encoder.
    token_budget, max_batch, chunk_size, threads, multiple, processes, row_steps, compile, graphs, kernels
        Streaming encoder settings: padded tokens and texts per forward pass, texts sorted
        together, tokenizer threads, padding multiple, tokenizer processes, batch row sizes
        per power of two, ``torch.compile`` mode (default none), CUDA graphs per batch shape,
        how the forward pass runs (``"transformers"``, ``"fused"``, ``"fused-gelu"`` or
        ``"fused-short"``, the default on a GPU for a BERT encoder where Triton imports; see
        :class:`~simwidgets.models.streaming.StreamEncoder`).
    """

    batch_size = 128

    def __init__(
        self,
        path_or_name: str,
        name: str | None = None,
        device: str | None = None,
        streaming: bool | None = None,
        dtype: str | None = None,
        token_budget: int | None = None,
        max_batch: int | None = None,
        chunk_size: int | None = None,
        threads: int | None = None,
        multiple: int | None = None,
        processes: int | None = None,
        row_steps: int | None = None,
        compile: str | None = None,
        graphs: bool | None = None,
        kernels: str | None = None,
        pipeline: bool | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        streaming = _renamed_option("pipeline", pipeline, "streaming", streaming)

        source = check_source(path_or_name, "sentence-transformers")
        self.device = pick_device(device)
        self.source = source
        self.name = name or f"st:{Path(source).name}"
        self._st = None
        self._hf = None  # (model, tokenizer) loaded without sentence-transformers
        wanted = streaming if streaming is not None else self.device.startswith("cuda")
        layout = standard_layout(source) if wanted else None
        if layout is not None:
            # The usual Transformer -> Pooling -> Normalize folder, read from its files:
            # sentence-transformers' own imports (1.4-1.8 s on the H200 host, on top of
            # transformers') are skipped; transformers' model code is most of the start-up.
            from transformers import AutoModel, AutoTokenizer

            with _loading("sentence-transformers", source):
                tokenizer = AutoTokenizer.from_pretrained(layout.transformer_dir)
                hf_model = AutoModel.from_pretrained(layout.transformer_dir)
            self._hf = (hf_model, tokenizer)
            self.max_tokens = layout.max_seq_length
            self._dim = int(hf_model.config.hidden_size)
            parts = (hf_model, layout.pooling, layout.normalize)
            self.lowercase = layout.do_lower_case
        else:
            st = self.model  # sentence-transformers' own model, loaded here
            self.max_tokens = st.max_seq_length
            get_dim = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
            dim = get_dim()
            self._dim = int(dim) if dim else None
            parts = sentence_transformer_parts(st) if wanted else None
            tokenizer = st.tokenizer
            self.lowercase = bool(getattr(st[0], "do_lower_case", False))
        if not self.device.startswith("cuda"):
            # On a CPU, batches of 32 (encode's default) ran 8% faster than 128 with MiniLM on
            # 1,500 STS-B sentences (benchmarks/bench_pairs_transformer.py): less padding per batch.
            self.batch_size = 32
        self._vocab: Vocabulary | None = None
        self.stream_encoder = None
        if wanted:
            from .streaming import StreamEncoder

            if parts is None:
                if streaming:
                    raise InputError(
                        f"{self.name} is not a Transformer -> Pooling (mean, cls or max) -> Normalize stack; "
                        "the streaming encoder cannot reproduce it (use streaming=False)"
                    )
            else:
                hf_model, pooling, normalize = parts
                self.stream_encoder = StreamEncoder(
                    hf_model,
                    tokenizer,
                    max_tokens=self.max_tokens,
                    pooling=pooling,
                    normalize=normalize,
                    device=self.device,
                    dtype=dtype,
                    token_budget=token_budget,
                    max_batch=max_batch,
                    chunk_size=chunk_size,
                    threads=threads,
                    multiple=multiple,
                    processes=processes,
                    row_steps=row_steps,
                    compile=compile,
                    graphs=graphs,
                    kernels=kernels,
                )

    @property
    def model(self):
        """The sentence-transformers model (loaded on first use when the streaming encoder
        was built from the folder's files alone)."""
        if self._st is None:
            from sentence_transformers import SentenceTransformer

            with _loading("sentence-transformers", self.source):
                self._st = SentenceTransformer(self.source, device=self.device)
        return self._st

    @model.setter
    def model(self, value) -> None:
        self._st = value

    @property
    def pipeline(self):
        """Deprecated name of :attr:`stream_encoder` (kept for this release)."""
        import warnings

        warnings.warn("SentenceTransformerModel.pipeline is now .stream_encoder", FutureWarning, stacklevel=2)
        return self.stream_encoder

    @property
    def identity(self) -> str:
        encoder = self.stream_encoder
        precision = "" if encoder is None or encoder.dtype == "float32" else f":{encoder.dtype}"
        return f"st:{self.source}{precision}"

    def _embed_many(self, texts: list[str], progress: bool | None):
        if self.stream_encoder is None or not texts:
            return super()._embed_many(texts, progress)
        if self.lowercase:
            texts = [t.lower() for t in texts]
        with self._progress_bar(len(texts), progress) as bar:
            vectors, notes = self.stream_encoder.encode(texts, bar)
        return self._check_vectors(vectors, len(texts)), notes

    def embed_batch(self, texts: list[str]) -> tuple[np.ndarray, list[Note]]:
        """Tokenize once (truncation read off the fast tokenizer), run the model's modules."""
        import torch

        tokenizer = self.model.tokenizer
        features = tokenizer(texts, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt")
        encodings = getattr(features, "encodings", None)
        if encodings is None:  # a slow tokenizer: count tokens separately
            notes = _token_notes(tokenizer, texts, self.max_tokens)
        else:
            lengths = features["attention_mask"].sum(1).tolist()
            cut = [i for i, e in enumerate(encodings) if e.overflowing]
            full = _token_notes(tokenizer, [texts[i] for i in cut], None) if cut else []
            notes = [Note(n_tokens=n) for n in lengths]
            for i, note in zip(cut, full):
                notes[i] = Note(n_tokens=note.n_tokens, truncated=True)
        device = self.model.device
        with torch.inference_mode():
            out = self.model.forward({k: v.to(device) for k, v in features.items()})
        return out["sentence_embedding"].float().cpu().numpy(), notes

    def vocabulary(self) -> Vocabulary:
        """The word pieces of the underlying transformer and its input embedding matrix."""
        if self._vocab is None:
            if self._hf is not None:
                hf_model, tokenizer = self._hf
            else:
                hf_model, tokenizer = self.model[0].auto_model, self.model.tokenizer
            self._vocab = vocabulary_from(tokenizer, hf_model.get_input_embeddings().weight)
        return self._vocab


class HuggingFaceModel(Embedder):
    """A BERT-family encoder through transformers, pooled into one vector per text.

    Parameters
    ----------
    path_or_name
        Local folder (or a hub name available offline).
    pooling
        ``"mean"`` over non-padding tokens (default) or ``"cls"`` (the first token).
    layer
        Which hidden layer to pool: ``-1`` (default) is the last; ``0`` the embeddings.
    """

    batch_size = 64

    def __init__(
        self,
        path_or_name: str,
        pooling: str = "mean",
        layer: int = -1,
        name: str | None = None,
        device: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        from transformers import AutoModel, AutoTokenizer

        if pooling not in HF_POOLINGS:
            raise InputError(f"unknown pooling {pooling!r}; use one of {HF_POOLINGS}")
        source = check_source(path_or_name, "Hugging Face")
        with _loading("Hugging Face", source, (OSError, ValueError)):
            self.tokenizer = AutoTokenizer.from_pretrained(source)
            self.model = AutoModel.from_pretrained(source)
        self.device = pick_device(device)
        self.model.to(self.device).eval()
        self.source, self.pooling, self.layer = source, pooling, int(layer)
        n_layers = self.model.config.num_hidden_layers
        if not -(n_layers + 1) <= self.layer <= n_layers:
            raise InputError(f"layer {layer} out of range: the model has {n_layers} layers (0..{n_layers})")
        suffix = (
            ""
            if (pooling, self.layer) == ("mean", -1)
            else f"-{pooling}" + ("" if self.layer == -1 else f"-layer{self.layer}")
        )
        self.name = name or f"hf:{Path(source).name}{suffix}"
        limits = [
            self.tokenizer.model_max_length,
            getattr(self.model.config, "max_position_embeddings", None),
        ]
        self.max_tokens = int(min(x for x in limits if x))
        self._dim = int(self.model.config.hidden_size)
        self._vocab: Vocabulary | None = None

    @property
    def identity(self) -> str:
        return f"hf:{self.source}:{self.pooling}:{self.layer}"

    def embed_batch(self, texts: list[str]) -> tuple[np.ndarray, list[Note]]:
        import torch

        notes = _token_notes(self.tokenizer, texts, self.max_tokens)
        encoded = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt"
        ).to(self.device)
        with torch.inference_mode():
            output = self.model(**encoded, output_hidden_states=self.layer != -1)
            hidden = output.last_hidden_state if self.layer == -1 else output.hidden_states[self.layer]
            if self.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return pooled.float().cpu().numpy(), notes

    def vocabulary(self) -> Vocabulary:
        """The word pieces and the model's input (word-piece) embedding matrix."""
        if self._vocab is None:
            self._vocab = vocabulary_from(self.tokenizer, self.model.get_input_embeddings().weight)
        return self._vocab


#: The module stacks the streaming encoder reproduces, by module class name.
STANDARD_STACKS = (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"])


@dataclass
class StandardLayout:
    """What a sentence-transformers folder of the usual Transformer -> Pooling -> (Normalize)
    stack says about itself."""

    transformer_dir: Path
    pooling: str
    normalize: bool
    max_seq_length: int
    do_lower_case: bool


def _pooling_mode(config: dict) -> str | None:
    """The one pooling mode of a Pooling module's config, if the streaming encoder has it."""
    if config.get("include_prompt", True) is False:
        return None
    if "pooling_mode" in config:  # sentence-transformers 6: one named mode
        mode = config["pooling_mode"]
        modes = [mode] if isinstance(mode, str) else list(mode)
    else:  # earlier versions: one flag per mode
        flags = {k[len("pooling_mode_") :]: v for k, v in config.items() if k.startswith("pooling_mode_") and v}
        names = {"mean_tokens": "mean", "cls_token": "cls", "max_tokens": "max"}
        modes = [names.get(k, k) for k in flags]
    return modes[0] if len(modes) == 1 and modes[0] in POOLINGS else None


def standard_layout(source: str) -> StandardLayout | None:
    """The layout of a local folder holding exactly Transformer -> Pooling -> (Normalize),
    with nothing that would change what ``encode`` computes (prompts, model or tokenizer
    arguments), read from its JSON files; None for anything else, which then loads through
    sentence-transformers itself.

    >>> standard_layout("/no/such/folder") is None
    True
    """
    import json

    root = Path(source)
    try:
        modules = json.loads((root / "modules.json").read_text(encoding="utf-8"))
        types = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
        if types not in STANDARD_STACKS:
            return None
        transformer_dir = root / modules[0].get("path", "")
        pooling = _pooling_mode(json.loads((root / modules[1]["path"] / "config.json").read_text(encoding="utf-8")))
        settings = json.loads((transformer_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        extra = root / "config_sentence_transformers.json"
        prompts = json.loads(extra.read_text(encoding="utf-8")) if extra.exists() else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if pooling is None or set(settings) - {"max_seq_length", "do_lower_case"}:
        return None
    if prompts.get("prompts") or prompts.get("default_prompt_name"):
        return None
    if not isinstance(settings.get("max_seq_length"), int) or not (transformer_dir / "config.json").exists():
        return None
    return StandardLayout(
        transformer_dir, pooling, len(types) == 3, settings["max_seq_length"], bool(settings.get("do_lower_case"))
    )


def sentence_transformer_parts(st_model):
    """``(hf_model, pooling, normalize)`` when a SentenceTransformer is the usual
    Transformer -> Pooling -> (Normalize) stack the streaming encoder reproduces, else None."""
    modules = list(st_model)
    types = [type(m).__name__ for m in modules]
    if types not in STANDARD_STACKS:
        return None
    pooler = modules[1]
    mode = _pooling_mode(pooler.get_config_dict() if hasattr(pooler, "get_config_dict") else {})
    if mode is None:
        return None
    return modules[0].auto_model, mode, len(types) == 3
