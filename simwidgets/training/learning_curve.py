"""Would more labels help? Each trainer judged out of fold with a growing number of training
labels, and the labels a fitted curve says the next +0.01 would take.

At each size, :func:`~simwidgets.cross_validate` runs as usual (the same folds for every size),
except that each trainer sees ``size`` pairs drawn from its training folds (the same draw for
every trainer of one fold and size), so the points differ only by the labels given.

>>> curve = sw.learning_curve([sw.trainers.FineTune("minilm"),
...                            sw.trainers.FineTune("minilm", adapt_on=log_texts)],
...                           df.query, df.result, df.grade, sizes=[100, 250, 500, 1000])  # doctest: +SKIP
>>> curve.table          # metric and interval per candidate and size    # doctest: +SKIP
>>> curve.next_gain      # labels estimated for the next +0.01            # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError, SimwidgetsWarning
from .candidates import Trainer, as_candidate, is_trainer

#: The gain the next-labels estimate aims at.
NEXT_GAIN = 0.01


class _Subsample(Trainer):
    """``trainer`` fitted on ``size`` pairs drawn from the training pairs it is given."""

    def __init__(self, trainer, size: int, seed: int):
        self.trainer, self.size, self.seed = trainer, size, seed
        self.name = trainer.name
        self.base = getattr(trainer, "base", None)

    def fit(self, left, right, gold, *, seed=0, gold_range=None, progress=False):
        n = len(left)
        if self.size > n:
            raise InputError(f"size {self.size} is more than the {n} labelled pairs of a training fold")
        # the draw depends on the fold's pairs and the seed only: every trainer gets the same pairs
        rng = np.random.default_rng([self.seed, n, self.size])
        rows = np.sort(rng.choice(n, self.size, replace=False))
        left, right, gold = [left[i] for i in rows], [right[i] for i in rows], np.asarray(gold)[rows]
        return self.trainer.fit(left, right, gold, seed=seed, gold_range=gold_range, progress=progress)


@dataclass
class LearningCurve:
    """What :func:`learning_curve` returns.

    Attributes
    ----------
    table
        One row per candidate and size (``labels``): the first metric's fold mean with its 95%
        interval, ``type``, and for a trainer ``beats_base`` at that size. An off-the-shelf
        candidate has one row (``labels`` 0: it uses none).
    next_gain
        Per trainer: the labels at the largest size, its metric there, and
        ``labels_for_next_gain``: the labels a power law ``a - b * n^-c`` fitted to its curve
        reaches that metric + 0.01 at (NaN with ``why`` when fewer than 3 sizes, or the curve
        levels off below it).
    metric
        The metric of the table (Spearman for graded gold, ROC-AUC for binary).
    """

    table: pd.DataFrame
    next_gain: pd.DataFrame
    metric: str

    def summary(self) -> dict:
        """Per trainer, its ``(labels, metric)`` points and the labels for the next +0.01
        (None where its curve cannot say): what the labeller's progress line shows."""
        table = self.table.reset_index()
        trainers = []
        for name, rows in table[table["labels"] > 0].groupby("candidate", sort=False):
            rows = rows.sort_values("labels")
            points = [[int(k), round(float(v), 4)] for k, v in zip(rows["labels"], rows[self.metric])]
            nxt = self.next_gain["labels_for_next_gain"].get(name, float("nan"))
            trainers.append({"name": str(name), "points": points, "next": None if nxt != nxt else int(round(nxt))})
        return {"metric": self.metric, "trainers": trainers}

    def _repr_html_(self) -> str:
        return self.table._repr_html_() + self.next_gain._repr_html_()

    def __str__(self) -> str:
        return f"{self.table.to_string()}\n\n{self.next_gain.to_string()}"


def _power_law(n, a, b, c):
    return a - b * np.power(n, -c)


def labels_for_gain(sizes, means, gain: float = NEXT_GAIN) -> tuple[float, str | None]:
    """The labels at which ``a - b * n^-c`` fitted to ``(sizes, means)`` reaches the last
    mean + ``gain``; NaN and why where it cannot be said.

    >>> n = np.array([100, 200, 400, 800])
    >>> round(labels_for_gain(n, 0.9 - 2.0 * n ** -0.5)[0])
    1085
    """
    sizes, means = np.asarray(sizes, dtype=np.float64), np.asarray(means, dtype=np.float64)
    ok = np.isfinite(means)
    sizes, means = sizes[ok], means[ok]
    if len(sizes) < 3:
        return np.nan, "fewer than 3 sizes with a metric: no curve to extend"
    from scipy.optimize import curve_fit

    target = float(means[-1]) + gain
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (a, b, c), _ = curve_fit(
                _power_law, sizes, means, p0=(means.max() + 0.05, 1.0, 0.5),
                bounds=([-np.inf, 0.0, 0.01], [np.inf, np.inf, 3.0]), maxfev=20_000,
            )  # fmt: skip
    except (RuntimeError, ValueError):
        return np.nan, "the curve could not be fitted"
    if b <= 0 or a <= target:
        return np.nan, f"the fitted curve levels off at {a:.3f}, below {target:.3f}: more labels alone may not help"
    return float(((a - target) / b) ** (-1.0 / c)), None


def learning_curve(
    candidates,
    left,
    right,
    gold,
    *,
    sizes=(100, 250, 500, 1000),
    folds: int = 5,
    groups=None,
    seed: int = 0,
    n_boot: int = 1000,
    kind: str = "auto",
    progress: bool = True,
) -> LearningCurve:
    """Held-out metric against the number of training labels, for each candidate.

    Parameters
    ----------
    candidates
        Trainers (:class:`~simwidgets.trainers.FineTune` with or without ``adapt_on``,
        :class:`~simwidgets.trainers.CrossEncoderTrainer`, your own) and off-the-shelf models
        (a flat line); stacked models are not taken.
    left, right, gold, folds, groups, seed, n_boot, kind
        As for :func:`~simwidgets.cross_validate` (the same folds at every size).
    sizes
        Training labels per fit; a size above a training fold's labels is left out (said).

    Returns
    -------
    LearningCurve
        ``.table`` and ``.next_gain``.
    """
    from .cross_validation import cross_validate, pair_groups

    items = [as_candidate(c) for c in (candidates if isinstance(candidates, (list, tuple)) else [candidates])]
    if any(getattr(c, "stacks", False) for c in items):
        raise InputError("learning_curve takes trainers and off-the-shelf models, not stacked models")
    trainers = [c for c in items if is_trainer(c)]
    if not trainers:
        raise InputError("learning_curve needs at least one trainer: an off-the-shelf model uses no labels")
    from ..evaluation.folds import pair_folds
    from ..evaluation.gold import as_gold
    from ..texts import as_text_list

    lefts, rights = as_text_list(left, "left"), as_text_list(right, "right")
    labels = as_gold(gold, len(lefts))
    if groups is None:  # as cross_validate keys them, so the folds are the ones it makes
        groups = pair_groups(lefts, rights)
    fold = pair_folds(labels, folds, seed=seed, groups=groups)
    labelled = int((fold >= 0).sum())
    smallest_training = min(int(((fold != k) & (fold >= 0)).sum()) for k in range(folds))
    usable = sorted({int(s) for s in sizes if 0 < int(s) <= smallest_training})
    if len(usable) < len(set(sizes)):
        warnings.warn(
            f"learning_curve: sizes above {smallest_training} (the labels of a training fold of {labelled} in "
            f"{folds} folds) are left out",
            SimwidgetsWarning,
            stacklevel=2,
        )
    if not usable:
        raise InputError(f"no size fits a training fold of {smallest_training} labelled pairs")
    rows, metric = [], None
    for size in usable:
        wrapped = [_Subsample(c, size, seed) if is_trainer(c) else c for c in items]
        result = cross_validate(wrapped, lefts, rights, labels, folds=folds, groups=groups, seed=seed, n_boot=n_boot,
                                kind=kind, progress=progress)  # fmt: skip
        metric = result.metric
        for name, row in result.table.iterrows():
            trained = row["type"] != "off the shelf"
            if not trained and size != usable[0]:
                continue
            rows.append({"candidate": name, "type": row["type"], "labels": size if trained else 0,
                         metric: row[metric], f"{metric}_low": row[f"{metric}_low"],
                         f"{metric}_high": row[f"{metric}_high"], "beats_base": row.get("beats_base")})  # fmt: skip
    table = pd.DataFrame(rows).set_index(["candidate", "labels"])
    gains = []
    for name, part in table[table["type"] != "off the shelf"].groupby(level=0, sort=False):
        sizes_, means = part.index.get_level_values(1).to_numpy(), part[metric].to_numpy()
        needed, why = labels_for_gain(sizes_, means)
        gains.append({"candidate": name, "labels": int(sizes_[-1]), metric: float(means[-1]),
                      "labels_for_next_gain": needed, "why": why})  # fmt: skip
    return LearningCurve(table, pd.DataFrame(gains).set_index("candidate"), metric)
