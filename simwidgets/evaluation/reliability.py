"""Calibration you can see: does a calibrated 0.8 mean that about 80% of such pairs are good?

Each model's scores are calibrated out of fold (an isotonic calibrator fitted on the other
folds' labelled pairs, :class:`~simwidgets.evaluation.calibration.IsotonicCalibrator`), then
binned; each bin's mean calibrated value is set against its observed share of good pairs (a
reliability diagram), and the expected calibration error (ECE) is their gap, weighted by the
bins' pairs. Raw cosine scores are shown the same way, so the gap calibration closes is seen.

>>> table = reliability(scored, df.grade >= 3)        # doctest: +SKIP
>>> table.groupby("model").ece.first()                # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..columns import model_of, score_columns
from ..errors import InputError
from .calibration import IsotonicCalibrator
from .folds import pair_folds
from .gold import as_gold, default_label_cut


def out_of_fold_calibrated(scores, gold, *, cv: int = 5, seed: int = 0) -> np.ndarray:
    """Each pair's score calibrated by an isotonic calibrator fitted on the other folds (NaN
    where the score or the label is missing)."""
    values = np.asarray(scores, dtype=np.float64)
    labels = as_gold(gold, len(values))
    usable = np.isfinite(values) & np.isfinite(labels)
    fold = np.full(len(values), -1)
    fold[usable] = pair_folds(labels[usable], cv, seed=seed)
    out = np.full(len(values), np.nan)
    for k in range(cv):
        train, test = (fold >= 0) & (fold != k), fold == k
        out[test] = IsotonicCalibrator().fit(values[train], labels[train]).transform(values[test])
    return out


def expected_calibration_error(predicted, observed, bins: int = 10) -> float:
    """ECE: the mean gap between the predicted probability and the observed share of good
    pairs, over ``bins`` equal-width bins of the prediction, weighted by each bin's pairs."""
    p, y = np.asarray(predicted, dtype=np.float64), np.asarray(observed, dtype=np.float64)
    ok = np.isfinite(p) & np.isfinite(y)
    p, y = np.clip(p[ok], 0, 1), y[ok]
    if not len(p):
        return float("nan")
    which = np.minimum((p * bins).astype(int), bins - 1)
    gap = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap += inside.sum() * abs(p[inside].mean() - y[inside].mean())
    return float(gap / len(p))


def reliability(scored: pd.DataFrame, gold, *, bins: int = 10, cv: int = 5, label_cut: float | None = None,
                seed: int = 0, by=None) -> pd.DataFrame:  # fmt: skip
    """The reliability table of every ``score_<model>`` column, raw and calibrated out of fold.

    Parameters
    ----------
    scored
        :func:`~simwidgets.score_pairs`' frame (or any frame of ``score_*`` columns).
    gold
        Labels; a label at or above ``label_cut`` (default: 0.5 for 0/1 labels, else the
        middle of their range) is a good pair.
    bins, cv, seed
        Equal-width bins of the prediction, and the folds of the out-of-fold calibration.
    by
        Per slice too (``"length"``, ``"oov"``, labels per pair or a function of the ``left``
        and ``right`` columns, as :func:`~simwidgets.evaluate_pairs` takes it): the pairs are
        calibrated on all folds once, then each slice's bins and ECE are its own.

    Returns
    -------
    pandas.DataFrame
        One row per model, kind (``"raw"``: the score clipped to 0-1 as a probability;
        ``"calibrated"``: out of fold), slice (``"all"`` without ``by``) and bin:
        ``predicted`` (the bin's mean), ``observed`` (its share of good pairs), ``pairs``, and
        the ECE of that model, kind and slice.
    """
    columns = score_columns(scored.columns)
    if not columns:
        raise InputError("no score_<model> columns to judge")
    labels = as_gold(gold, len(scored))
    cut = default_label_cut(labels) if label_cut is None else float(label_cut)
    good = np.where(np.isfinite(labels), (labels >= cut).astype(np.float64), np.nan)
    if np.nansum(good) == 0 or np.nansum(1 - good) == 0:
        raise InputError("reliability needs good and not-good labelled pairs")
    slices = [("all", np.ones(len(scored), dtype=bool))]
    if by is not None:
        from .slices import slice_labels

        if not {"left", "right"} <= set(scored.columns) and isinstance(by, str):
            raise InputError(f"by={by!r} needs the pairs' texts: a frame with left and right columns")
        groups = slice_labels(by, scored["left"].tolist() if "left" in scored else [None] * len(scored),
                              scored["right"].tolist() if "right" in scored else [None] * len(scored))  # fmt: skip
        slices += [(str(name), np.asarray(groups == name)) for name in groups.categories]
    rows = []
    for column in columns:
        raw = scored[column].to_numpy(np.float64)
        kinds = {"raw": np.clip(raw, 0, 1), "calibrated": out_of_fold_calibrated(raw, good, cv=cv, seed=seed)}
        for kind, predicted in kinds.items():
            for slice_name, member in slices:
                ok = np.isfinite(predicted) & np.isfinite(good) & member
                if not ok.any():
                    continue
                ece = expected_calibration_error(predicted[ok], good[ok], bins)
                which = np.minimum((predicted[ok] * bins).astype(int), bins - 1)
                for b in range(bins):
                    inside = which == b
                    if inside.any():
                        rows.append({
                            "model": model_of(column), "kind": kind, "slice": slice_name, "bin": b,
                            "predicted": float(predicted[ok][inside].mean()),
                            "observed": float(good[ok][inside].mean()), "pairs": int(inside.sum()), "ece": ece,
                        })  # fmt: skip
    return pd.DataFrame(rows)
