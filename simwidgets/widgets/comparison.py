"""ModelComparison: per-model metrics, curves, a score-vs-score scatter and the stacked model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import traitlets as t

from ..evaluation.comparison_report import compare_report, disagreements
from ..evaluation.scored_pairs import check_columns, score_table
from ..training.candidates import as_candidate, is_trainer
from .base import ARRAY, STYLE, Widget, bundle, model_position


class ModelComparison(Widget):
    """Which model agrees with the labels: a metrics table, ROC and precision-recall curves
    overlaid, two models' scores against each other with their most disagreeing pairs, and the
    stacked model (its cross-validated lift and feature importances).

    Parameters
    ----------
    pairs_df, left, right, label
        Labelled pairs: graded labels are binarised at ``label_cut`` for the curves only.
    models
        Model specs (at least one; two or more for the scatter and the ensemble), and trainers
        (:class:`~simwidgets.trainers.FineTune`, :class:`~simwidgets.trainers.CrossEncoderTrainer`,
        :class:`~simwidgets.trainers.WordVectorTrainer`, ``"ensemble:forest"``). With a trainer among
        them every candidate is judged by :func:`~simwidgets.cross_validate` in ``folds``
        folds (a progress bar shows the training): each pair's score comes from a model that
        never saw its label, and the table adds each candidate's ``type``, its fold-mean
        metric, the paired difference against the best off-the-shelf model and, for a trained
        candidate, ``beats_base``: whether it beat the model it was trained from (``"yes"``,
        ``"no: worse"`` or ``"not shown"``; its base is added to the table when not given).
    ensemble
        ``"forest"``, ``"linear"`` or None (no stacked model).
    by
        Metrics per slice too (:func:`~simwidgets.evaluate_pairs`'s ``by``: ``"length"``,
        ``"oov"``, a column's values or a function): the table gets a slice selector and the
        slices where the best model is not the overall best are listed.
    n_boot
        Resamples of the paired comparison (:func:`~simwidgets.compare_models`), which marks
        the differences between models that are real (their 95% interval excludes zero).
    folds, groups
        Folds of cross-validation when trainers are compared, and a key per pair (e.g. the
        query column's values) whose pairs stay in one fold (see :func:`~simwidgets.cross_validate`).
    speed_rows
        Time each model on this machine (texts no cache holds, a few seconds each) and add
        ``texts_per_s_cpu`` and ``hours_cpu``, the hours a log of this many rows would take,
        to the table: the speed-quality frontier beside the metrics (:func:`~simwidgets.frontier`
        gives it with intervals, the GPU and a chart).

    Examples
    --------
    >>> ModelComparison(df, "query", "result", "grade", models=["minilm", "glove-50d", "tfidf"])  # doctest: +SKIP
    """

    _esm = bundle("comparison")
    _css = STYLE

    model_names = t.List(t.Unicode(), help="models compared").tag(sync=True)
    metrics = t.List(t.Dict(), help="one row per model (evaluate_scores), as records").tag(sync=True)
    curves = t.Dict(help="per model: {roc: [[fpr, tpr]...], pr: [[recall, precision]...]}").tag(sync=True)
    scores = t.Any(None, help="float32 (models, pairs) scores").tag(sync=True, **ARRAY)
    labels = t.Any(None, help="float32 (pairs,) labels").tag(sync=True, **ARRAY)
    left_texts = t.List(t.Unicode(), help="left texts, for hover").tag(sync=True)
    right_texts = t.List(t.Unicode(), help="right texts, for hover").tag(sync=True)
    x_model = t.Int(0, help="model on the scatter's x axis").tag(sync=True)
    y_model = t.Int(1, help="model on the scatter's y axis").tag(sync=True)
    disagreements = t.List(t.Dict(), help="pairs where the two scatter models disagree most").tag(sync=True)
    ensemble = t.Dict(help="stacked model: table, lift with its interval and verdict, best_single, importances").tag(
        sync=True
    )
    differences = t.List(
        t.Dict(), help="paired differences of every pair of models (compare_models), marked real or not"
    ).tag(sync=True)
    slices = t.Dict(help="per slice: metrics records and the best model; the slices where the best model changes").tag(
        sync=True
    )
    slice_name = t.Unicode("all", help="the slice whose metrics the table shows").tag(sync=True)
    calibration = t.List(
        t.Dict(), help="reliability bins of every model, raw and calibrated out of fold, with their ECE"
    ).tag(sync=True)

    @t.validate("x_model", "y_model")
    def _check_axis_model(self, proposal):
        return model_position(proposal, self.model_names)

    def __init__(
        self,
        pairs_df: pd.DataFrame,
        left: str,
        right: str,
        label: str,
        models=("minilm", "glove-50d"),
        ensemble: str | None = "forest",
        label_cut: float | None = None,
        folds: int = 5,
        groups=None,
        by=None,
        n_boot: int = 1000,
        progress: bool = True,
        speed_rows: int | None = None,
        **kwargs,
    ):
        check_columns(pairs_df, [left, right, label])
        gold = pd.to_numeric(pairs_df[label], errors="coerce").to_numpy(np.float64)
        candidates = list(models) if isinstance(models, (list, tuple)) else [models]
        self.cross_validation, extra, scored = None, None, None
        if any(is_trainer(as_candidate(c)) for c in candidates):  # every score out of fold
            from ..training import cross_validate

            cv = cross_validate(candidates, pairs_df[left], pairs_df[right], gold, folds=folds, groups=groups,
                                n_boot=200, progress=progress)  # fmt: skip
            self.cross_validation, scored = cv, cv.scores.drop(columns=["gold", "fold"])
            extra = cv.table[["type", cv.metric, "diff", "p_better", "beats_base"]].rename(
                columns={cv.metric: f"fold_mean_{cv.metric}"}
            )
        table = score_table(pairs_df, left, right, label, candidates, scored=scored, label_cut=label_cut,
                            where=None)  # fmt: skip
        self._table = table
        self.report = compare_report(table.scored, gold, ensemble=ensemble, label_cut=table.label_cut, by=by,
                                     n_boot=n_boot, extra=extra)  # fmt: skip
        self.ensemble_result = self.report.stacked
        metrics = self.report.table.reset_index()
        if speed_rows:  # the speed-quality frontier in the table: texts/s here, hours for the log
            from ..training.frontier import speed_columns

            speed = speed_columns(
                candidates, list(pairs_df[left]) + list(pairs_df[right]), metrics["model"], speed_rows
            )
            metrics = metrics.merge(speed, left_on="model", right_index=True, how="left")
        slices = self.report.slices
        if slices:
            slices = {**slices, "tables": {name: _records(t.reset_index()) for name, t in slices["tables"].items()}}
        super().__init__(
            model_names=table.names,
            metrics=_records(metrics),
            curves=self.report.curves,
            scores=table.scores.astype(np.float32),
            labels=gold.astype(np.float32),
            x_model=0,
            y_model=min(1, len(table.names) - 1),
            ensemble=_stacked(self.report.stacked),
            differences=_records(self.report.differences),
            slices=slices,
            left_texts=table.left,
            right_texts=table.right,
            calibration=[] if self.report.calibration is None else _records(
                self.report.calibration[self.report.calibration["slice"] == "all"]
            ),
            **kwargs,
        )  # fmt: skip
        self.observe(self._disagree, names=["x_model", "y_model"])
        self._disagree()

    def _disagree(self, change=None) -> None:
        t = self._table
        self.disagreements = [
            {"left": t.left[i], "right": t.right[i], "x": _num(self.scores[self.x_model][i]),
             "y": _num(self.scores[self.y_model][i]), "label": _num(self.labels[i])}
            for i in disagreements(self.scores, self.x_model, self.y_model)
        ]  # fmt: skip

    def table(self) -> pd.DataFrame:
        """The metrics table as a DataFrame."""
        return pd.DataFrame(self.metrics).set_index("model")

    def paired(self) -> pd.DataFrame:
        """The paired differences between models (:func:`~simwidgets.compare_models`)."""
        return pd.DataFrame(self.differences)


def _stacked(result) -> dict:
    if result is None:
        return {}
    return {
        "kind": result.kind,
        "table": result.table.reset_index().to_dict("records"),
        "lift": result.lift,
        "lift_interval": [float(v) for v in result.lift_interval],
        "real": result.real,
        "verdict": result.lift_text(),
        "best_single": result.best_single,
        "importances": result.importances.to_dict("records"),
    }


def _num(v) -> float | None:
    v = float(v)
    return None if np.isnan(v) else v


def _records(frame: pd.DataFrame) -> list[dict]:
    return [
        {k: (_num(v) if isinstance(v, (float, np.floating)) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]
