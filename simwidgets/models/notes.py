"""What a model noted about each text, one text at a time (:class:`Note`) or column by column
(:class:`Notes`, what the embedding pipeline carries so a million texts cost no Python loop)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError


@dataclass(frozen=True)
class Note:
    """What happened to one text inside a model: out-of-vocabulary tokens, truncation, failure."""

    oov: tuple[str, ...] = ()
    n_tokens: int = 0
    truncated: bool = False
    reason: str | None = None  # set when the model could not give a vector (vector is NaN)


def _objects(values, n: int) -> np.ndarray:
    """A 1-D object array of ``values`` (tuples stay elements, not rows)."""
    out = np.empty(n, dtype=object)
    out[:] = list(values) if not isinstance(values, np.ndarray) else values
    return out


@dataclass
class Notes:
    """The notes of many texts as columns.

    ``oov`` and ``reasons`` are ``None`` when no text has any (the common case for
    transformers), else object arrays of tuples / strings-or-None.
    """

    n_tokens: np.ndarray
    truncated: np.ndarray
    oov: np.ndarray | None = None
    reasons: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.n_tokens)

    @classmethod
    def blank(cls, n: int) -> Notes:
        """Notes of ``n`` texts with nothing to say (token counts unknown)."""
        return cls(np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool))

    @classmethod
    def from_counts(cls, n_tokens, truncated=None) -> Notes:
        n_tokens = np.asarray(n_tokens, dtype=np.int64)
        cut = np.zeros(len(n_tokens), dtype=bool) if truncated is None else np.asarray(truncated, dtype=bool)
        return cls(n_tokens, cut)

    @classmethod
    def from_list(cls, notes: list[Note]) -> Notes:
        n = len(notes)
        n_tokens = np.fromiter((note.n_tokens for note in notes), dtype=np.int64, count=n)
        truncated = np.fromiter((note.truncated for note in notes), dtype=bool, count=n)
        oov = reasons = None
        if any(note.oov for note in notes):
            oov = _objects((note.oov for note in notes), n)
        if any(note.reason is not None for note in notes):
            reasons = _objects((note.reason for note in notes), n)
        return cls(n_tokens, truncated, oov, reasons)

    @classmethod
    def coerce(cls, notes, n: int) -> Notes:
        """What a model's ``embed_batch`` returned (a list of Note, Notes or None) as Notes."""
        if notes is None:
            return cls.blank(n)
        if isinstance(notes, Notes):
            out = notes
        else:
            out = cls.from_list(list(notes))
        if len(out) != n:
            raise InputError(f"a model returned {len(out)} notes for {n} texts")
        return out

    @classmethod
    def concat(cls, parts: list[Notes]) -> Notes:
        if not parts:
            return cls.blank(0)
        n_tokens = np.concatenate([p.n_tokens for p in parts])
        truncated = np.concatenate([p.truncated for p in parts])

        def column(name: str, fill):
            if all(getattr(p, name) is None for p in parts):
                return None
            pieces = []
            for p in parts:
                values = getattr(p, name)
                if values is None:
                    values = np.empty(len(p), dtype=object)
                    values.fill(fill)
                pieces.append(values)
            return np.concatenate(pieces)

        return cls(n_tokens, truncated, column("oov", ()), column("reasons", None))

    def take(self, index) -> Notes:
        index = np.asarray(index, dtype=np.int64)
        return Notes(
            self.n_tokens[index],
            self.truncated[index],
            None if self.oov is None else self.oov[index],
            None if self.reasons is None else self.reasons[index],
        )

    def oov_column(self) -> np.ndarray:
        """Out-of-vocabulary tokens per text, as an object array of tuples."""
        if self.oov is not None:
            return self.oov
        out = np.empty(len(self), dtype=object)
        out.fill(())
        return out

    def reason_column(self) -> np.ndarray:
        if self.reasons is not None:
            return self.reasons
        return np.full(len(self), None, dtype=object)

    def to_list(self) -> list[Note]:
        oov, reasons = self.oov_column(), self.reason_column()
        return [
            Note(tuple(o), int(k), bool(t), r)
            for o, k, t, r in zip(oov, self.n_tokens.tolist(), self.truncated.tolist(), reasons)
        ]

    def __getitem__(self, i: int) -> Note:
        return Note(
            () if self.oov is None else tuple(self.oov[i]),
            int(self.n_tokens[i]),
            bool(self.truncated[i]),
            None if self.reasons is None else self.reasons[i],
        )
