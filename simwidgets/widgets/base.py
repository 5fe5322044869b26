"""What every widget shares: strict constructors, binary arrays, the built JS bundles."""

from __future__ import annotations

from pathlib import Path

import anywidget
import numpy as np

from ..errors import InputError, OptionError

STATIC = Path(__file__).resolve().parent.parent / "static"
STYLE = STATIC / "widgets.css"

#: dtypes that cross to the browser as they are; others are cast explicitly (see to_wire).
WIRE_DTYPES = ("float32", "float64", "int32", "uint32", "int16", "uint16", "int8", "uint8")


def to_wire(array, widget=None) -> dict | None:
    """A numpy array as ``{buffer, dtype, shape}``: raw bytes travel as a binary buffer.

    float64 is sent as float32 and int64 as int32 (JavaScript has no int64 typed array
    that canvas code can use); other dtypes must already be one of :data:`WIRE_DTYPES`.
    """
    if array is None:
        return None
    arr = np.asarray(array)
    if arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    elif arr.dtype == np.int64:
        if arr.size and (arr.max() > np.iinfo(np.int32).max or arr.min() < np.iinfo(np.int32).min):
            raise InputError("int64 values do not fit in int32 for the browser")
        arr = arr.astype(np.int32)
    elif arr.dtype == np.bool_:
        arr = arr.astype(np.uint8)
    if arr.dtype.name not in WIRE_DTYPES:
        raise OptionError(f"cannot send dtype {arr.dtype} to the browser; use one of {WIRE_DTYPES}")
    arr = np.ascontiguousarray(arr)
    return {
        "buffer": memoryview(arr.reshape(-1).view(np.uint8)),
        "dtype": arr.dtype.name,
        "shape": list(arr.shape),
    }


def from_wire(value, widget=None):
    """Inverse of :func:`to_wire` (arrays do not normally come back from the browser)."""
    if value is None:
        return None
    return np.frombuffer(bytes(value["buffer"]), dtype=value["dtype"]).reshape(value["shape"])


ARRAY = {"to_json": to_wire, "from_json": from_wire}


class Widget(anywidget.AnyWidget):
    """Base of the simwidgets widgets: unknown keyword arguments are an error, not ignored,
    and the browser's requests (``js/lib/rpc.js``) are answered by id, errors included."""

    #: Requests the browser may make: request name -> name of the method that answers it.
    _rpc_methods: dict[str, str] = {}

    def __init__(self, **kwargs):
        unknown = sorted(k for k in kwargs if not self.has_trait(k) and not k.startswith("_"))
        if unknown:
            known = sorted(n for n in self.trait_names(sync=True) if not n.startswith("_"))
            raise OptionError(f"{type(self).__name__} got unknown argument(s) {unknown}; its traits are {known}")
        super().__init__(**kwargs)
        if self._rpc_methods:
            self.on_msg(self._answer_request)

    def _answer_request(self, widget, content, buffers) -> None:
        """Answer one ``rpc-request`` with an ``rpc-reply`` of the same id: its result, or the
        error it raised (the browser shows it instead of waiting)."""
        if not isinstance(content, dict) or content.get("type") != "rpc-request":
            return
        name = content.get("method")
        try:
            method = self._rpc_methods.get(name)
            if method is None:
                raise InputError(f"unknown request {name!r}; this widget answers {sorted(self._rpc_methods)}")
            params = content.get("params") or {}
            if not isinstance(params, dict):
                raise OptionError(f"request parameters must be an object, got {type(params).__name__}")
            reply = {"ok": True, "result": getattr(self, method)(**params)}
        except Exception as exc:  # every failure goes back to the browser, keyed by the request id
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        self.send({"type": "rpc-reply", "id": content.get("id"), **reply})


def model_position(proposal, names: list[str]) -> int:
    """A trait's proposed model position, refused unless it names one of ``names``."""
    import traitlets as t

    value = proposal["value"]
    if not 0 <= value < max(len(names), 1):
        raise t.TraitError(f"{proposal['trait'].name} must be from 0 to {len(names) - 1} (models {names}), got {value}")
    return value


def bundle(name: str) -> Path:
    """Path of a built JS bundle (``simwidgets/static/<name>.js``), with a clear error if missing."""
    path = STATIC / f"{name}.js"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: build the frontend with `make js`")
    return path
