"""From a spec to a loaded model: the builders of every family, a registry for new ones, and
:func:`load_model`, which keeps loaded models per spec and options.

A new family is one builder and one line::

    from simwidgets.models import Embedder, register_family

    class MyModel(Embedder):
        def __init__(self, path, name=None, **kwargs):
            super().__init__(**kwargs)
            self.name = name or "mine"
            ...

        def embed_batch(self, texts):
            return vectors, None

    register_family("mine:PATH", lambda path, **options: MyModel(path, **options),
                    "my own model", options={"name": str})
    load_model("mine:./weights?name=m1")
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable

from ..errors import InputError, OptionError
from .base import Embedder, Model
from .callable import CallableModel
from .specs import DEFAULT_MODEL, FAMILIES, Family, check_options, parse_spec, unknown_spec

#: The record a finished training job writes last into its model's folder (training/store.py).
TRAINED_RECORD = "simwidgets-training.json"
_LOADED: dict[tuple, Embedder] = {}
_STAMPS: dict[tuple, tuple | None] = {}  # what the files of each loaded model were when it loaded


def loaded_families() -> list[str]:
    """The model families loaded (and kept) in this process, sorted."""
    return sorted(str(key[0]) for key in _LOADED)


def _stamp(target) -> tuple | None:
    """What identifies the files behind a spec's path now: the path's inode (and a file's
    modification time), and those of a trained model's finished-record in or beside it. A model retrained into the same
    folder (a new folder renamed into place) gets a new stamp, so it is loaded again."""
    if not isinstance(target, str):
        return None
    path = os.path.expanduser(target)
    stamps = []
    for candidate in (path, os.path.join(path, TRAINED_RECORD), os.path.join(os.path.dirname(path), TRAINED_RECORD)):
        try:
            info = os.stat(candidate)
        except OSError:
            continue
        stamps.append((candidate, info.st_ino, 0 if os.path.isdir(candidate) else info.st_mtime_ns))
    return tuple(stamps) or None


_LOADING = threading.RLock()  # threads asking for one model at once load it once


def register_family(spec: str, builder: Callable[..., Embedder], help: str, *, options: dict | None = None) -> None:
    """Teach :func:`load_model` (and so every API, widget and the command line) a new family.

    Parameters
    ----------
    spec
        ``"name"`` for a family without a path, ``"name:PATH"`` for one with a path.
    builder
        ``builder(target, **options) -> Embedder``; ``target`` is the path (None without one).
    help
        One line for the list of known specs.
    options
        The options it takes, as in :class:`~simwidgets.models.specs.Family` (a type, a tuple
        of choices or ``"device"``); ``name``, ``cache_dir`` and ``memory_cache`` always count.
    """
    family = spec.partition(":")[0].strip().lower()
    if not family or any(c in family for c in "?&= "):
        raise InputError(f"a family name is letters, digits and dashes, got {family!r}")
    if family in FAMILIES:
        raise InputError(f"model family {family!r} exists already")
    with_path = ":" in spec
    build = builder if with_path else (lambda **o: builder(None, **o))
    FAMILIES[family] = Family(f"{family}:{spec.partition(':')[2]}" if with_path else family, help, dict(options or {}),
                              build)  # fmt: skip


def _builder(family: Family) -> Callable[..., Embedder]:
    """The family's builder: a callable, or ``"module:function"`` of this package imported now."""
    if callable(family.build):
        return family.build
    module, _, attribute = family.build.partition(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), attribute)


def _build(family: str, target: str | None, options: dict, spec: str) -> Embedder:
    record = FAMILIES.get(family)
    if record is None or (target is None) == record.with_path:
        raise unknown_spec(spec)
    if target is not None and not target:
        raise InputError(f"model spec {spec!r} names no path: write it as '{family}:PATH'")
    build = _builder(record)
    options = {**record.defaults, **options}
    return build(target, **options) if record.with_path else build(**options)


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
    if isinstance(spec, Model):
        if options:
            raise OptionError("options cannot be applied to an already loaded model")
        return spec
    if callable(spec):
        return CallableModel(spec, **options)
    if not isinstance(spec, str):
        raise OptionError(f"a model is a spec string, a callable or an Embedder, not {type(spec).__name__}")
    family, target, spec_options = parse_spec(spec)
    merged = {**spec_options, **options}
    if family in FAMILIES:  # an unknown option or value is named before anything loads
        try:
            check_options(family, merged, spec)
        except ValueError as exc:
            if str(exc).startswith("unknown option"):  # a keyword the model's builder does not take
                raise OptionError(f"model {spec!r} does not take option(s): {exc}") from None
            raise
    try:
        key = (family, target, tuple(sorted(merged.items())))
        hash(key)
    except TypeError:
        key = None
    if family.startswith("tfidf"):
        key = None  # fitted on the texts of each comparison: never shared between calls
    if key is None:
        return _build_checked(family, target, merged, spec)
    stamp = _stamp(target)
    if key in _LOADED and _STAMPS.get(key) == stamp:
        return _LOADED[key]
    with _LOADING:
        if key not in _LOADED or _STAMPS.get(key) != stamp:
            _LOADED[key] = _build_checked(family, target, merged, spec)
            _STAMPS[key] = stamp
        return _LOADED[key]


def _build_checked(family: str, target, options: dict, spec: str) -> Embedder:
    try:
        model = _build(family, target, options, spec)
        if isinstance(target, str) and os.path.exists(os.path.expanduser(target)):
            model.origin = os.path.abspath(os.path.expanduser(target))  # a trained model's folder says what it saw
        return model
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise OptionError(f"model {spec!r} does not take option(s) {sorted(options)}: {exc}") from exc
        raise


def load_models(specs) -> list[Embedder]:
    """:func:`load_model` for one spec or a list of them; names must be distinct."""
    if isinstance(specs, (str, Model)) or callable(specs):
        specs = [specs]
    models = [load_model(s) for s in specs]
    names = [m.name for m in models]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"two models share the name(s) {dupes}; pass name=... to tell them apart")
    if not models:
        raise InputError("no models given")
    return models
