"""Vocabularies: a model's tokens, their vectors and what kind of token each one is."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import InputError
from .index import NeighbourIndex
from .vectors import normalize_rows

#: Token kinds, in the order widgets show them.
KINDS = ("special", "continuation", "number", "punctuation", "word")

_NUMBER = re.compile(r"^[+-]?(\d+([.,:/]\d+)*|\d*\.\d+)(st|nd|rd|th|s|%)?$")
_SPECIAL = re.compile(r"^(\[[A-Za-z0-9_]+\]|<[A-Za-z0-9_/|]+>)$")


def token_kind(token: str, specials: frozenset[str] = frozenset()) -> str:
    """Classify one token as ``special``, ``continuation``, ``number``, ``punctuation`` or ``word``.

    ``specials`` lists the model's own special tokens; bracketed tokens such as ``[CLS]`` or
    ``[unused12]`` and angle-bracket tokens such as ``<unk>``
    count as special even when not listed (fastai passes its ``xx`` rule tokens in ``specials``).
    """
    if token in specials or _SPECIAL.match(token):
        return "special"
    if token.startswith("##") and len(token) > 2:
        return "continuation"
    if _NUMBER.match(token):
        return "number"
    if all(unicodedata.category(ch)[0] in "PS" for ch in token):
        return "punctuation"
    return "word"


def token_kinds(tokens: Iterable[str], specials: Iterable[str] = ()) -> np.ndarray:
    """:func:`token_kind` for every token, as an array of strings."""
    special_set = frozenset(specials)
    return np.array([token_kind(t, special_set) for t in tokens], dtype=object)


@dataclass
class Vocabulary:
    """The token list and embedding matrix of a model.

    Attributes
    ----------
    tokens
        The tokens, row-aligned with ``vectors``.
    vectors
        ``(n_tokens, dim)`` float32 matrix (for ULMFiT, exactly the encoder weight).
    kinds
        One of :data:`KINDS` per token.
    ranks
        Frequency rank per token (0 = most frequent) where the model knows it, else ``None``.
    cased
        Whether the tokens distinguish upper and lower case.
    """

    tokens: Sequence[str]
    vectors: np.ndarray
    kinds: np.ndarray
    ranks: np.ndarray | None = None
    cased: bool = True
    _index: dict[str, int] | None = field(default=None, repr=False, compare=False)
    _unit: np.ndarray | None = field(default=None, repr=False, compare=False)
    _indexes: dict | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.vectors):
            raise InputError(f"{len(self.tokens)} tokens but {len(self.vectors)} vectors: they must be row-aligned")
        if len(self.kinds) != len(self.tokens):
            raise InputError("kinds must have one entry per token")

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def index(self) -> dict[str, int]:
        """Token -> row; where a token repeats, its first (most frequent) row wins."""
        if self._index is None:
            index: dict[str, int] = {}
            for i, token in enumerate(self.tokens):
                index.setdefault(token, i)
            self._index = index
        return self._index

    def lookup(self, token: str) -> int | None:
        """Row of ``token``; uncased vocabularies are searched in lower case."""
        row = self.index.get(token)
        if row is None and not self.cased:
            row = self.index.get(token.lower())
        return row

    def unit_vectors(self) -> np.ndarray:
        """Row-normalised float32 copy of ``vectors`` (zero rows stay zero), computed once."""
        if self._unit is None:
            self._unit = normalize_rows(self.vectors)
        return self._unit

    def neighbour_index(self, kind: str = "exact", **options):
        """A :class:`~simwidgets.index.NeighbourIndex` over the vectors, built once per kind."""
        key = (kind, tuple(sorted(options.items())))
        if self._indexes is None:
            self._indexes = {}
        if key not in self._indexes:
            self._indexes[key] = NeighbourIndex(self.vectors, kind, **options)
        return self._indexes[key]

    def to_frame(self) -> pd.DataFrame:
        """Tokens, kinds and ranks as a DataFrame (vectors are left out)."""
        frame = pd.DataFrame({"token": list(self.tokens), "kind": self.kinds})
        if self.ranks is not None:
            frame["rank"] = self.ranks
        return frame

    def subset(self, rows: np.ndarray | slice) -> Vocabulary:
        """A vocabulary of the given rows (for example the most frequent 50,000)."""
        idx = np.arange(len(self))[rows]
        return Vocabulary(
            tokens=[self.tokens[i] for i in idx],
            vectors=self.vectors[idx],
            kinds=self.kinds[idx],
            ranks=None if self.ranks is None else self.ranks[idx],
            cased=self.cased,
        )
