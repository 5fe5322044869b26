"""Per-model calibration, so that one threshold means the same thing across models.

Raw cosines are not comparable: 0.5 is high for MiniLM and low for GloVe. Two maps fix
that: the **percentile** of a score among scores of random (unrelated) pairs, which needs
no labels, and **isotonic** regression of labels on scores, which needs labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..columns import model_of, score_column, score_columns
from ..errors import InputError
from ..models import load_model
from ..similarity import score_pairs
from ..texts import as_text_list


def random_pair_scores(left, right=None, model="minilm", n: int = 2000, seed: int = 0) -> np.ndarray:
    """Scores of ``n`` random pairs (left[i], right[j]) with i != j: a null distribution.

    Texts a model cannot embed are dropped from the result (they carry no score).
    """
    lefts = as_text_list(left, "left")
    rights = lefts if right is None else as_text_list(right, "right")
    if len(lefts) < 2 or len(rights) < 2:
        raise InputError("random pairs need at least two texts on each side")
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(lefts), n)
    j = rng.integers(0, len(rights), n)
    clash = i == j
    j[clash] = (j[clash] + 1) % len(rights)
    embedder = load_model(model)
    frame = score_pairs([lefts[k] for k in i], [rights[k] for k in j], [embedder])
    scores = frame[score_column(embedder.name)].to_numpy(dtype=np.float64)
    return scores[~np.isnan(scores)]


SATURATED = 0.5  # share of real pairs above the null's 99th percentile that makes percentiles uninformative


class PercentileCalibrator:
    """Map a score to the share of random-pair scores at or below it (0 to 1).

    This says how unusual a pair's score is among unrelated pairs, which makes one
    threshold mean the same across models. It says little when nearly every real pair is
    related (a search log's query/result pairs): then most real pairs sit above the random
    pairs' 99th percentile and calibrate to about 1. :meth:`saturation` measures that share;
    when it is high, use :class:`IsotonicCalibrator` (fitted on labels) instead.

    Examples
    --------
    >>> cal = PercentileCalibrator().fit(random_pair_scores(texts, model="glove-50d"))  # doctest: +SKIP
    >>> cal.transform([0.9])  # 0.99 means: higher than 99% of unrelated pairs  # doctest: +SKIP
    """

    def fit(self, null_scores) -> PercentileCalibrator:
        values = np.asarray(null_scores, dtype=np.float64)
        values = np.sort(values[~np.isnan(values)])
        if len(values) == 0:
            raise InputError("no null scores to fit on")
        self.null_ = values
        return self

    def transform(self, scores) -> np.ndarray:
        if not hasattr(self, "null_"):
            raise RuntimeError("call fit(null_scores) before transform")
        values = np.asarray(scores, dtype=np.float64)
        out = np.searchsorted(self.null_, values, side="right") / len(self.null_)
        return np.where(np.isnan(values), np.nan, out)

    def inverse(self, percentile: float) -> float:
        """The raw score at a given percentile of the null distribution."""
        return float(np.quantile(self.null_, percentile))

    def saturation(self, scores, percentile: float = 0.99) -> float:
        """Share of ``scores`` (real pairs) above the null's ``percentile``: near 1, the
        calibrated scores of most pairs are about 1 and cannot tell them apart."""
        values = np.asarray(scores, dtype=np.float64)
        values = values[~np.isnan(values)]
        return float((values > self.inverse(percentile)).mean()) if len(values) else float("nan")


class IsotonicCalibrator:
    """Map a score to the expected label with isotonic regression (monotone, fitted on labels).

    With binary labels the output is a probability of being similar; with graded labels it
    is the expected grade.
    """

    def fit(self, scores, labels) -> IsotonicCalibrator:
        from sklearn.isotonic import IsotonicRegression

        x = np.asarray(scores, dtype=np.float64)
        y = np.asarray(labels, dtype=np.float64)
        if x.shape != y.shape:
            raise InputError(f"{len(x)} scores but {len(y)} labels")
        ok = ~np.isnan(x) & ~np.isnan(y)
        if ok.sum() < 2:
            raise InputError("isotonic calibration needs at least two scored, labelled pairs")
        self.model_ = IsotonicRegression(out_of_bounds="clip").fit(x[ok], y[ok])
        return self

    def transform(self, scores) -> np.ndarray:
        if not hasattr(self, "model_") and not hasattr(self, "points_"):
            raise RuntimeError("call fit(scores, labels) before transform")
        values = np.asarray(scores, dtype=np.float64)
        out = np.full(values.shape, np.nan)
        ok = ~np.isnan(values)
        if hasattr(self, "model_"):
            out[ok] = self.model_.predict(values[ok])
        else:  # loaded from a file: the same step function, by interpolation, as scikit-learn predicts it
            out[ok] = np.interp(values[ok], *self.points_)
        return out

    def to_dict(self) -> dict:
        """The fitted map as plain numbers (no pickle): the isotonic steps' x and y."""
        if hasattr(self, "model_"):
            x, y = self.model_.X_thresholds_, self.model_.y_thresholds_
        else:
            x, y = self.points_
        return {"x": [float(v) for v in x], "y": [float(v) for v in y]}

    @classmethod
    def from_dict(cls, data: dict) -> IsotonicCalibrator:
        x, y = np.asarray(data["x"], dtype=np.float64), np.asarray(data["y"], dtype=np.float64)
        if x.ndim != 1 or x.shape != y.shape or not len(x) or not np.all(np.diff(x) >= 0):
            raise InputError("a calibrator needs increasing x steps and as many y values")
        calibrator = cls()
        calibrator.points_ = (x, y)
        return calibrator


#: The format of a calibrators file (JSON: numbers only, nothing runs when it is read).
CALIBRATORS_FORMAT = "simwidgets-calibrators-1"


def save_calibrators(calibrators: dict, path) -> Path:
    """Write isotonic calibrators (``{model name: IsotonicCalibrator}``, as
    :func:`calibrate` leaves them in ``attrs["calibrators"]``) to a JSON file that
    ``score_file(..., calibrate=PATH)`` and ``simwidgets score --calibrate PATH`` read.

    >>> out = calibrate(scored, method="isotonic", gold=df.grade >= 3)       # doctest: +SKIP
    >>> save_calibrators(out.attrs["calibrators"], "calibrators.json")        # doctest: +SKIP
    """
    import json

    from ..files import replaced

    data = {}
    for name, calibrator in calibrators.items():
        if not isinstance(calibrator, IsotonicCalibrator):
            raise InputError(
                f"only isotonic calibrators are saved (fitted on labels); {name!r} is {type(calibrator).__name__}"
            )
        data[str(name)] = calibrator.to_dict()
    path = Path(path).expanduser()
    with replaced(path) as tmp:
        tmp.write_text(json.dumps({"format": CALIBRATORS_FORMAT, "calibrators": data}))
    return path


def load_calibrators(path) -> dict:
    """``{model name: IsotonicCalibrator}`` from a file :func:`save_calibrators` wrote."""
    import json

    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"calibrators file not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not a calibrators file ({exc})") from None
    if (
        not isinstance(data, dict)
        or data.get("format") != CALIBRATORS_FORMAT
        or not isinstance(data.get("calibrators"), dict)
    ):
        raise InputError(f"{path} is not a calibrators file written by save_calibrators")
    return {name: IsotonicCalibrator.from_dict(entry) for name, entry in data["calibrators"].items()}


def calibrate(scores, models=None, *, method: str = "percentile", gold=None, n_null: int = 2000, seed: int = 0):
    """Calibrated copy of a :func:`~simwidgets.score_pairs` frame (``score_*`` columns replaced).

    ``method="percentile"`` needs the texts (``left``/``right`` columns) and the models
    (specs or embedders whose names match the columns); ``"isotonic"`` needs ``gold``.
    The fitted calibrators are in ``result.attrs["calibrators"]``; for percentiles, the share
    of pairs above the random pairs' 99th percentile is in ``result.attrs["saturation"]``,
    and a :class:`~simwidgets.SimwidgetsWarning` says when it is over half (nearly all pairs
    related, as in a search log: percentiles then tell little; use ``method="isotonic"``).
    """
    out = scores.copy()
    columns = score_columns(scores.columns)
    calibrators = {}
    saturation: dict[str, float] = {}
    if method == "percentile":
        if models is None:
            raise InputError("percentile calibration needs models=[...] to score random pairs")
        for model in [load_model(m) for m in (models if isinstance(models, (list, tuple)) else [models])]:
            column = score_column(model.name)
            if column not in columns:
                raise InputError(f"no column {column!r} for model {model.name!r}; columns: {columns}")
            null = random_pair_scores(scores["left"], scores["right"], model, n=n_null, seed=seed)
            calibrators[model.name] = PercentileCalibrator().fit(null)
            out[column] = calibrators[model.name].transform(scores[column])
            saturation[model.name] = calibrators[model.name].saturation(scores[column])
        high = {name: share for name, share in saturation.items() if share > SATURATED}
        if high:
            import warnings

            from ..errors import SimwidgetsWarning

            shares = ", ".join(f"{name} {share:.0%}" for name, share in high.items())
            warnings.warn(
                f"percentile calibration says little here: {shares} of these pairs score above 99% of random "
                "pairs (nearly every pair is related, as in a search log), so they all calibrate to about 1. "
                "Use method='isotonic' with labelled pairs (IsotonicCalibrator) to map scores to labels instead.",
                SimwidgetsWarning,
                stacklevel=2,
            )
    elif method == "isotonic":
        if gold is None:
            raise InputError("isotonic calibration needs gold labels")
        for column in columns:
            name = model_of(column)
            calibrators[name] = IsotonicCalibrator().fit(scores[column], np.asarray(gold, dtype=float))
            out[column] = calibrators[name].transform(scores[column])
    else:
        raise InputError(f"unknown calibration method {method!r}; use 'percentile' or 'isotonic'")
    out.attrs["calibrators"] = calibrators
    if saturation:
        out.attrs["saturation"] = saturation
    return out
