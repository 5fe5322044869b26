"""Which pairs a trained model saw: judged on those, its figures are in-sample, not out of sample.

A pair trainer (``fine_tune``, ``train_cross_encoder``, the ULMFiT siamese fine-tune) saves the
keys of its training pairs (:func:`~simwidgets.texts.pair_key`, 64 bits each) beside its model,
in :data:`TRAINING_PAIRS`. A model loaded from such a folder knows where it came from
(``model.origin``), so the evaluation can say, loudly, when it is judged on pairs it was
trained on: a gain measured there is not a gain on new pairs.

>>> trained_on(load_model(trained.spec), df.query, df.result).sum()   # doctest: +SKIP
540
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..columns import is_score, model_of, scored_models
from ..errors import SimwidgetsWarning
from ..texts import pair_keys

#: The file of a trained model's training-pair keys (uint64, sorted).
TRAINING_PAIRS = "training-pairs.npy"

_KEYS: dict[tuple, np.ndarray] = {}


def save_training_pairs(folder, left, right) -> None:
    """Write the keys of the pairs a model is trained on into its folder."""
    np.save(Path(folder) / TRAINING_PAIRS, np.unique(pair_keys(left, right)))


def training_keys(model) -> np.ndarray | None:
    """The keys of the pairs ``model`` was trained on, or None for a model not trained on pairs here."""
    origin = getattr(model, "origin", None)
    if origin is None:
        return None
    origin = Path(origin)
    folder = origin if origin.is_dir() else origin.parent
    path = folder / TRAINING_PAIRS
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_ino, stat.st_mtime_ns)
    if key not in _KEYS:
        _KEYS[key] = np.load(path, allow_pickle=False)
    return _KEYS[key]


def trained_on(model, left, right) -> np.ndarray:
    """For each pair, whether ``model`` was trained on it (all False for other models)."""
    keys = training_keys(model)
    left, right = list(left), list(right)
    if keys is None or not len(left):
        return np.zeros(len(left), dtype=bool)
    return np.isin(pair_keys(left, right), keys)


def in_sample(scores, where: str, pairs: int) -> dict:
    """``{model: pairs it was trained on}`` among the models of a frame of scores (or one of its
    columns), as ``score_pairs`` recorded it; each such model is warned about, by name, with
    its overlap, since ``where``'s figures for it are in-sample. ``pairs``: the pairs judged,
    when the frame does not say how many were scored."""
    attrs = getattr(scores, "attrs", None) or {}
    seen = dict(attrs.get("trained_on") or {})
    if hasattr(scores, "columns"):
        present = set(scored_models(scores.columns))
    else:
        name = str(getattr(scores, "name", "") or "")
        present = {model_of(name)} if is_score(name) else set(seen)
    seen = {k: v for k, v in seen.items() if k in present and v}
    total = int(attrs.get("scored_pairs") or 0) or pairs
    for name, count in seen.items():
        warnings.warn(
            f"{where}: model {name!r} was trained on {count:,} of these {total:,} pairs, so its figures here are "
            "in-sample and flatter it, not out of sample. Judge a trained model on pairs it never saw: its "
            "own report (trained.report, on held-out pairs), other labelled pairs, or cross_validate, which "
            "trains it on each fold's training pairs only",
            SimwidgetsWarning,
            stacklevel=3,
        )
    return seen
