"""ModelComparison: per-model metrics, curves, a score-vs-score scatter and the stacked model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import traitlets as t

from ..columns import score_column
from ..errors import NotFoundError
from ..evaluation import evaluate_scores, fit_ensemble
from ..evaluation.gold import gold_kind
from ..models import load_models
from ..similarity import score_pairs
from ..training.candidates import as_candidate, is_trainer
from .base import ARRAY, STYLE, Widget, bundle


def _thin(xs: np.ndarray, ys: np.ndarray, n: int = 200) -> list[list[float]]:
    keep = np.unique(np.linspace(0, len(xs) - 1, min(n, len(xs))).round().astype(int))
    return [[float(xs[i]), float(ys[i])] for i in keep]


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
        metric and the paired difference against the best off-the-shelf model.
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

    @t.validate("x_model", "y_model")
    def _check_axis_model(self, proposal):
        value, names = proposal["value"], self.model_names
        if not 0 <= value < max(len(names), 1):
            raise t.TraitError(
                f"{proposal['trait'].name} must be from 0 to {len(names) - 1} (models {names}), got {value}"
            )
        return value

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
        **kwargs,
    ):
        from sklearn.metrics import precision_recall_curve, roc_curve

        missing = [c for c in (left, right, label) if c not in pairs_df]
        if missing:
            raise NotFoundError(f"column(s) {missing} not in pairs_df; its columns are {list(pairs_df.columns)}")
        gold = pd.to_numeric(pairs_df[label], errors="coerce").to_numpy(np.float64)
        candidates = list(models) if isinstance(models, (list, tuple)) else [models]
        self.cross_validation = None
        if any(is_trainer(as_candidate(c)) for c in candidates):
            from ..training import cross_validate

            result = cross_validate(
                candidates,
                pairs_df[left],
                pairs_df[right],
                gold,
                folds=folds,
                groups=groups,
                n_boot=200,
                progress=progress,
            )
            self.cross_validation = result
            names = list(result.table.index)
            scored = result.scores.drop(columns=["gold", "fold"])
        else:
            embedders = load_models(candidates)
            names = [m.name for m in embedders]
            scored = score_pairs(pairs_df[left], pairs_df[right], embedders)
        table = evaluate_scores(scored, gold, n_boot=200)
        if self.cross_validation is not None:
            cv = self.cross_validation
            extra = cv.table[["type", cv.metric, "diff", "p_better"]].rename(
                columns={cv.metric: f"fold_mean_{cv.metric}"}
            )
            table = table.join(extra)
            table.insert(0, "type", table.pop("type"))
        if label_cut is None:
            label_cut = 0.5 if gold_kind(gold) == "binary" else float(np.nanmin(gold) + np.nanmax(gold)) / 2
        positive = gold >= label_cut
        curves = {}
        for name in names:
            s = scored[score_column(name)].to_numpy(np.float64)
            ok = ~np.isnan(s) & ~np.isnan(gold)
            if len(np.unique(positive[ok])) < 2:
                continue
            fpr, tpr, _ = roc_curve(positive[ok], s[ok])
            precision, recall, _ = precision_recall_curve(positive[ok], s[ok])
            curves[name] = {"roc": _thin(fpr, tpr), "pr": _thin(recall[::-1], precision[::-1])}
        stacked = {}
        if ensemble and len(names) >= 2:
            result = fit_ensemble(scored, gold, kind=ensemble, cv=5, n_estimators=200)
            stacked = {
                "kind": ensemble,
                "table": result.table.reset_index().to_dict("records"),
                "lift": result.lift,
                "lift_interval": [float(v) for v in result.lift_interval],
                "real": result.real,
                "verdict": result.lift_text(),
                "best_single": result.best_single,
                "importances": result.importances.to_dict("records"),
            }
            self.ensemble_result = result
        self._frame, self._scored, self._left, self._right = pairs_df, scored, left, right
        matrix = np.stack([scored[score_column(name)].to_numpy(np.float32) for name in names])
        differences = []
        if len(names) >= 2:
            from ..evaluation import compare_models

            paired = compare_models(scored, gold, n_boot=n_boot)
            primary = paired["metric"].iloc[0]
            differences = _records(paired[paired["metric"] == primary])
        slices = {} if by is None else _slices(scored, gold, by, names)
        super().__init__(
            model_names=names,
            metrics=_records(table.reset_index()),
            curves=curves,
            scores=matrix,
            labels=gold.astype(np.float32),
            x_model=0,
            y_model=min(1, len(names) - 1),
            ensemble=stacked,
            differences=differences,
            slices=slices,
            left_texts=[str(v) for v in pairs_df[left]],
            right_texts=[str(v) for v in pairs_df[right]],
            **kwargs,
        )
        self.observe(self._disagree, names=["x_model", "y_model"])
        self._disagree()

    def _disagree(self, change=None, n: int = 8) -> None:
        """The pairs whose percentile ranks differ most between the two scatter models."""
        x = pd.Series(self.scores[self.x_model]).rank(pct=True)
        y = pd.Series(self.scores[self.y_model]).rank(pct=True)
        gap = (x - y).abs().fillna(-1)
        rows = gap.sort_values(ascending=False).index[:n]
        lefts, rights = self._frame[self._left].tolist(), self._frame[self._right].tolist()
        self.disagreements = [
            {
                "left": str(lefts[i]),
                "right": str(rights[i]),
                "x": _num(self.scores[self.x_model][i]),
                "y": _num(self.scores[self.y_model][i]),
                "label": _num(self.labels[i]),
            }
            for i in rows
        ]

    def table(self) -> pd.DataFrame:
        """The metrics table as a DataFrame."""
        return pd.DataFrame(self.metrics).set_index("model")

    def paired(self) -> pd.DataFrame:
        """The paired differences between models (:func:`~simwidgets.compare_models`)."""
        return pd.DataFrame(self.differences)


def _slices(scored: pd.DataFrame, gold: np.ndarray, by, names: list[str]) -> dict:
    """Metrics per slice, each slice's best model and the slices where it differs from the overall best."""
    from ..evaluation.metrics import evaluate_scores
    from ..evaluation.slices import slice_labels

    kind = gold_kind(gold)
    metric = "spearman" if kind == "graded" else "roc_auc"
    groups = slice_labels(by, scored["left"].tolist(), scored["right"].tolist())
    tables, best = {}, {}
    parts = [("all", np.arange(len(scored)))]
    parts += [(str(n), np.flatnonzero(np.asarray(groups == n))) for n in groups.categories]
    for name, rows in parts:
        if np.isnan(gold[rows]).all():
            continue
        table = evaluate_scores(scored.iloc[rows].reset_index(drop=True), gold[rows], kind=kind, n_boot=0)
        tables[name] = _records(table.reset_index())
        values = table[metric]
        best[name] = str(values.idxmax()) if values.notna().any() else None
    overall = best.get("all")
    changes = [n for n, b in best.items() if n != "all" and b is not None and b != overall]
    return {"metric": metric, "names": list(tables), "tables": tables, "best": best, "changes": changes}


def _num(v) -> float | None:
    v = float(v)
    return None if np.isnan(v) else v


def _records(frame: pd.DataFrame) -> list[dict]:
    return [
        {k: (_num(v) if isinstance(v, (float, np.floating)) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]
