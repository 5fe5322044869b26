"""ThresholdTuner: choose the similarity threshold that cleans a table of pairs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import traitlets as t

from ..columns import score_column
from ..errors import OptionError, SimwidgetsWarning
from ..evaluation.calibration import random_pair_scores
from ..evaluation.scored_pairs import score_table
from .base import ARRAY, STYLE, Widget, bundle, model_position


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
    log, audit, log_score
        The whole scored log (a ``simwidgets score`` folder or a frame) and its labelled audit
        sample (:func:`~simwidgets.evaluation.audit.audit_sample` with a ``label`` column):
        the tuner then also says, for the slider's threshold, what it keeps of every row of the
        log and its estimated precision, recall and good pairs lost with intervals
        (:func:`~simwidgets.evaluation.audit.estimate_on_log`, on a grid of thresholds).
        ``log_score`` is the log's score column (default: the first model's).
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
    log_estimates = t.List(
        t.Dict(),
        help="on the whole log, per threshold of a grid: kept, kept_share, precision, recall, good_lost "
        "with their intervals (estimate_on_log); [] without an audit",
    ).tag(sync=True)
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
        return model_position(proposal, self.model_names)

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
        log=None,
        audit=None,
        log_score: str | None = None,
        **kwargs,
    ):
        table = score_table(
            pairs_df, left, right, label, models, score_columns=score_columns, ensemble=ensemble,
            label_cut=label_cut, where="ThresholdTuner",
        )  # fmt: skip
        self._table = table
        null = [
            random_pair_scores(pairs_df[left], pairs_df[right], m, n=n_null).astype(np.float32) for m in table.models
        ]
        null = [np.pad(v, (0, n_null - len(v)), constant_values=np.nan) for v in null]
        null += [np.full(n_null, np.nan, dtype=np.float32)] * (len(table.names) - len(null))  # precomputed rows
        choices = [] if table.gold is None else [_choice(row, table, objective, cv) for row in table.scores]
        for name, choice in zip(table.names, choices):
            if table.trained_on.get(name) and "why" not in choice:  # its "out of sample" line would not be
                note = f"NOT out of sample: {name} was trained on {table.trained_on[name]:,} of these pairs"
                choice["target"] = note + (f" · {choice['target']}" if choice.get("target") else "")
        first = table.scores[0][np.isfinite(table.scores[0])]
        super().__init__(
            model_names=table.names,
            scores=table.scores.astype(np.float32),
            null_scores=np.stack(null),
            labels=None if table.gold is None else table.gold.astype(np.float32),
            label_cut=table.label_cut,
            left_texts=table.left,
            right_texts=table.right,
            threshold=round(float(np.median(first)) if first.size else 0.5, 2),
            choices=choices,
            log_estimates=_log_estimates(log, audit, log_score or score_column(table.names[0])),
            **kwargs,
        )

    @property
    def model_name(self) -> str:
        return self.model_names[self.model_index]

    def scored(self) -> pd.DataFrame:
        """The input rows with every model's ``score_*`` and ``reason_*`` columns."""
        return self._table.with_scores()

    def cleaned(self) -> pd.DataFrame:
        """Rows whose score under the selected model is >= :attr:`threshold` (NaN scores are removed)."""
        keep = np.nan_to_num(self.scores[self.model_index], nan=-np.inf) >= self.threshold
        return self.scored()[keep]


def _choice(scores: np.ndarray, table, objective: str, cv: int) -> dict:
    """One model's threshold, in sample and out of sample, as the browser shows it."""
    from ..evaluation.threshold_choice import best_thresholds, choose_threshold

    ok = np.isfinite(scores) & np.isfinite(table.gold)
    positive = table.gold[ok] >= table.label_cut
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


def _log_estimates(log, audit, score: str) -> list[dict]:
    """:func:`~simwidgets.evaluation.audit.estimate_on_log` on a grid of 101 thresholds over
    the log's scores (1st to 99th percentile), as records for the browser."""
    if log is None and audit is None:
        return []
    if log is None or audit is None:
        raise OptionError("log-level estimates need both log= (the scored log) and audit= (its labelled audit)")
    from ..evaluation.audit import estimate_on_log, score_sample

    finite = score_sample(log, score)
    low, high = np.quantile(finite, [0.01, 0.99]) if finite.size else (0.0, 1.0)
    grid = np.unique(np.round(np.linspace(low, high, 101), 4))
    table = estimate_on_log(log, audit, score, grid, n_boot=300).reset_index()
    return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
            for row in table.to_dict("records")]  # fmt: skip
