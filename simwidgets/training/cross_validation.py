"""Every number out of sample: off-the-shelf models, trained models and stacked models judged
in the same folds, each trained model fitted on the training folds only.

>>> result = sw.cross_validate(["minilm", "glove-50d", sw.trainers.FineTune("minilm", epochs=4),
...                             sw.trainers.CrossEncoderTrainer("minilm"), "ensemble:forest"],
...                            df.query, df.result, df.grade, folds=5)          # doctest: +SKIP
>>> result.table        # mean, 95% interval, paired difference against the best off-the-shelf model  # doctest: +SKIP
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..columns import score_column, score_columns
from ..errors import InputError, SimwidgetsWarning
from ..evaluation.folds import pair_folds
from ..evaluation.gold import as_gold, gold_kind
from ..evaluation.paired import METRICS, fold_metrics, paired_bootstrap
from ..evaluation.resampling import interval
from ..models import load_model
from ..similarity import score_pairs
from ..texts import as_text_list
from .candidates import as_candidate, is_trainer


@dataclass
class CrossValidation:
    """What :func:`cross_validate` returns.

    Attributes
    ----------
    table
        One row per candidate: ``type`` (off the shelf, trained, stacked), each metric's mean
        over the folds with its 95% interval (``*_low``, ``*_high``: a bootstrap of the pairs
        within each fold), and against ``reference`` (the best off-the-shelf model): the paired
        difference of the first metric (``diff``, ``diff_low``, ``diff_high``, on the same
        resamples), ``p_better``, the share of resamples where the candidate is ahead, and
        ``real``: whether that interval excludes 0 (as :func:`~simwidgets.compare_models` says).
        A trained candidate is also set against its base (``base``; a base not among the
        candidates is added, off the shelf): ``vs_base`` with ``vs_base_low`` /
        ``vs_base_high`` on the same resamples, and ``beats_base``: ``"yes"``, ``"no: worse"``
        (a warning says so) or ``"not shown"`` (the interval holds 0).
    folds
        Each candidate's metrics on each held-out fold.
    scores
        Every pair with its ``fold`` and, per candidate, ``score_<candidate>``: the score of a
        model that never saw the pair's label.
    """

    table: pd.DataFrame
    folds: pd.DataFrame
    scores: pd.DataFrame
    kind: str
    reference: str | None
    metric: str

    def verdict(self) -> str:
        """One sentence: the trained candidate that beat its base by the most (its paired
        interval excluding 0), or that none did."""
        if "beats_base" not in self.table:
            return "no trained candidate"
        trained = self.table[self.table["beats_base"].notna()]
        if not len(trained):
            return "no trained candidate with a base to beat"
        better = trained[trained["beats_base"] == "yes"]
        if not len(better):
            worse = trained.index[trained["beats_base"] == "no: worse"].tolist()
            tail = f"; worse than its base: {', '.join(worse)}" if worse else ""
            return f"none of the {len(trained)} trained candidates beat its base on the held-out folds{tail}"
        best = better["vs_base"].idxmax()
        row = better.loc[best]
        return (
            f"{best!r} beat its base {row['base']!r} on the held-out folds: {self.metric} {row['vs_base']:+.3f} "
            f"(95% interval {row['vs_base_low']:+.3f} to {row['vs_base_high']:+.3f})"
        )

    def _repr_html_(self) -> str:
        return self.table._repr_html_() + f"<p>{html.escape(self.verdict())}</p>"

    def __str__(self) -> str:
        return self.table.to_string(float_format=lambda v: f"{v:.4f}") + "\n" + self.verdict()


def cross_validate(
    candidates,
    left,
    right,
    gold,
    *,
    folds: int = 5,
    groups=None,
    seed: int = 0,
    n_boot: int = 1000,
    kind: str = "auto",
    progress: bool = True,
) -> CrossValidation:
    """Judge models and trainers on the same folds, so no pair is scored by a model that saw its label.

    Parameters
    ----------
    candidates
        Model specs, embedders or callables (scored as they are), trainers
        (:class:`~simwidgets.trainers.FineTune`, :class:`~simwidgets.trainers.CrossEncoderTrainer`,
        :class:`~simwidgets.trainers.WordVectorTrainer`, or your own: anything with ``name`` and
        ``fit``), and ``"ensemble:forest"`` / ``"ensemble:linear"``: a stacked model over the
        off-the-shelf candidates' scores, fitted on each training fold.
    left, right, gold
        The labelled pairs; pairs with NaN gold are left out (and counted in the table).
    folds, seed
        ``folds``-fold cross-validation, shuffled with ``seed`` (stratified by gold value when
        each value is common enough).
    groups
        A key per pair (e.g. the query): pairs sharing a key stay in one fold. By default the
        key is the pair itself, so copies of a pair labelled twice share a fold.
    n_boot
        Bootstrap resamples for the intervals and paired differences.

    Returns
    -------
    CrossValidation
        ``.table`` (one row per candidate), ``.folds``, ``.scores``.
    """
    lefts, rights = as_text_list(left, "left"), as_text_list(right, "right")
    if len(lefts) != len(rights):
        raise InputError(f"left and right must have the same length, got {len(lefts)} and {len(rights)}")
    labels = as_gold(gold, len(lefts))
    kind = gold_kind(labels) if kind == "auto" else kind
    if kind not in METRICS:
        raise InputError(f"kind must be 'auto', 'graded' or 'binary', got {kind!r}")
    items = [as_candidate(c) for c in (candidates if isinstance(candidates, (list, tuple)) else [candidates])]
    if not items:
        raise InputError("no candidates given")
    if groups is None:
        groups = pair_groups(lefts, rights)
    fold = pair_folds(labels, folds, seed=seed, groups=groups)
    finite = labels[~np.isnan(labels)]
    gold_range = (float(finite.min()), float(finite.max()))

    shelf = [c for c in items if not is_trainer(c)]
    trainers = [c for c in items if is_trainer(c) and not getattr(c, "stacks", False)]
    # each trainer's base is judged beside it, off the shelf, in the same folds
    bases = {id(t): t.base for t in trainers if isinstance(getattr(t, "base", None), str)}
    added = [b for b in dict.fromkeys(bases.values()) if b not in [c for c in shelf if isinstance(c, str)]]
    shelf += added
    stacked = [c for c in items if getattr(c, "stacks", False)]
    if stacked and not shelf:
        raise InputError("a stacked model ('ensemble:...') stacks the off-the-shelf candidates: give at least one")
    names: dict[int, str] = {}
    base_of: dict[str, str] = {}  # trained candidate -> its base's name
    columns: dict[str, np.ndarray] = {}
    types: dict[str, str] = {}
    if shelf:
        models = [load_model(c) for c in shelf]
        frame = score_pairs(lefts, rights, models, progress=progress)
        for c, m in zip(shelf, models):
            names[id(c)] = m.name
            columns[m.name] = frame[score_column(m.name)].to_numpy(np.float64)
            types[m.name] = "off the shelf"
    from tqdm.auto import tqdm

    jobs = (len(trainers) + len(stacked)) * folds
    with tqdm(total=jobs, desc="cross-validating", unit="fit", disable=not progress or not jobs) as bar:
        for trainer in trainers:
            out = np.full(len(lefts), np.nan)
            for k in range(folds):
                bar.set_postfix_str(f"{trainer.name}, fold {k + 1}/{folds}")
                train, test = np.flatnonzero((fold != k) & (fold >= 0)), np.flatnonzero(fold == k)
                model = trainer.fit(
                    [lefts[i] for i in train],
                    [rights[i] for i in train],
                    labels[train],
                    seed=seed,
                    gold_range=gold_range,
                    progress=False,
                )
                scored = score_pairs([lefts[i] for i in test], [rights[i] for i in test], [model], progress=False)
                out[test] = scored[score_columns(scored.columns)[0]].to_numpy(np.float64)
                bar.update(1)
            columns[_unique(trainer.name, columns)] = out
            types[list(columns)[-1]] = "trained"
            if id(trainer) in bases:
                base_of[list(columns)[-1]] = names[id(next(c for c in shelf if c == bases[id(trainer)]))]
        for model in stacked:
            columns[_unique(model.name, columns)] = _stack(
                model,
                columns,
                [n for n in columns if types.get(n) == "off the shelf"],
                lefts,
                rights,
                labels,
                fold,
                folds,
                kind,
                seed,
                bar,
            )
            types[list(columns)[-1]] = "stacked"

    candidates_names = list(columns)
    matrix = np.stack([columns[n] for n in candidates_names])
    metric_names = METRICS[kind]
    per_fold = fold_metrics(matrix, labels, fold, kind)
    boot = paired_bootstrap(matrix, labels, fold, kind, n_boot=n_boot, seed=seed) if n_boot else None
    shelf_names = [n for n in candidates_names if types[n] == "off the shelf"]
    means = np.nanmean(per_fold, axis=1) if per_fold.size else per_fold
    primary = metric_names[0]
    rows = []
    reference = None
    if shelf_names:
        reference = max(shelf_names, key=lambda n: np.nan_to_num(means[candidates_names.index(n), 0], nan=-np.inf))
    for i, name in enumerate(candidates_names):
        labelled = fold >= 0
        row = {
            "candidate": name,
            "type": types[name],
            "pairs": int(labelled.sum()),
            "unscored_share": float(np.isnan(matrix[i][labelled]).mean()),
        }
        for j, metric in enumerate(metric_names):
            row[metric] = float(means[i, j])
            low, high = interval(boot[:, i, j]) if boot is not None else (np.nan, np.nan)
            row[f"{metric}_low"], row[f"{metric}_high"] = float(low), float(high)
        if reference is not None:
            r = candidates_names.index(reference)
            row["diff"] = float(means[i, 0] - means[r, 0])
            if boot is not None and i != r:
                d = boot[:, i, 0] - boot[:, r, 0]
                low, high = interval(d)
                row["diff_low"], row["diff_high"] = float(low), float(high)
                row["p_better"] = float(np.mean(d[np.isfinite(d)] > 0)) if np.isfinite(d).any() else np.nan
            else:
                row["diff_low"] = row["diff_high"] = row["p_better"] = np.nan
            # as compare_models says it: the paired interval excludes 0
            row["real"] = bool(np.isfinite(row["diff_low"]) and (row["diff_low"] > 0 or row["diff_high"] < 0))
        row.update(_versus_base(name, base_of, candidates_names, means, boot))
        rows.append(row)
    table = pd.DataFrame(rows).set_index("candidate")
    for name in table.index[table["beats_base"] == "no: worse"]:
        warnings.warn(
            f"cross_validate: {name!r} is worse than its base {base_of[name]!r} on the held-out folds "
            f"({primary} {table.loc[name, 'vs_base']:+.3f}, 95% interval {table.loc[name, 'vs_base_low']:+.3f} to "
            f"{table.loc[name, 'vs_base_high']:+.3f}): training left it worse off",
            SimwidgetsWarning,
            stacklevel=2,
        )
    fold_rows = [
        {"candidate": name, "fold": k, **{m: float(per_fold[i, k, j]) for j, m in enumerate(metric_names)}}
        for i, name in enumerate(candidates_names)
        for k in range(folds)
    ]
    scores = pd.DataFrame({"left": lefts, "right": rights, "gold": labels, "fold": fold})
    for name in candidates_names:
        scores[score_column(name)] = columns[name]
    return CrossValidation(table, pd.DataFrame(fold_rows), scores, kind, reference, primary)


def pair_groups(lefts: list, rights: list) -> list[str]:
    """The default fold key of each pair: the pair itself, so a pair labelled twice is one
    pair and both copies share a fold."""
    return [f"{a}\x00{b}" for a, b in zip(lefts, rights)]


def _versus_base(name, base_of, names, means, boot) -> dict:
    """A trained candidate against its base, on the same resamples of the same folds:
    ``base``, ``vs_base`` (the first metric's difference) with its interval and ``beats_base``:
    ``"yes"`` or ``"no: worse"`` (the interval excludes 0), ``"not shown"``; None for the rest."""
    if name not in base_of:
        return {"base": None, "vs_base": np.nan, "vs_base_low": np.nan, "vs_base_high": np.nan, "beats_base": None}
    i, b = names.index(name), names.index(base_of[name])
    low = high = np.nan
    if boot is not None:
        low, high = interval(boot[:, i, 0] - boot[:, b, 0])
    verdict = "yes" if low > 0 else "no: worse" if high < 0 else "not shown"
    return {"base": base_of[name], "vs_base": float(means[i, 0] - means[b, 0]), "vs_base_low": float(low),
            "vs_base_high": float(high), "beats_base": verdict}  # fmt: skip


def _unique(name: str, taken) -> str:
    out, n = name, 2
    while out in taken:
        out, n = f"{name} ({n})", n + 1
    return out


def stacked_features(scores: dict, lefts, rights) -> pd.DataFrame:
    """What a stacked model learns from: each off-the-shelf model's scores (``{name: scores}``)
    beside the pairs' cheap features (:func:`~simwidgets.evaluation.features.pair_features`,
    with GloVe's vocabulary for the out-of-vocabulary shares)."""
    from ..evaluation.features import pair_features

    features = pd.DataFrame({score_column(n): np.asarray(v) for n, v in scores.items()})
    return pd.concat([features, pair_features(lefts, rights, "glove-50d")], axis=1)


def _stack(model, columns, shelf_names, lefts, rights, labels, fold, folds, kind, seed, bar) -> np.ndarray:
    """Out-of-fold predictions of a stacked model over the off-the-shelf scores and pair features."""
    features = stacked_features({n: columns[n] for n in shelf_names}, lefts, rights)
    task = "classification" if kind == "binary" else "regression"
    out = np.full(len(lefts), np.nan)
    for k in range(folds):
        bar.set_postfix_str(f"{model.name}, fold {k + 1}/{folds}")
        train, test = np.flatnonzero((fold != k) & (fold >= 0)), np.flatnonzero(fold == k)
        out[test] = model.fit_predict(features.iloc[train], labels[train], features.iloc[test], task=task, seed=seed)
        bar.update(1)
    return out
