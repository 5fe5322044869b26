"""Stacked models over per-model similarity scores (the analysis this project grew from).

A random forest or a linear model predicts the human label from every model's score plus
cheap pair features; cross-validation measures its error against each model alone, and
feature importances say which scores matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..columns import is_score, model_of, score_columns, scored_models
from ..errors import InputError, NotFoundError, OptionError
from ..files import replaced
from ..models.trained_pairs import in_sample
from .features import pair_features
from .gold import as_gold, gold_kind
from .resampling import interval, resamples

#: Types a stacked model file may hold beyond skops' defaults: exactly what
#: :meth:`EnsembleResult.save` writes (numpy dtypes, and the trees of a random forest).
#: Anything else, functions included, is refused by :meth:`EnsembleResult.load`.
TRUSTED_TYPES = frozenset({"numpy.dtype", "sklearn.tree._tree.Tree"})


@dataclass
class EnsembleResult:
    """What :func:`fit_ensemble` found.

    Attributes
    ----------
    model
        The scikit-learn pipeline fitted on all pairs (``predict`` it on new features).
    task
        ``"regression"`` (graded gold) or ``"classification"`` (binary gold).
    features
        Feature names, in the order the model takes them.
    table
        Cross-validated error (MSE for graded gold, Brier score for binary) and agreement
        (Spearman, or ROC-AUC) of each single model and of the ensemble.
    best_single
        Name of the single model with the lowest cross-validated error.
    lift
        Relative error reduction of the ensemble over ``best_single`` (0.15 = 15% less).
    lift_interval
        Its 95% interval, a paired bootstrap of the pairs' out-of-fold errors; ``real`` says
        whether it excludes 0.
    importances
        Per feature: ``impurity`` (forest), ``coefficient`` (linear, on standardised
        features) and ``permutation`` (mean error increase when the feature is shuffled on
        held-out folds), sorted by permutation importance.
    cv_predictions
        Out-of-fold predictions for every labelled pair.
    """

    model: object
    kind: str
    task: str
    features: list[str]
    table: pd.DataFrame
    best_single: str
    lift: float
    importances: pd.DataFrame
    cv_predictions: np.ndarray
    vocabulary: str | None = None
    lift_interval: tuple = (float("nan"), float("nan"))

    @property
    def real(self) -> bool:
        """Whether the lift's interval excludes 0 (the stacked model is really better, or
        really worse, than the best single model on these pairs), as ``compare_models`` says."""
        low, high = self.lift_interval
        return bool(np.isfinite(low) and (low > 0 or high < 0))

    def lift_text(self) -> str:
        """The verdict in words, with its interval, that stay true when the stacked model is worse."""
        pct = f"{100 * abs(self.lift):.1f}%"
        low, high = self.lift_interval
        shown = f" [{100 * low:+.1f}%, {100 * high:+.1f}%]" if np.isfinite(low) else ""
        if self.lift >= 0:
            words = f"{pct} less error than {self.best_single}{shown}"
        else:
            words = f"{pct} more error than {self.best_single}{shown} (worse than the best single model)"
        if np.isfinite(low) and not self.real:
            words += ": not a real difference on these pairs"
        return words

    def __str__(self) -> str:
        return (
            f"stacked model ({self.kind}, {self.task}): {self.lift_text()}, cross-validated\n"
            f"{self.table.to_string(float_format='{:.4f}'.format)}"
        )

    @property
    def score_columns(self) -> list[str]:
        """The ``score_<model>`` columns the stacked model needs."""
        return score_columns(self.features)

    @property
    def models(self) -> list[str]:
        """Names of the models whose scores it needs (``score_<name>``)."""
        return scored_models(self.score_columns)

    def features_of(self, pairs: pd.DataFrame, left=None, right=None) -> pd.DataFrame:
        """The feature frame for new pairs: their score columns, plus the pair features
        (lengths, overlap, OOV shares) built from ``left``/``right`` (default: the frame's
        ``left`` and ``right`` columns, as :func:`~simwidgets.score_pairs` returns them)."""
        if not isinstance(pairs, pd.DataFrame):
            raise OptionError(f"pairs must be a DataFrame with the score columns, got {type(pairs).__name__}")
        missing = [c for c in self.score_columns if c not in pairs]
        if missing:
            raise NotFoundError(
                f"the stacked model needs the score column(s) {missing}: score the pairs with "
                f"models {self.models} first (score_pairs or simwidgets score), then predict"
            )
        X = pairs[self.score_columns].astype(np.float64).reset_index(drop=True)
        extra = [f for f in self.features if not is_score(f)]
        if extra:
            if all(f in pairs for f in extra):
                return pd.concat([X, pairs[extra].reset_index(drop=True)], axis=1)[self.features]
            left = pairs["left"] if left is None and "left" in pairs else left
            right = pairs["right"] if right is None and "right" in pairs else right
            if left is None or right is None:
                raise NotFoundError(
                    "the stacked model uses pair features (lengths, overlap, OOV shares): give the "
                    "texts, as 'left'/'right' columns of the frame or as left=..., right=..."
                )
            if "oov_left" in extra and self.vocabulary is None:
                raise NotFoundError(
                    "the stacked model uses OOV shares against a vocabulary object it does not keep: "
                    "pass the oov_left/oov_right columns (pair_features(left, right, vocabulary))"
                )
            features = pair_features(list(left), list(right), self.vocabulary if "oov_left" in extra else None)
            X = pd.concat([X, features[extra]], axis=1)
        return X[self.features]

    def predict(self, pairs: pd.DataFrame, left=None, right=None) -> np.ndarray:
        """Predictions for new pairs: a frame with the score columns and either the texts
        (``left``/``right`` columns, or the ``left``/``right`` arguments) or the feature
        columns already built. For binary gold, the probability that a pair is similar.

        Examples
        --------
        >>> scores = score_pairs(new.query, new.result, ["minilm", "glove-50d"])  # doctest: +SKIP
        >>> result.predict(scores)                                                # doctest: +SKIP
        """
        X = self.features_of(pairs, left, right)
        if self.task == "classification":
            return self.model.predict_proba(X)[:, 1]
        return self.model.predict(X)

    #: Why a pair has no stacked score: no model it needs scored the pair.
    NOTHING_SCORED = "no model scored this pair"

    def predict_column(self, columns, left, right, *, scoring: str = "these pairs") -> tuple[np.ndarray, np.ndarray]:
        """The stacked model's score column for pairs already scored by its models: float32
        predictions from ``columns`` (a mapping or frame holding its ``score_<model>``
        columns) and the texts, NaN where none of its models scored the pair, with that
        reason beside it (None elsewhere). The one step every view of a stacked model takes
        (the threshold tuner, the labeller, the batch job's ``score_ensemble``).

        ``scoring`` names what scored the pairs, for the error when a model is missing."""
        missing = [c for c in self.score_columns if c not in columns]
        if missing:
            have = scored_models(list(columns))
            raise InputError(
                f"the stacked model needs the scores of {self.models}; {scoring} has the scores of {have}: "
                f"add {scored_models(missing)}"
            )
        frame = pd.DataFrame({c: np.asarray(columns[c], dtype=np.float64) for c in self.score_columns})
        prediction = self.predict(frame, left=list(left), right=list(right)).astype(np.float32)
        none_scored = frame.isna().all(axis=1).to_numpy()
        prediction[none_scored] = np.nan
        reasons = np.full(len(frame), None, dtype=object)
        reasons[none_scored] = self.NOTHING_SCORED
        return prediction, reasons

    def save(self, path) -> Path:
        """Write the fitted stacked model to a ``.skops`` file (scikit-learn's secure format:
        loading it runs no code from the file), with what :meth:`load` needs to predict."""
        import json

        import skops.io as sio

        path = Path(path).expanduser()
        meta = {
            "format": "simwidgets-ensemble-1",
            "kind": self.kind,
            "task": self.task,
            "features": self.features,
            "best_single": self.best_single,
            "lift": self.lift,
            "lift_interval": list(self.lift_interval),
            "vocabulary": self.vocabulary,
            "table": self.table.reset_index().to_dict(orient="list"),
            "importances": self.importances.to_dict(orient="list"),
        }
        with replaced(path) as tmp:
            sio.dump({"model": self.model, "meta": json.dumps(meta)}, tmp)
        return path

    @classmethod
    def load(cls, path) -> EnsembleResult:
        """Read a stacked model written by :meth:`save`.

        Beyond the types skops trusts by default, only those an honest file holds
        (:data:`TRUSTED_TYPES`) are accepted: a file naming any other type or function (a
        ``FunctionTransformer`` calling ``exec``, say) is refused by name, and nothing in it runs.
        """
        import json

        import skops.io as sio

        path = Path(path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"stacked model file not found: {path}")
        try:
            untrusted = sio.get_untrusted_types(file=path)
        except Exception as exc:
            raise InputError(f"{path} is not a stacked model saved by simwidgets (EnsembleResult.save): {exc}") from exc
        foreign = sorted(set(untrusted) - TRUSTED_TYPES)
        if foreign:
            raise InputError(
                f"{path} holds types other than those of a stacked model saved by simwidgets, refused "
                f"without running anything: {foreign[:8]}" + (" ..." if len(foreign) > 8 else "")
            )
        state = sio.load(path, trusted=sorted(set(untrusted)))
        meta = json.loads(state["meta"])
        if meta.get("format") != "simwidgets-ensemble-1":
            raise InputError(f"{path} is not a stacked model saved by simwidgets (EnsembleResult.save)")
        table = pd.DataFrame(meta["table"]).set_index("model")
        return cls(
            state["model"],
            meta["kind"],
            meta["task"],
            meta["features"],
            table,
            meta["best_single"],
            meta["lift"],
            pd.DataFrame(meta["importances"]),
            np.zeros(0),
            meta["vocabulary"],
            tuple(meta.get("lift_interval", (float("nan"), float("nan")))),
        )


def stacked_estimator(kind: str, task: str, seed: int, n_estimators: int):
    """The unfitted scikit-learn pipeline of a stacked model: median imputation (with
    missing-value indicators), then a random forest (``"forest"``) or scaled ridge / logistic
    regression (``"linear"``), for ``task`` ``"regression"`` or ``"classification"``."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    impute = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
    if kind == "forest":
        cls = RandomForestClassifier if task == "classification" else RandomForestRegressor
        return make_pipeline(impute, cls(n_estimators=n_estimators, min_samples_leaf=3, random_state=seed, n_jobs=-1))
    if kind == "linear":
        head = LogisticRegression(max_iter=1000) if task == "classification" else Ridge(alpha=1.0)
        return make_pipeline(impute, StandardScaler(), head)
    raise InputError(f"kind must be 'forest' or 'linear', got {kind!r}")


def fit_ensemble(
    scores: pd.DataFrame,
    gold,
    kind: str = "forest",
    *,
    left=None,
    right=None,
    pair_features_on: bool = True,
    vocabulary="glove-50d",
    cv: int = 5,
    seed: int = 0,
    n_estimators: int = 300,
) -> EnsembleResult:
    """Fit a stacked model over per-model scores, with cross-validated lift and importances.

    Parameters
    ----------
    scores
        A frame with ``score_<model>`` columns (as :func:`~simwidgets.score_pairs` returns;
        its ``left``/``right`` columns are used for pair features).
    gold
        Human labels, graded (regression) or 0/1 (classification). NaN labels are left out.
    kind
        ``"forest"`` (random forest) or ``"linear"`` (ridge or logistic regression).
    pair_features_on
        Add lengths, token overlap and OOV share (against ``vocabulary``) as features.
    cv
        Folds of cross-validation.
    """
    from sklearn.base import clone
    from sklearn.inspection import permutation_importance
    from sklearn.model_selection import KFold, StratifiedKFold

    score_cols = score_columns(scores.columns)
    if not score_cols:
        raise InputError("scores has no score_<model> columns")
    in_sample(scores, "fit_ensemble", len(scores))  # its lift over a model on that model's training pairs
    labels = as_gold(gold, len(scores))
    keep = ~np.isnan(labels)
    if keep.sum() < 2 * cv:
        raise InputError(f"need at least {2 * cv} labelled pairs for {cv}-fold cross-validation")
    task = "classification" if gold_kind(labels) == "binary" else "regression"
    X = scores[score_cols].astype(np.float64).reset_index(drop=True)
    left = scores["left"] if left is None and "left" in scores else left
    right = scores["right"] if right is None and "right" in scores else right
    if pair_features_on and left is not None and right is not None:
        X = pd.concat([X, pair_features(list(left), list(right), vocabulary)], axis=1)
    X, y = X[keep].reset_index(drop=True), labels[keep]
    if task == "classification":
        y = y.astype(np.int64)
        folds = StratifiedKFold(cv, shuffle=True, random_state=seed)
    else:
        folds = KFold(cv, shuffle=True, random_state=seed)
    splits = list(folds.split(X, y))
    scoring = "neg_brier_score" if task == "classification" else "neg_mean_squared_error"

    def cross_predict(estimator, columns):
        out = np.empty(len(y))
        perm = []
        for train, test in splits:
            fitted = _predict_in_one_thread(clone(estimator).fit(X.iloc[train][columns], y[train]))
            part = X.iloc[test][columns]
            out[test] = fitted.predict_proba(part)[:, 1] if task == "classification" else fitted.predict(part)
            if len(columns) == X.shape[1]:
                result = permutation_importance(fitted, part, y[test], scoring=scoring, n_repeats=5, random_state=seed)
                perm.append(result.importances_mean)
        return out, perm

    rows, single_preds = [], {}
    for column in score_cols:  # each model alone, through a linear/logistic fit of its score
        pred, _ = cross_predict(stacked_estimator("linear", task, seed, n_estimators), [column])
        single_preds[model_of(column)] = pred
        rows.append(_row(model_of(column), pred, y, task))
    ensemble = stacked_estimator(kind, task, seed, n_estimators)
    pred, perm = cross_predict(ensemble, list(X.columns))
    rows.append(_row(f"ensemble ({kind})", pred, y, task))
    table = pd.DataFrame(rows).set_index("model")
    singles = table.iloc[:-1]
    best = str(singles["error"].idxmin())
    lift = float(1 - table["error"].iloc[-1] / singles["error"].min())
    lift_interval = _lift_interval((pred - y) ** 2, (single_preds[best] - y) ** 2, seed)
    final = clone(ensemble).fit(X, y)
    importances = pd.DataFrame({"feature": list(X.columns), "permutation": np.mean(perm, axis=0)})
    head = final[-1]
    names = final[0].get_feature_names_out(list(X.columns))
    if kind == "forest":
        impurity = dict(zip(names, head.feature_importances_))
        importances["impurity"] = [impurity.get(f, 0.0) for f in X.columns]
    else:
        coef = np.ravel(head.coef_)
        coefs = dict(zip(names, coef))
        importances["coefficient"] = [coefs.get(f, 0.0) for f in X.columns]
    importances = importances.sort_values("permutation", ascending=False).reset_index(drop=True)
    vocab_spec = vocabulary if isinstance(vocabulary, str) and pair_features_on else None
    return EnsembleResult(
        final, kind, task, list(X.columns), table, best, lift, importances, pred, vocab_spec, lift_interval
    )


def _lift_interval(ensemble_errors, best_errors, seed: int, n_boot: int = 1000, confidence: float = 0.95):
    """The lift's interval: a paired bootstrap of the pairs' out-of-fold errors (the same
    resamples for the stacked model and the best single model)."""
    n = len(ensemble_errors)
    if n < 2:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    lifts = []
    for idx in resamples(np.arange(n), n_boot, rng):
        with np.errstate(invalid="ignore", divide="ignore"):
            lifts.append(1 - ensemble_errors[idx].mean(axis=1) / best_errors[idx].mean(axis=1))
    lifts = np.concatenate(lifts)
    low, high = interval(np.where(np.isfinite(lifts), lifts, np.nan), confidence)
    return (float(low), float(high))


def _predict_in_one_thread(pipeline):
    """A fitted forest predicts in one thread: trees are fitted in parallel, but on the few
    hundred rows of a fold (and the many predictions of permutation importance) starting a
    thread pool per call cost more than the trees themselves (37 s -> 2 s for the search-log
    example's 376 pairs; the predictions are the same)."""
    head = pipeline[-1]
    if hasattr(head, "n_jobs") and hasattr(head, "estimators_"):
        head.n_jobs = 1
    return pipeline


def _row(name: str, pred: np.ndarray, y: np.ndarray, task: str) -> dict:
    from scipy import stats
    from sklearn.metrics import roc_auc_score

    error = float(np.mean((pred - y) ** 2))
    if task == "classification":
        return {"model": name, "error": error, "roc_auc": float(roc_auc_score(y, pred))}
    return {"model": name, "error": error, "spearman": float(stats.spearmanr(pred, y).statistic)}
