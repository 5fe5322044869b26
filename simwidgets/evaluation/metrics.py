"""Agreement of model scores with human labels: correlations, ranking metrics, thresholds."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..models.trained_pairs import in_sample
from ..similarity import score_pairs


def gold_kind(gold: np.ndarray) -> str:
    """``"binary"`` when the labels are only 0 and 1 (or booleans), else ``"graded"``."""
    values = np.unique(gold[~np.isnan(gold)])
    return "binary" if len(values) and set(values.tolist()) <= {0.0, 1.0} else "graded"


def as_gold(gold, n: int) -> np.ndarray:
    """Labels as floats (NaN where missing); text labels are refused with what was found."""
    raw = pd.Series(list(gold) if not isinstance(gold, pd.Series) else gold.to_numpy(), dtype=object)
    if len(raw) != n:
        raise ValueError(f"gold has {len(raw)} labels for {n} pairs")
    as_bool = raw.map(lambda v: float(v) if isinstance(v, (bool, np.bool_)) else v)
    values = pd.to_numeric(as_bool, errors="coerce").to_numpy(dtype=np.float64)
    text = raw[np.isnan(values) & raw.map(lambda v: isinstance(v, str) and v.strip() != "").to_numpy()]
    if len(text):
        found = list(dict.fromkeys(str(v) for v in text.tolist()))  # plain strings, never np.str_ reprs
        shown = ", ".join(repr(v) for v in found[:6]) + (", ..." if len(found) > 6 else "")
        raise ValueError(
            f"gold labels must be numbers; found text: {shown} ({len(text)} labels). {_mapping_hint(found)}"
        )
    return values


_POSITIVE = {"similar", "same", "yes", "y", "true", "relevant", "match", "matches", "duplicate", "paraphrase",
             "good", "positive", "pos", "related", "equivalent", "entailment", "correct", "ok"}  # fmt: skip
_NEGATIVE = {"not", "no", "n", "false", "different", "irrelevant", "dissimilar", "unrelated", "bad", "negative",
             "neg", "nonmatch", "mismatch", "contradiction", "wrong", "incorrect", "none"}  # fmt: skip


def _polarity(label: str) -> int | None:
    """1 when a label's name says "similar", 0 when it says "not similar", None when it does not say."""
    words = re.findall(r"[a-z]+", label.lower())
    if not words:
        return None
    if words[0] in ("not", "non", "no") and len(words) > 1 and words[1] in _POSITIVE:
        return 0  # "not similar", "non-duplicate"
    name = "".join(words)
    if name in _NEGATIVE or words[0] in _NEGATIVE or name.startswith(("not", "non")) and name[3:] in _POSITIVE:
        return 0
    if name in _POSITIVE:
        return 1
    return None


def _mapping_hint(found: list[str]) -> str:
    """How to map text labels to numbers: a mapping only where the names say which label is
    the similar one (two labels, one of each); otherwise the user must say."""
    if len(found) == 2:
        sides = [_polarity(v) for v in found]
        if sorted(sides, key=str) == [0, 1]:
            negative, positive = (found[0], found[1]) if sides[0] == 0 else (found[1], found[0])
            return f"Map them to numbers first: gold.map({{{negative!r}: 0, {positive!r}: 1}})"
        a, b = found
        return (
            f"Map them to numbers first, saying which one means similar: gold.map({{{a!r}: 1, {b!r}: 0}}) "
            f"or gold.map({{{a!r}: 0, {b!r}: 1}})"
        )
    return "Map them to numbers first (1 for similar pairs, 0 for the others; graded values in between)"


def _check_binary(labels: np.ndarray) -> None:
    found = np.unique(labels[~np.isnan(labels)])
    if not set(found.tolist()) <= {0.0, 1.0}:
        shown = ", ".join(f"{v:g}" for v in found[:8]) + ("..." if len(found) > 8 else "")
        raise ValueError(
            f"kind='binary' needs labels 0 and 1; found {len(found)} values ({shown}). Use kind='graded', "
            f"or map them to 0/1 first, e.g. (gold >= {float(np.median(found)):g}).astype(int)"
        )


def _spearman(x, y, axis=-1):
    return _pearson(stats.rankdata(x, axis=axis), stats.rankdata(y, axis=axis), axis=axis)


def _pearson(x, y, axis=-1):
    x = x - x.mean(axis=axis, keepdims=True)
    y = y - y.mean(axis=axis, keepdims=True)
    return (x * y).sum(axis=axis) / np.sqrt((x * x).sum(axis=axis) * (y * y).sum(axis=axis))


def _interval(statistic, x, y, n_boot: int, seed: int) -> tuple[float, float]:
    if n_boot <= 0 or len(x) < 3:
        return (np.nan, np.nan)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        # resamples with constant scores (e.g. TF-IDF on single words) give NaN: reported as NaN
        warnings.simplefilter("ignore")
        result = _bootstrap(statistic, x, y, n_boot, seed)
    low, high = result.confidence_interval
    return float(low), float(high)


def _bootstrap(statistic, x, y, n_boot: int, seed: int):
    return stats.bootstrap(
        (x, y),
        statistic,
        paired=True,
        vectorized=True,
        n_resamples=n_boot,
        confidence_level=0.95,
        method="percentile",
        random_state=seed,
    )


def best_thresholds(scores: np.ndarray, labels: np.ndarray) -> dict:
    """Thresholds maximising F1 and accuracy for the rule ``score >= threshold``."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(labels, scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0)[:-1]
    i = int(np.argmax(f1))
    # accuracy at every cut: sort by score, count positives above and negatives below
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    tp = np.cumsum(y)
    fp = np.cumsum(1 - y)
    negatives = (1 - y).sum()
    last = np.r_[s[1:] != s[:-1], True]  # cut after the last of each run of equal scores
    acc = (tp + (negatives - fp))[last] / len(y)
    cut_scores = s[last]
    j = int(np.argmax(acc))
    # also consider keeping nothing
    nothing = negatives / len(y)
    best_acc, best_acc_threshold = (float(acc[j]), float(cut_scores[j]))
    if nothing > best_acc:
        best_acc, best_acc_threshold = float(nothing), float(np.nextafter(s[0], np.inf))
    return {
        "best_f1": float(f1[i]),
        "best_f1_threshold": float(thresholds[i]),
        "best_accuracy": best_acc,
        "best_accuracy_threshold": best_acc_threshold,
    }


def _thresholds(x: np.ndarray, y: np.ndarray, *, cv: int, seed: int, n_boot: int) -> dict:
    """Best-F1 and best-accuracy thresholds: chosen out of sample where each class has ``cv``
    pairs (else NaN out-of-sample figures), and the in-sample figures under their own names."""
    from .threshold_choice import choose_threshold

    inside = best_thresholds(x, y.astype(np.int64))
    row = {f"in_sample_{k}": v for k, v in inside.items()}
    for objective in ("f1", "accuracy"):
        try:
            choice = choose_threshold(x, y, objective, cv=cv, seed=seed, n_boot=n_boot)
        except ValueError:  # too few pairs of one kind for the folds
            row.update({objective: np.nan, f"{objective}_low": np.nan, f"{objective}_high": np.nan})
            row[f"{objective}_threshold"] = inside[f"best_{objective}_threshold"]
            continue
        table = choice.table.loc[objective]
        row[objective], row[f"{objective}_low"], row[f"{objective}_high"] = (
            float(table["out_of_sample"]),
            float(table["low"]),
            float(table["high"]),
        )
        row[f"{objective}_threshold"] = choice.threshold
    row["f1_kept_share"] = float((x >= row["f1_threshold"]).mean())
    row["f1_keeps_all"] = bool(row["f1_kept_share"] >= 1.0)
    return row


def evaluate_scores(
    scores: pd.DataFrame, gold, *, kind: str = "auto", n_boot: int = 1000, seed: int = 0, cv: int = 5
) -> pd.DataFrame:
    """Metrics of every ``score_<model>`` column of ``scores`` against ``gold``.

    Pairs whose gold label is missing are left out of every metric and counted in
    ``gold_missing``; pairs a model could not score are left out of that model's metrics and
    counted in ``unscored_share`` (share of the labelled pairs).

    Graded gold: ``spearman`` and ``pearson`` with bootstrap 95% intervals (``*_low``,
    ``*_high``). Binary gold: ``roc_auc``, ``average_precision``, and thresholds chosen **out
    of sample** (:func:`~simwidgets.choose_threshold`, ``cv`` folds): ``f1_threshold`` (the
    best-F1 threshold on all pairs, the one to use) with ``f1`` (what thresholds chosen on
    training folds scored on the held-out folds) and its interval ``f1_low`` / ``f1_high``;
    the same for ``accuracy``. The flattering in-sample figures stay, named so:
    ``in_sample_best_f1``, ``in_sample_best_f1_threshold``, ``in_sample_best_accuracy``,
    ``in_sample_best_accuracy_threshold``. Beside them the base rate: ``positive_share``
    (share of similar pairs), ``keep_all_f1`` (the F1 of keeping every pair, which a
    threshold must beat to mean anything), ``f1_kept_share`` and ``f1_keeps_all`` (the
    best-F1 threshold keeps every pair: it is no better than no threshold).

    Gold labels must be numbers (text labels such as "similar" are refused with the values
    found and how to map them); ``kind="binary"`` needs labels 0 and 1.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    columns = [c for c in scores.columns if c.startswith("score_")]
    if not columns:
        raise ValueError("no score_<model> columns to evaluate")
    labels = as_gold(gold, len(scores))
    has_gold = ~np.isnan(labels)
    if not has_gold.any():
        raise ValueError("every gold label is missing (NaN)")
    kind = gold_kind(labels) if kind == "auto" else kind
    if kind not in ("graded", "binary"):
        raise ValueError(f"kind must be 'auto', 'graded' or 'binary', got {kind!r}")
    if kind == "binary":
        _check_binary(labels)
    rows = []
    for column in columns:
        values = scores[column].to_numpy(dtype=np.float64)
        ok = has_gold & ~np.isnan(values)
        row = {
            "model": column[len("score_") :],
            "pairs": int(has_gold.sum()),
            "scored": int(ok.sum()),
            "unscored_share": float(1 - ok.sum() / has_gold.sum()),
            "gold_missing": int((~has_gold).sum()),
        }
        x, y = values[ok], labels[ok]
        if kind == "graded":
            enough = len(x) >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0
            row["spearman"] = float(stats.spearmanr(x, y).statistic) if enough else np.nan
            row["spearman_low"], row["spearman_high"] = (
                _interval(_spearman, x, y, n_boot, seed) if enough else (np.nan, np.nan)
            )
            row["pearson"] = float(stats.pearsonr(x, y).statistic) if enough else np.nan
            row["pearson_low"], row["pearson_high"] = (
                _interval(_pearson, x, y, n_boot, seed) if enough else (np.nan, np.nan)
            )
        else:
            both = len(np.unique(y)) == 2
            row["roc_auc"] = float(roc_auc_score(y, x)) if both else np.nan
            row["average_precision"] = float(average_precision_score(y, x)) if both else np.nan
            row["positive_share"] = float(y.mean()) if len(y) else np.nan
            row["keep_all_f1"] = float(2 * y.mean() / (1 + y.mean())) if len(y) and y.mean() > 0 else 0.0
            if both:
                row.update(_thresholds(x, y, cv=cv, seed=seed, n_boot=n_boot))
        rows.append(row)
    table = pd.DataFrame(rows).set_index("model")
    seen = in_sample(scores, "evaluate_pairs", len(scores))
    if seen:  # figures of a model on its own training pairs: said in the table too
        table["trained_on"] = [seen.get(name, 0) for name in table.index]
    return table


def evaluate_pairs(
    left,
    right,
    gold,
    models=("minilm",),
    *,
    kind: str = "auto",
    n_boot: int = 1000,
    seed: int = 0,
    progress: bool | None = None,
    by=None,
    bins: int = 4,
    stratum=None,
) -> pd.DataFrame:
    """Score labelled pairs with each model and measure agreement with the labels.

    Parameters
    ----------
    left, right
        Texts or words of each pair.
    gold
        Human labels: graded (e.g. 0-10 or 0-5) or binary (0/1). NaN labels are left out.
    models
        Specs, callables or embedders.
    kind
        ``"auto"`` (binary when labels are only 0/1), ``"graded"`` or ``"binary"``.
    n_boot
        Bootstrap resamples for the 95% intervals (0 to skip).
    by
        Metrics per slice as well as overall: ``"length"`` (``bins`` bins of the pair's word
        count), ``"oov"`` (bins of the share of words outside GloVe's vocabulary), a function
        ``f(lefts, rights)`` giving one label per pair, or the labels themselves (a column,
        e.g. ``df.genre``). See :mod:`simwidgets.evaluation.slices`.
    stratum
        One value per pair, ``"random"`` for labels of a random sample (a
        :class:`~simwidgets.PairLabeler` file's ``stratum`` column): metrics use those pairs
        only, since actively chosen pairs are not a sample of the data, and the table's
        ``sample`` column says how many of the labels that is.

    Returns
    -------
    pandas.DataFrame
        One row per model (see :func:`evaluate_scores` for the columns). For word pairs with
        a word-vector model, pairs with an unknown word are skipped, as gensim's
        ``evaluate_word_pairs`` does, and their share is ``unscored_share``. With ``by``: one
        row per slice and model (index ``slice``, ``model``), the pooled rows first as slice
        ``"all"``; every slice is measured on the same kind of gold as the whole.

    Examples
    --------
    >>> pairs = read_word_pairs("EN-WS-353-ALL.txt")  # doctest: +SKIP
    >>> evaluate_pairs(pairs.left, pairs.right, pairs.score, models=["glove-50d"])  # doctest: +SKIP
    """
    if stratum is not None:
        strata = np.asarray(list(stratum), dtype=object)
        lefts, rights = list(left), list(right)
        if len(strata) != len(lefts):
            raise ValueError(f"stratum has {len(strata)} values for {len(lefts)} pairs")
        keep = np.flatnonzero(strata == "random")
        if not len(keep):
            raise ValueError("no pair of the random stratum: label some with strategy='random' (or 'mixed')")
        golds = as_gold(gold, len(lefts))
        table = evaluate_pairs(
            [lefts[i] for i in keep],
            [rights[i] for i in keep],
            golds[keep],
            models,
            kind=kind,
            n_boot=n_boot,
            seed=seed,
            progress=progress,
            by=None if by is None else _take(by, keep),
            bins=bins,
        )
        table["sample"] = f"random stratum: {len(keep)} of {len(lefts)} labels"
        return table
    scores = score_pairs(left, right, models, progress=progress)
    if by is None:
        return evaluate_scores(scores, gold, kind=kind, n_boot=n_boot, seed=seed)
    from .slices import slice_labels

    labels = as_gold(gold, len(scores))
    kind = gold_kind(labels) if kind == "auto" else kind
    groups = slice_labels(by, scores["left"].tolist(), scores["right"].tolist(), bins=bins)
    tables = [evaluate_scores(scores, labels, kind=kind, n_boot=n_boot, seed=seed).assign(slice="all")]
    for name in groups.categories:
        rows = np.flatnonzero(np.asarray(groups == name))
        if np.isnan(labels[rows]).all():
            continue  # nothing labelled in this slice
        part = scores.iloc[rows].reset_index(drop=True)
        tables.append(evaluate_scores(part, labels[rows], kind=kind, n_boot=n_boot, seed=seed).assign(slice=name))
    table = pd.concat(tables).reset_index()
    return table.set_index(["slice", "model"])


def _take(by, rows):
    """``by`` for a subset of the pairs (labels or columns are subset; names and functions kept)."""
    if isinstance(by, str) or callable(by):
        return by
    values = list(by)
    return [values[i] for i in rows]
