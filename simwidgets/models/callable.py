"""Any function from a list of texts to a 2-D array, as a model."""

from __future__ import annotations

import numpy as np

from ..errors import OptionError
from .base import Embedder


class CallableModel(Embedder):
    """Wrap any function from a list of texts to a 2-D array of vectors."""

    def __init__(self, function, name: str | None = None, batch_size: int = 256, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise OptionError(f"expected a callable, got {type(function).__name__}")
        self.function = function
        self.name = name or getattr(function, "__name__", "callable")
        if self.name == "<lambda>":
            self.name = "callable"
        self.batch_size = batch_size

    @property
    def identity(self) -> str:
        """Name plus the function's module and qualified name: stable across sessions, so a
        disk cache is found again. Give distinct ``name``s to distinct functions."""
        fn = self.function
        where = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', type(fn).__qualname__)}"
        return f"callable:{self.name}:{where}"

    def embed_batch(self, texts: list[str]) -> tuple[np.ndarray, None]:
        result = self.function(list(texts))
        try:
            vectors = np.asarray(result, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise OptionError(
                f"model {self.name!r} must return a 2-D array of numbers, got {type(result).__name__}"
            ) from exc
        return vectors, None
