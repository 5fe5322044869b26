"""The column protocol every scored table follows: a model's scores are ``score_<name>`` and
why a pair has no score is ``reason_<name>``, where ``<name>`` is the model's ``name``. Every
module that writes or reads those columns goes through here.

>>> score_column("glove-50d"), reason_column("glove-50d")
('score_glove-50d', 'reason_glove-50d')
>>> scored_models(["query", "score_minilm", "reason_minilm", "score_tfidf"])
['minilm', 'tfidf']
"""

from __future__ import annotations

from collections.abc import Iterable

SCORE = "score_"
REASON = "reason_"
PROB = "prob_"


def score_column(name: str) -> str:
    """The column of model ``name``'s scores."""
    return f"{SCORE}{name}"


def reason_column(name: str) -> str:
    """The column saying why a pair has no score from model ``name`` (empty when it has one)."""
    return f"{REASON}{name}"


def prob_column(name: str) -> str:
    """The column of model ``name``'s calibrated scores (a fitted calibrator's probability)."""
    return f"{PROB}{name}"


def is_score(column) -> bool:
    return str(column).startswith(SCORE)


def is_reason(column) -> bool:
    return str(column).startswith(REASON)


def model_of(column: str) -> str:
    """The model name of a score or reason column (a column of neither kind as it is)."""
    return str(column).removeprefix(SCORE) if is_score(column) else str(column).removeprefix(REASON)


def score_columns(columns: Iterable) -> list[str]:
    """The score columns among ``columns`` (a frame's columns or any names), in order."""
    return [c for c in columns if is_score(c)]


def scored_models(columns: Iterable) -> list[str]:
    """The model names of the score columns among ``columns``, in order."""
    return [model_of(c) for c in score_columns(columns)]
