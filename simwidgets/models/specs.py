"""The spec grammar: ``"family:target?option=value&..."``, which families exist and what options each takes.

Nothing here loads a model; :func:`check_spec` refuses a bad spec before any work starts (the
batch runner calls it on the client, before a worker loads anything).

>>> parse_spec("hf:./bert?pooling=cls&layer=-2")
('hf', './bert', {'pooling': 'cls', 'layer': -2})
>>> check_spec("glove-50d?poolin=sif")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
simwidgets.errors.InputError: unknown option 'poolin' in model spec ... (did you mean 'pooling'?); ...
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl

from ..errors import InputError
from .fused_bert import KERNELS

DEFAULT_MODEL = "minilm"


def _parse_value(raw: str):
    low = raw.lower()
    if low in ("none", "null", "off"):
        return None
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        return raw


def parse_spec(spec: str) -> tuple[str, str | None, dict]:
    """Split ``"family:target?k=v&..."`` into ``(family, target, options)``."""
    base, _, query = spec.partition("?")
    options = {k: _parse_value(v) for k, v in parse_qsl(query, keep_blank_values=True)}
    family, sep, target = base.partition(":")
    if not sep:
        return base.strip().lower(), None, options
    return family.strip().lower(), target, options


def unknown_spec(spec: str) -> InputError:
    known = "\n".join(f"  {k:<18} {v}" for k, v in KNOWN_SPECS.items())
    return InputError(f"unknown model spec {spec!r}. Known specs:\n{known}\nor pass a callable")


_COMMON = {"name": str, "cache_dir": str, "memory_cache": int}
_STREAM = {
    "device": "device",
    "streaming": bool,
    "pipeline": bool,  # the old name of streaming (deprecated)
    "dtype": ("float16", "bfloat16", "float32"),
    "token_budget": int,
    "max_batch": int,
    "chunk_size": int,
    "threads": int,
    "multiple": int,
    "processes": int,
    "row_steps": int,
    "compile": ("default", "max-autotune-no-cudagraphs", "reduce-overhead"),
    "graphs": bool,
    "kernels": KERNELS,
    "centre": int,
    "backend": ("torch", "onnx", "onnx-int8", "openvino", "openvino-int8"),
}
_WORDS = {"pooling": ("mean", "sif"), "sif_a": float, "max_vocab": int}
_ULMFIT = {"pooling": ("mean", "max", "last", "concat"), "max_tokens": int, "centre": int}


@dataclass(frozen=True)
class Family:
    """Everything the package knows of one model family, in one record.

    ``spec`` is how it is written (``"glove-50d"``, or ``"st:PATH_OR_NAME"`` for a family
    with a path); ``options`` the options it takes (a tuple of choices, a type, or
    ``"device"``); ``build`` makes the model: ``build(target, **options)`` for a family with a
    path, ``build(**options)`` for one without. It is ``"module:function"`` inside
    :mod:`simwidgets.models`, imported only when a model of the family loads, or a callable (a
    family made known with :func:`~simwidgets.models.register_family`). ``defaults`` are
    keywords ``build`` always gets (two families sharing one builder).
    """

    spec: str
    help: str
    options: dict
    build: object
    defaults: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.partition(":")[0]

    @property
    def with_path(self) -> bool:
        return ":" in self.spec


#: Every family, by name: the one table a new family is added to.
FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("minilm", "bundled all-MiniLM-L6-v2 sentence encoder (default)", _STREAM, "backends:load_minilm"),
        Family("glove-50d", "bundled GloVe 6B 50-d word vectors", _WORDS, "wordvectors:load_bundled_glove"),
        Family(
            "ulmfit-small",
            "small AWD-LSTM trained offline on gensim's Lee corpus (first use: ~10 s)",
            _ULMFIT,
            "ulmfit:load_small_ulmfit",
        ),
        Family("tfidf", "TF-IDF over words", {"max_features": int}, "tfidf:TfidfModel", {"analyzer": "word"}),
        Family(
            "tfidf-char",
            "TF-IDF over character n-grams",
            {"max_features": int},
            "tfidf:TfidfModel",
            {"analyzer": "char"},
        ),
        Family(
            "st:PATH_OR_NAME",
            "a sentence-transformers model (backend=onnx|onnx-int8|openvino|openvino-int8: on the CPU)",
            _STREAM,
            "backends:load_sentence_encoder",
        ),
        Family(
            "hf:PATH_OR_NAME",
            "a Hugging Face encoder (options: pooling=mean|cls, layer=N)",
            {"pooling": ("mean", "cls"), "layer": int, "device": "device", "centre": int},
            "transformer:HuggingFaceModel",
        ),
        Family(
            "ce:PATH_OR_NAME",
            "a sentence-transformers cross-encoder: scores pairs in [0, 1], no vectors",
            {"device": "device", "batch_size": int, "max_tokens": int, "dtype": ("float16", "bfloat16", "float32")},
            "cross_encoder:CrossEncoderModel",
        ),
        Family(
            "ulmfit:PATH",
            "a fastai ULMFiT model (weights+vocab folder; or export .pkl with trust=true)",
            {**_ULMFIT, "trust": bool, "vocab": str},
            "ulmfit:load_ulmfit",
        ),
        Family(
            "m2v:PATH",
            "a model2vec static model folder (simwidgets.distill_static makes one from any sentence encoder)",
            {"max_tokens": int},
            "static_model:StaticModel",
        ),
        Family(
            "glove:PATH", "GloVe vectors in text format", _WORDS, "wordvectors:load_word_vectors", {"family": "glove"}
        ),
        Family(
            "word2vec:PATH",
            "word2vec vectors, text or .bin",
            _WORDS,
            "wordvectors:load_word_vectors",
            {"family": "word2vec"},
        ),
        Family(
            "fasttext:PATH",
            "fastText vectors, .bin (with subwords) or .vec",
            _WORDS,
            "wordvectors:load_word_vectors",
            {"family": "fasttext"},
        ),
        Family(
            "use:PATH",
            "a Universal Sentence Encoder SavedModel folder from TF-Hub (needs [tfhub])",
            {"batch_size": int},
            "tfhub:UniversalSentenceEncoder",
        ),
        Family(
            "elmo:PATH",
            "an ELMo v3 TF-Hub folder, mean of its layer over tokens (pooling=mean|default; needs [tfhub])",
            {"batch_size": int, "pooling": ("mean", "default")},
            "tfhub:ELMoModel",
        ),
    )
}


class _View(Mapping):
    """A read-only view of one field of :data:`FAMILIES` (kept for the names older code reads)."""

    def __init__(self, key, value):
        self._key, self._value = key, value

    def __getitem__(self, k):
        for f in FAMILIES.values():
            if self._key(f) == k:
                return self._value(f)
        raise KeyError(k)

    def __iter__(self):
        return (self._key(f) for f in FAMILIES.values())

    def __len__(self) -> int:
        return len(FAMILIES)


#: What :func:`load_model` understands (spec -> one line of help), for help texts and errors.
KNOWN_SPECS: Mapping[str, str] = _View(lambda f: f.spec, lambda f: f.help)
#: The options each family takes (family -> {option: rule}).
OPTIONS: Mapping[str, dict] = _View(lambda f: f.name, lambda f: f.options)


def bundled_families() -> tuple[str, ...]:
    """Families that need no path (``minilm``, ``glove-50d``...)."""
    return tuple(f.name for f in FAMILIES.values() if not f.with_path)


def path_families() -> tuple[str, ...]:
    """Families written ``family:PATH`` (``st``, ``hf``, ``glove``...)."""
    return tuple(f.name for f in FAMILIES.values() if f.with_path)


def check_options(family: str, options: dict, spec: str = "") -> None:
    """Refuse, loading nothing, an option a model family does not take or a value it cannot
    use: ``glove-50d?poolin=sif`` and ``glove-50d?pooling=siff`` fail here, in one line."""
    allowed = {**(FAMILIES[family].options if family in FAMILIES else {}), **_COMMON}
    where = f" in model spec {spec!r}" if spec else ""
    for key, value in options.items():
        if key not in allowed:
            import difflib

            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(f"unknown option {key!r}{where}{hint}; {family} takes: {', '.join(sorted(allowed))}")
        rule = allowed[key]
        if isinstance(rule, tuple):
            if value not in rule:
                raise InputError(f"{key}={value!r}{where} is not one of {', '.join(map(str, rule))}")
        elif rule == "device":
            if not (isinstance(value, str) and value.split(":")[0] in ("cpu", "cuda", "mps")):
                raise InputError(f"device={value!r}{where} is not cpu, cuda, cuda:N or mps")
        elif rule is bool:
            if value not in (True, False):  # 1 and 0 count, as in the spec string
                raise InputError(f"{key}={value!r}{where} must be true or false")
        elif rule is int:
            if key == "centre" and value in (None, "saved"):
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(f"{key}={value!r}{where} must be a whole number")
        elif rule is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(f"{key}={value!r}{where} must be a number")
        elif rule is str and value is not None and not isinstance(value, (str, Path)):
            raise InputError(f"{key}={value!r}{where} must be a text")


def device_options(spec: str, device: str | None) -> dict:
    """``{"device": device}`` for a spec whose family runs on a device (transformers,
    cross-encoders), ``{}`` for one that does not (word vectors, TF-IDF): a job's
    ``--device cuda`` applies to the models it can apply to.

    >>> device_options("minilm", "cuda"), device_options("glove-50d", "cuda")
    ({'device': 'cuda'}, {})
    """
    if not device or not isinstance(spec, str):
        return {}
    family = FAMILIES.get(parse_spec(spec)[0])
    return {"device": device} if family is not None and family.options.get("device") == "device" else {}


def check_spec(spec, **options) -> None:
    """Refuse at once, loading nothing, a spec string that cannot load: an unknown family, a
    path family without its path, an option the family does not take or a value it cannot
    use, a local path that does not exist (``st:``/``hf:`` may also name a model of the
    Hugging Face hub), or a ULMFiT folder without its weights and vocabulary. Loading the
    model checks the rest (a file's contents)."""
    if not isinstance(spec, str):
        return
    family, target, spec_options = parse_spec(spec)
    if target is None and family not in bundled_families() or target is not None and family not in path_families():
        raise unknown_spec(spec)
    check_options(family, {**spec_options, **options}, spec)
    if target is None:
        return
    if not target:
        raise InputError(f"model spec {spec!r} names no path: write it as '{family}:PATH'")
    from .sources import looks_like_path

    path = Path(target).expanduser()
    if (family not in ("st", "hf", "ce") or looks_like_path(target)) and not path.exists():
        raise FileNotFoundError(f"{family} model not found: {path} (from model spec {spec!r})")
    if family == "ulmfit" and path.is_dir():
        missing = [f for f in ("weights.pth", "vocab.json") if not (path / f).is_file()]
        if missing:
            raise FileNotFoundError(
                f"ULMFiT folder {path} lacks {' and '.join(missing)} (from model spec {spec!r}); "
                "a folder written by simwidgets.models.save_ulmfit holds both"
            )
