"""Which model agrees with the labels, as one report: the metrics table, ROC and
precision-recall curves, the stacked model's cross-validated lift, the paired differences
between models and the metrics per slice. :class:`~simwidgets.ModelComparison` shows it; the
report prints and tests without a browser.

>>> scored = sw.score_pairs(df.query, df.result, ["minilm", "glove-50d", "tfidf"])  # doctest: +SKIP
>>> print(compare_report(scored, df.grade, by="length"))                          # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..columns import score_column, scored_models
from ..errors import InputError
from .compare import compare_models
from .ensemble import EnsembleResult, fit_ensemble
from .evaluate import slice_tables
from .gold import as_gold, default_label_cut, gold_kind
from .metrics import evaluate_scores
from .reliability import reliability


@dataclass
class ComparisonReport:
    """What :func:`compare_report` found; ``print(report)`` says it in words."""

    #: Model names, in the order of the score columns.
    names: list[str]
    #: One row per model (:func:`~simwidgets.evaluation.metrics.evaluate_scores`, plus
    #: cross-validation's columns when trainers were compared).
    table: pd.DataFrame
    #: Per model: ``{"roc": [[fpr, tpr], ...], "pr": [[recall, precision], ...]}`` (thinned).
    curves: dict
    #: Paired differences of every two models on the primary metric
    #: (:func:`~simwidgets.compare_models`), or an empty frame with one model.
    differences: pd.DataFrame
    #: The stacked model, or None (one model, or ``ensemble=None``).
    stacked: EnsembleResult | None
    #: ``{"metric", "names", "tables", "best", "changes"}`` per slice, or ``{}`` without ``by``.
    slices: dict = field(default_factory=dict)
    #: Labels at or above it count as similar, for the curves.
    label_cut: float = 0.5
    #: Reliability of each model's scores, raw and calibrated out of fold
    #: (:func:`~simwidgets.evaluation.reliability.reliability`), or None when the labels have
    #: one kind only.
    calibration: pd.DataFrame | None = None

    def __str__(self) -> str:
        lines = ["models compared: " + ", ".join(self.names)]
        with pd.option_context(
            "display.width", 160, "display.max_columns", 20, "display.float_format", "{:.3f}".format
        ):
            shown = [c for c in ("spearman", "pearson", "roc_auc", "average_precision", "f1") if c in self.table]
            lines.append(self.table[shown].to_string())
        real = self.differences[self.differences["real"].astype(bool)] if len(self.differences) else self.differences
        for row in real.to_dict("records"):
            lines.append(f"real difference: {row['model_a']} - {row['model_b']} = {row['diff']:+.3f} ({row['metric']})")
        if len(self.differences) and not len(real):
            lines.append("no difference between two models is real on these pairs (every interval holds zero)")
        if self.stacked is not None:
            lines.append(f"stacked model ({self.stacked.kind}): {self.stacked.lift_text()}")
        if self.calibration is not None and len(self.calibration):
            ece = self.calibration[self.calibration["slice"] == "all"].groupby(["model", "kind"])["ece"].first()
            lines.append(
                "calibration error (ECE), raw score -> calibrated out of fold: "
                + "; ".join(f"{m} {ece[(m, 'raw')]:.3f} -> {ece[(m, 'calibrated')]:.3f}" for m in self.names)
            )
        if self.slices.get("changes"):
            best = self.slices["best"]
            lines.append(
                "slices where another model is best: "
                + "; ".join(f"{name}: {best[name]}" for name in self.slices["changes"])
            )
        return "\n".join(lines)


def disagreements(scores: np.ndarray, x: int, y: int, n: int = 8) -> list[int]:
    """The rows of a ``(models, pairs)`` score matrix whose percentile ranks differ most
    between models ``x`` and ``y`` (pairs either model left unscored come last)."""
    a = pd.Series(scores[x]).rank(pct=True)
    b = pd.Series(scores[y]).rank(pct=True)
    gap = (a - b).abs().fillna(-1)
    return [int(i) for i in gap.sort_values(ascending=False).index[:n]]


def _thin(xs: np.ndarray, ys: np.ndarray, n: int = 200) -> list[list[float]]:
    keep = np.unique(np.linspace(0, len(xs) - 1, min(n, len(xs))).round().astype(int))
    return [[float(xs[i]), float(ys[i])] for i in keep]


def curves(scored: pd.DataFrame, gold: np.ndarray, label_cut: float) -> dict:
    """ROC and precision-recall curves of every score column (models with one kind of label
    among their scored pairs have none)."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    positive = gold >= label_cut
    out = {}
    for name in scored_models(scored.columns):
        s = scored[score_column(name)].to_numpy(np.float64)
        ok = ~np.isnan(s) & ~np.isnan(gold)
        if len(np.unique(positive[ok])) < 2:
            continue
        fpr, tpr, _ = roc_curve(positive[ok], s[ok])
        precision, recall, _ = precision_recall_curve(positive[ok], s[ok])
        out[name] = {"roc": _thin(fpr, tpr), "pr": _thin(recall[::-1], precision[::-1])}
    return out


def slice_summary(scored: pd.DataFrame, gold: np.ndarray, by) -> dict:
    """Metrics per slice (:func:`~simwidgets.evaluation.evaluate.slice_tables`), each slice's
    best model and the slices where it differs from the overall best."""
    kind = gold_kind(gold)
    metric = "spearman" if kind == "graded" else "roc_auc"
    tables, best = {}, {}
    for name, table in slice_tables(scored, gold, by, kind=kind, n_boot=0):
        tables[name] = table
        values = table[metric]
        best[name] = str(values.idxmax()) if values.notna().any() else None
    overall = best.get("all")
    changes = [n for n, b in best.items() if n != "all" and b is not None and b != overall]
    return {"metric": metric, "names": list(tables), "tables": tables, "best": best, "changes": changes}


def compare_report(
    scored: pd.DataFrame,
    gold,
    *,
    ensemble: str | None = "forest",
    label_cut: float | None = None,
    by=None,
    n_boot: int = 1000,
    extra: pd.DataFrame | None = None,
) -> ComparisonReport:
    """Compare the models of a frame of scores (:func:`~simwidgets.score_pairs`' ``score_*``
    columns, with ``left`` and ``right``) against ``gold``.

    Parameters
    ----------
    ensemble
        ``"forest"``, ``"linear"`` or None: a stacked model over two or more models.
    label_cut
        Labels at or above it are similar, for the curves (default: 0.5 for binary labels,
        the middle of the range for graded ones).
    by
        Metrics per slice too (``"length"``, ``"oov"``, labels per pair or a function).
    n_boot
        Resamples of the paired differences.
    extra
        Columns joined to the metrics table (cross-validation's, indexed by model).
    """
    labels = as_gold(gold, len(scored))
    names = scored_models(scored.columns)
    table = evaluate_scores(scored, labels, n_boot=200)
    if extra is not None:
        table = table.join(extra)
        if "type" in table:
            table.insert(0, "type", table.pop("type"))
    label_cut = default_label_cut(labels) if label_cut is None else float(label_cut)
    stacked = None
    if ensemble and len(names) >= 2:
        stacked = fit_ensemble(scored, labels, kind=ensemble, cv=5, n_estimators=200)
    differences = pd.DataFrame()
    if len(names) >= 2:
        paired = compare_models(scored, labels, n_boot=n_boot)
        differences = paired[paired["metric"] == paired["metric"].iloc[0]].reset_index(drop=True)
    slices = {} if by is None else slice_summary(scored, labels, by)
    try:
        calibration = reliability(scored, labels, label_cut=label_cut)
    except InputError:  # labels of one kind only, or too few for the folds: nothing to calibrate on
        calibration = None
    return ComparisonReport(
        names, table, curves(scored, labels, label_cut), differences, stacked, slices, label_cut, calibration
    )
