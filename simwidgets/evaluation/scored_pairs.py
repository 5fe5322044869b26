"""A table of pairs scored for a view: the one step the threshold tuner, the model comparison and
the labeller take before they show anything.

One column check (every named column is in the table, or one error listing its columns), one
missing-text rule (:func:`~simwidgets.texts.display_text`), one label-cut rule
(:func:`~simwidgets.evaluation.gold.default_label_cut`), and the stacked model's column from
:meth:`~simwidgets.evaluation.ensemble.EnsembleResult.predict_column`, as the batch job makes it.

>>> scored = score_table(df, "query", "result", "grade", models=["minilm", "glove-50d"])  # doctest: +SKIP
>>> scored.names, scored.scores.shape, scored.label_cut                                # doctest: +SKIP
(['minilm', 'glove-50d'], (2, 400), 0.5)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..columns import is_score, model_of, score_column
from ..errors import NotFoundError, OptionError
from ..models import load_models
from ..models.trained_pairs import in_sample
from ..similarity import score_pairs
from ..texts import display_text
from .gold import default_label_cut


@dataclass
class ScoredTable:
    """Pairs and what every model said of them, ready to show."""

    #: The input rows (their own index).
    frame: pd.DataFrame
    #: The two texts of each pair as shown (a missing text is ``""``).
    left: list[str]
    right: list[str]
    #: Model names, in the order of :attr:`scores`' rows (``"ensemble"`` last with a stacked model).
    names: list[str]
    #: float64 ``(models, pairs)``: NaN where a model gave no score.
    scores: np.ndarray
    #: :func:`~simwidgets.score_pairs`' frame (``left``, ``right``, ``score_*``, ``reason_*``).
    scored: pd.DataFrame
    #: The labels as floats (NaN where missing), or None without a label column.
    gold: np.ndarray | None
    #: A label at or above it counts as similar.
    label_cut: float
    #: The loaded models (none for precomputed score columns).
    models: list = field(default_factory=list)
    #: Per model, how many of these pairs it was trained on (only models that were).
    trained_on: dict = field(default_factory=dict)

    def with_scores(self) -> pd.DataFrame:
        """The input rows with every model's ``score_*`` and ``reason_*`` columns."""
        extra = self.scored.drop(columns=["left", "right"]).reset_index(drop=True)
        return pd.concat([self.frame.reset_index(drop=True), extra], axis=1).set_axis(self.frame.index)


def check_columns(frame, columns, what: str = "pairs_df") -> None:
    """Refuse a table that is not a DataFrame, or lacks a named column, listing its columns."""
    if not isinstance(frame, pd.DataFrame):
        raise OptionError(f"{what} must be a DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c is not None and c not in frame]
    if missing:
        raise NotFoundError(f"column(s) {missing} not in {what}; its columns are {list(frame.columns)}")


def score_table(
    frame: pd.DataFrame,
    left: str,
    right: str,
    label: str | None = None,
    models=("minilm",),
    *,
    score_columns=None,
    ensemble=None,
    label_cut: float | None = None,
    scored: pd.DataFrame | None = None,
    where: str | None = "score_table",
    what: str = "pairs_df",
) -> ScoredTable:
    """Score ``frame``'s pairs with ``models`` (or read its precomputed ``score_columns``),
    add a stacked model's column, and read the labels.

    ``scored``: scores already computed for these pairs (``score_pairs``' frame, e.g. out of
    cross-validation); the models are not run again. A stacked model takes its models' scores
    from the scores computed here, else from ``frame``'s own ``score_*`` columns. ``where``
    names the caller in the warning about a model shown on its own training pairs (None: the
    view shows no figures, so no warning), ``what`` the table in errors."""
    columns = [score_columns] if isinstance(score_columns, str) else list(score_columns or [])
    check_columns(frame, [left, right, label, *columns], what)
    loaded = []
    if scored is not None:
        names = [model_of(c) for c in scored.columns if is_score(c)]
    elif columns:
        scored = pd.DataFrame({"left": frame[left].to_numpy(), "right": frame[right].to_numpy()})
        for column in columns:
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(np.float64)
            scored[column if is_score(column) else score_column(column)] = values
        names = [model_of(c) for c in columns]
    else:
        loaded = load_models(list(models) if isinstance(models, (list, tuple)) else [models])
        scored = score_pairs(frame[left], frame[right], loaded)
        names = [m.name for m in loaded]
    trained = {} if where is None else in_sample(scored, where, len(frame))
    lefts, rights = [display_text(v) for v in frame[left]], [display_text(v) for v in frame[right]]
    if ensemble is not None:
        source = scored if all(c in scored for c in ensemble.score_columns) else frame.reset_index(drop=True)
        prediction, _ = ensemble.predict_column(source, frame[left], frame[right], scoring=what)
        scored[score_column("ensemble")] = prediction
        names.append("ensemble")
    matrix = np.stack([scored[score_column(n)].to_numpy(np.float64) for n in names])
    gold = None if label is None else pd.to_numeric(frame[label], errors="coerce").to_numpy(np.float64)
    if label_cut is None:
        label_cut = 0.5 if gold is None else default_label_cut(gold)
    return ScoredTable(frame, lefts, rights, names, matrix, scored, gold, float(label_cut), loaded, trained)
