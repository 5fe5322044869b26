"""``evaluate_pairs``: score labelled pairs with each model, then measure them (overall, per
slice, or on the random stratum of a labelling session). The top floor of the evaluation room."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from ..similarity import score_pairs
from .gold import as_gold, gold_kind
from .metrics import evaluate_scores
from .slices import slice_labels


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
            raise InputError(f"stratum has {len(strata)} values for {len(lefts)} pairs")
        keep = np.flatnonzero(strata == "random")
        if not len(keep):
            raise InputError("no pair of the random stratum: label some with strategy='random' (or 'mixed')")
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
    parts = slice_tables(scores, gold, by, kind=kind, n_boot=n_boot, seed=seed, bins=bins)
    table = pd.concat([part.assign(slice=name) for name, part in parts]).reset_index()
    return table.set_index(["slice", "model"])


def slice_tables(
    scores: pd.DataFrame, gold, by, *, kind: str = "auto", n_boot: int = 1000, seed: int = 0, bins: int = 4
) -> list[tuple[str, pd.DataFrame]]:
    """``[(slice, evaluate_scores table)]``: every pair first (``"all"``), then each slice of
    :func:`~simwidgets.evaluation.slices.slice_labels` that has a label, all measured on the
    same kind of gold as the whole."""
    labels = as_gold(gold, len(scores))
    kind = gold_kind(labels) if kind == "auto" else kind
    groups = slice_labels(by, scores["left"].tolist(), scores["right"].tolist(), bins=bins)
    tables = [("all", evaluate_scores(scores, labels, kind=kind, n_boot=n_boot, seed=seed))]
    for name in groups.categories:
        rows = np.flatnonzero(np.asarray(groups == name))
        if np.isnan(labels[rows]).all():
            continue  # nothing labelled in this slice
        part = scores.iloc[rows].reset_index(drop=True)
        tables.append((str(name), evaluate_scores(part, labels[rows], kind=kind, n_boot=n_boot, seed=seed)))
    return tables


def _take(by, rows):
    """``by`` for a subset of the pairs (labels or columns are subset; names and functions kept)."""
    if isinstance(by, str) or callable(by):
        return by
    values = list(by)
    return [values[i] for i in rows]


def evaluate_files(
    files: dict, models, *, format: str | None = None, columns=None, sep: str | None = None, n_boot: int = 1000
) -> pd.DataFrame:
    """:func:`evaluate_pairs` on each labelled-pairs file of ``files`` (``{name: path}``), one
    row per file and model with the file's name in ``benchmark``: a known format
    (:func:`~simwidgets.readers.load_pairs`, ``format`` or guessed) or, with
    ``columns=(left, right, label)``, any CSV, TSV or Parquet file's own columns."""
    from .datasets import load_pairs, read_columns

    if columns is not None and (len(columns) != 3 or not all(columns)):
        raise InputError("give all three of --left, --right and --label to read your own columns")
    rows = []
    for name, path in files.items():
        pairs = read_columns(path, *columns, sep=sep) if columns is not None else load_pairs(path, format)
        table = evaluate_pairs(pairs.left, pairs.right, pairs.score, models, n_boot=n_boot)
        table.insert(0, "benchmark", name)
        rows.append(table.reset_index())
    return pd.concat(rows, ignore_index=True)
