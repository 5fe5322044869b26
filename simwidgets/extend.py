"""Extension points: a new model family is an :class:`Embedder` (vectors) or a
:class:`PairScorer` (a score per pair; :class:`PairFunction` wraps any function), both a
:class:`Model`, made known with :func:`register_family`; the validation, caching, batching,
progress and reasons come from the base classes.

>>> from simwidgets import extend
>>> "glove-50d" in extend.KNOWN_SPECS
True
"""

from .models import KNOWN_SPECS, Embedder, Model, PairFunction, PairScorer, register_family
from .vectors import normalize_rows
from .vocab import Vocabulary

__all__ = [
    "KNOWN_SPECS",
    "Embedder",
    "Model",
    "PairFunction",
    "PairScorer",
    "Vocabulary",
    "normalize_rows",
    "register_family",
]
