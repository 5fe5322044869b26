"""ThresholdTuner: choose the similarity threshold that cleans a table of pairs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import traitlets as t

from ..columns import is_score, model_of, score_column
from ..errors import NotFoundError, OptionError, SimwidgetsWarning
from ..evaluation.calibration import random_pair_scores
from ..models import load_models
from ..models.trained_pairs import in_sample
from ..similarity import score_pairs
from .base import ARRAY, STYLE, Widget, bundle


class ThresholdTuner(Widget):
    """Per model: score histograms split by label, a null distribution, and a threshold.

    Moving the slider updates precision, recall, F1, the kept and removed counts and the
    pairs nearest the threshold in the browser, without a kernel round trip; the chosen
    value reaches Python as :attr:`threshold` and :meth:`cleaned` returns the kept rows.

    Parameters
    ----------
    pairs_df
        The pairs to clean.
    left, right
        Text columns.
    label
        Optional column of human labels (0/1, or graded such as 0 / 0.5 / 1). Without it
        the tuner shows the distribution and the kept count only.
    models
        Model specs; the first is selected.
    label_cut
        A label counts as "similar" when >= this (default: the middle of the label range).
    n_null
        Random pairs scored for the null distribution.
    score_columns
        Columns of ``pairs_df`` holding scores already computed (``score_minilm`` from
        :func:`~simwidgets.score_pairs` or ``simwidgets score``, an ensemble's predictions...):
        they are shown as they are, nothing is embedded again, and ``models`` is not needed
        (no random-pair distribution is drawn for them).
    ensemble
        A fitted :class:`~simwidgets.results.EnsembleResult`: its predictions for the pairs (from
        their ``score_*`` columns, or from ``models``) are shown as one more row.
    objective, cv
        With labels, each model's threshold is also chosen out of sample
        (:func:`~simwidgets.choose_threshold`: on ``cv - 1`` folds, judged on the held-out one)
        for ``objective``; the tuner shows it beside the flattering in-sample best, with the
        held-out precision, recall and F1 and their intervals, and a button that moves the
        slider to it.

    Examples
    --------
    >>> tuner = ThresholdTuner(df, left="query", right="result", label="grade", models=["minilm"])  # doctest: +SKIP
    >>> tuner.threshold = 0.4; tuner.cleaned()                                                       # doctest: +SKIP
    """

    _esm = bundle("threshold")
    _css = STYLE

    model_names = t.List(t.Unicode(), help="models, in the order of the score rows").tag(sync=True)
    model_index = t.Int(0, help="which model the threshold applies to").tag(sync=True)
    scores = t.Any(None, help="float32 (models, pairs) cosine scores, NaN where missing").tag(sync=True, **ARRAY)
    null_scores = t.Any(None, help="float32 (models, n_null) scores of random pairs").tag(sync=True, **ARRAY)
    labels = t.Any(None, allow_none=True, help="float32 (pairs,) labels, or None").tag(sync=True, **ARRAY)
    label_cut = t.Float(0.5, help="labels >= label_cut count as similar").tag(sync=True)
    left_texts = t.List(t.Unicode(), help="left texts (for the pairs near the threshold)").tag(sync=True)
    right_texts = t.List(t.Unicode(), help="right texts").tag(sync=True)
    threshold = t.Float(0.5, help="pairs scoring >= threshold are kept").tag(sync=True)
    choices = t.List(
        t.Dict(),
        help="per model: the best-F1 threshold in sample and chosen out of sample (choose_threshold), "
        "with held-out precision, recall, F1 and kept share and their intervals; {why} when it cannot be",
    ).tag(sync=True)

    @t.validate("threshold", "label_cut")
    def _check_finite(self, proposal):
        value = proposal["value"]
        if not np.isfinite(value):
            raise t.TraitError(f"{proposal['trait'].name} must be a finite number, got {value}")
        return value

    @t.validate("model_index")
    def _check_model_index(self, proposal):
        value, names = proposal["value"], self.model_names
        if not 0 <= value < max(len(names), 1):
            raise t.TraitError(f"model_index must be from 0 to {len(names) - 1} (models {names}), got {value}")
        return value

    def __init__(
        self,
        pairs_df: pd.DataFrame,
        left: str,
        right: str,
        label: str | None = None,
        models=("minilm",),
        label_cut: float | None = None,
        n_null: int = 2000,
        score_columns=None,
        ensemble=None,
        objective: str = "f1",
        cv: int = 5,
        **kwargs,
    ):
        if not isinstance(pairs_df, pd.DataFrame):
            raise OptionError(f"pairs_df must be a DataFrame, got {type(pairs_df).__name__}")
        columns = [score_columns] if isinstance(score_columns, str) else list(score_columns or [])
        missing = [c for c in (left, right, label, *columns) if c is not None and c not in pairs_df]
        if missing:
            raise NotFoundError(f"column(s) {missing} not in pairs_df; its columns are {list(pairs_df.columns)}")
        self._frame = pairs_df
        if columns:
            embedders = []
            scored = pd.DataFrame({"left": pairs_df[left].to_numpy(), "right": pairs_df[right].to_numpy()})
            for column in columns:
                scored[column if is_score(column) else score_column(column)] = pd.to_numeric(
                    pairs_df[column], errors="coerce"
                ).to_numpy(np.float64)
            names = [model_of(c) for c in columns]
        else:
            embedders = load_models(list(models))
            scored = score_pairs(pairs_df[left], pairs_df[right], embedders)
            names = [m.name for m in embedders]
        seen = in_sample(scored, "ThresholdTuner", len(pairs_df))
        if ensemble is not None:
            base = pairs_df.reset_index(drop=True)
            source = scored if all(c in scored for c in ensemble.score_columns) else base
            prediction = ensemble.predict(source, left=base[left], right=base[right])
            scored["score_ensemble"] = prediction
            names.append("ensemble")
        matrix = np.stack([scored[score_column(name)].to_numpy(np.float32) for name in names])
        null = []
        for m in embedders:
            values = random_pair_scores(pairs_df[left], pairs_df[right], m, n=n_null).astype(np.float32)
            null.append(np.pad(values, (0, n_null - len(values)), constant_values=np.nan))
        null += [np.full(n_null, np.nan, dtype=np.float32)] * (len(names) - len(null))  # precomputed rows
        labels = None
        if label is not None:
            labels = pd.to_numeric(pairs_df[label], errors="coerce").to_numpy(np.float32)
            if label_cut is None:
                finite = labels[np.isfinite(labels)]
                label_cut = float((finite.min() + finite.max()) / 2) if finite.size else 0.5
        self._scored = scored
        choices = [] if labels is None else [_choice(row, labels, label_cut, objective, cv) for row in matrix]
        for name, choice in zip(names, choices):
            if seen.get(name) and "why" not in choice:  # its "out of sample" line would not be
                choice["target"] = f"NOT out of sample: {name} was trained on {seen[name]:,} of these pairs" + (
                    f" · {choice['target']}" if choice.get("target") else ""
                )
        finite_scores = matrix[0][np.isfinite(matrix[0])]
        start = float(np.median(finite_scores)) if finite_scores.size else 0.5
        super().__init__(
            model_names=names,
            scores=matrix,
            null_scores=np.stack(null),
            labels=labels,
            label_cut=0.5 if label_cut is None else label_cut,
            left_texts=[_text(v) for v in pairs_df[left]],
            right_texts=[_text(v) for v in pairs_df[right]],
            threshold=round(start, 2),
            choices=choices,
            **kwargs,
        )

    @property
    def model_name(self) -> str:
        return self.model_names[self.model_index]

    def scored(self) -> pd.DataFrame:
        """The input rows with every model's ``score_*`` and ``reason_*`` columns."""
        extra = self._scored.drop(columns=["left", "right"])
        return pd.concat([self._frame.reset_index(drop=True), extra.reset_index(drop=True)], axis=1).set_axis(
            self._frame.index
        )

    def cleaned(self) -> pd.DataFrame:
        """Rows whose score under the selected model is >= :attr:`threshold` (NaN scores are removed)."""
        keep = np.nan_to_num(self.scores[self.model_index], nan=-np.inf) >= self.threshold
        return self.scored()[keep]


def _choice(scores: np.ndarray, labels: np.ndarray, label_cut: float, objective: str, cv: int) -> dict:
    """One model's threshold, in sample and out of sample, as the browser shows it."""
    from ..evaluation.threshold_choice import best_thresholds, choose_threshold

    ok = np.isfinite(scores) & np.isfinite(labels)
    positive = labels[ok] >= label_cut
    try:
        with warnings.catch_warnings():  # a missed target is shown on the widget's line instead
            warnings.simplefilter("ignore", SimwidgetsWarning)
            choice = choose_threshold(scores[ok], positive.astype(np.float64), objective, cv=cv, n_boot=500)
    except ValueError as exc:
        return {"why": str(exc)}
    inside = best_thresholds(scores[ok].astype(np.float64), positive.astype(np.int64))
    table = choice.table

    def cell(metric):
        row = table.loc[metric]
        return [float(row["out_of_sample"]), float(row["low"]), float(row["high"])]

    return {
        "objective": objective,
        "threshold": float(choice.threshold),
        "in_sample_threshold": float(inside["best_f1_threshold"]),
        "in_sample_f1": float(inside["best_f1"]),
        "f1": cell("f1"),
        "precision": cell("precision"),
        "recall": cell("recall"),
        "kept_share": cell("kept_share"),
        "folds": cv,
        "target": choice.target_note if choice.target in ("missed", "uncertain") else None,
    }


def _text(value) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))
