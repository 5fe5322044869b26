"""PairLabeler: label pairs one at a time, the next pair chosen to be worth a label."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import traitlets as t

from ..columns import score_column
from ..errors import InputError, NotFoundError, SimwidgetsWarning
from ..evaluation.labelling import (
    MIN_RANDOM_LABELS,
    MIXED,
    STRATEGIES,
    LabelStore,
    PairQueue,
    labels_needed,
    wilson_interval,
)
from ..models import load_models
from ..similarity import score_pairs
from ..vectors import normalize_rows
from .base import STYLE, Widget, bundle

DEFAULT_KEYS = {0: "0", 0.5: "5", 1: "1"}


def _label_name(value: float) -> str:
    return f"{value:g}"


class PairLabeler(Widget):
    """Label pairs one at a time; each label is on disk the moment it is given.

    Shows one pair (both texts as text, never HTML) with each model's score. Label it by key
    (``0``, ``5`` for 0.5, ``1`` by default; ``s`` skips, ``u`` or Backspace undoes) or by
    clicking a button. The next pair is chosen by ``strategy`` (see
    :mod:`simwidgets.evaluation.labelling`): ``"uncertain"``, ``"disagree"``, ``"diverse"``,
    ``"random"`` or ``"mixed"`` (default). Labels are appended to ``path`` at once; opening the
    same path again resumes, and pairs already labelled are not offered again.

    Progress shows how many pairs are labelled, how many of them in the random stratum, the
    share of similar pairs (a label at or above ``label_cut``, said on the line) with its
    Wilson interval at ``confidence`` (estimated from the random stratum only, since the
    active strategies bias the sample), and how many more random labels reach
    ``target_margin``: never "reached" before :data:`MIN_RANDOM_LABELS` random labels.

    Parameters
    ----------
    df, left, right
        The pairs to label (a DataFrame and its two text columns).
    models
        Specs scoring each pair (shown, and used by the strategies); the first one with
        vectors places pairs for ``"diverse"``.
    labels
        The label values offered, e.g. ``(0, 0.5, 1)``.
    keys
        ``{label: key}``; default ``0``, ``5`` (0.5) and ``1``, else the label's first character.
    threshold
        The chosen model's threshold for ``"uncertain"`` (default: its median score).
    model
        Which model's threshold ``"uncertain"`` uses (name or position, default the first;
        ``"ensemble"`` with ``ensemble``).
    ensemble
        A fitted :class:`~simwidgets.results.EnsembleResult`: its prediction for each pair is shown
        as one more score (named ``ensemble``) and ``model="ensemble"`` makes ``"uncertain"``
        pick the pairs the stacked model is least sure of.
    label_cut
        A label at or above it counts as similar (default: the middle of ``labels``).

    Examples
    --------
    >>> labeler = PairLabeler(log, "query", "result", models=["minilm", "glove-50d"])  # doctest: +SKIP
    >>> labeler                       # label with the keys 0, 5, 1; s skips, u undoes   # doctest: +SKIP
    >>> labeler.labels                # every label so far, as a DataFrame               # doctest: +SKIP
    """

    _esm = bundle("labeler")
    _css = STYLE
    _rpc_methods = {"label": "_label_request", "skip": "_skip_request", "undo": "_undo_request"}

    model_names = t.List(t.Unicode(), help="models whose scores are shown").tag(sync=True)
    choices = t.List(t.Dict(), help="label buttons: [{value, name, key}]").tag(sync=True)
    skip_key = t.Unicode("s").tag(sync=True)
    undo_keys = t.List(t.Unicode(), ["u", "Backspace"]).tag(sync=True)
    pair = t.Dict(help="the pair shown: {row, left, right, scores, strategy}; {} when every pair is done").tag(
        sync=True
    )
    progress = t.Dict(help="labelled, random stratum, margin of error, labels still needed").tag(sync=True)
    strategy = t.Unicode("mixed", help="how the next pair is chosen").tag(sync=True)
    last = t.Dict(help="the last label given: {left, right, label}").tag(sync=True)
    error = t.Unicode("", help="why the last action failed").tag(sync=True)

    @t.validate("strategy")
    def _check_strategy(self, proposal):
        if proposal["value"] not in STRATEGIES:
            raise t.TraitError(f"strategy must be one of {STRATEGIES}, got {proposal['value']!r}")
        return proposal["value"]

    def __init__(
        self,
        df: pd.DataFrame,
        left: str,
        right: str,
        models=("minilm",),
        *,
        labels=(0, 0.5, 1),
        path="labels.csv",
        strategy: str = "mixed",
        keys: dict | None = None,
        threshold: float | None = None,
        model=0,
        label_cut: float | None = None,
        confidence: float = 0.95,
        target_margin: float = 0.03,
        seed: int = 0,
        ensemble=None,
        **kwargs,
    ):
        missing = [c for c in (left, right) if c not in df]
        if missing:
            raise NotFoundError(f"column(s) {missing} not in df; its columns are {list(df.columns)}")
        values = [float(v) for v in labels]
        if len(values) < 2 or len(set(values)) != len(values):
            raise InputError(f"labels must be two or more distinct values, got {list(labels)}")
        keys = dict(keys or {})
        key_of = {v: str(keys.get(v, DEFAULT_KEYS.get(v, _label_name(v)[0]))) for v in values}
        if len(set(key_of.values())) != len(values):
            raise InputError(f"two labels share a key: {key_of}; give keys={{label: key}}")
        if "s" in key_of.values() or "u" in key_of.values():
            raise InputError("the keys s (skip) and u (undo) cannot label")
        self._frame = df.reset_index(drop=True)
        self._left, self._right = left, right
        self._values = values
        self._label_cut = float(label_cut) if label_cut is not None else (min(values) + max(values)) / 2
        self._confidence, self._target = confidence, target_margin
        embedders = load_models(list(models) if isinstance(models, (list, tuple)) else [models])
        scored = score_pairs(self._frame[left], self._frame[right], embedders)
        matrix = np.stack([scored[score_column(m.name)].to_numpy(np.float64) for m in embedders])
        names = [m.name for m in embedders]
        if ensemble is not None:
            frame = self._frame
            source = scored if all(c in scored for c in ensemble.score_columns) else frame
            predicted = np.asarray(ensemble.predict(source, left=frame[left], right=frame[right]), dtype=np.float64)
            matrix = np.vstack([matrix, predicted[None, :]])
            names.append("ensemble")
        index = names.index(model) if isinstance(model, str) else int(model)
        if not 0 <= index < len(names):
            raise InputError(f"model must name one of {names} (or be its position), got {model!r}")
        finite = matrix[index][np.isfinite(matrix[index])]
        self._threshold = (
            float(threshold) if threshold is not None else float(np.median(finite)) if finite.size else 0.5
        )
        self._scores = matrix
        self._queue = PairQueue(
            matrix, self._pair_vectors(embedders), threshold=self._threshold, model=index, seed=seed
        )
        self._store = LabelStore(path)
        self._skipped: list[int] = []
        done = self._store.labelled_keys()
        self._row_of = {}
        for i, (a, b) in enumerate(zip(map(_text, self._frame[left]), map(_text, self._frame[right]))):
            self._row_of.setdefault((a, b), i)
            if (a, b) in done:
                self._queue.close(i)
        self._step = len(self._store.rows)
        elsewhere = sum((str(r["left"]), str(r["right"])) not in self._row_of for r in self._store.rows)
        if elsewhere:
            warnings.warn(
                f"{self._store.path}: {elsewhere} of its {len(self._store.rows)} labels are of pairs that are not in "
                "this frame (another frame's labels file?); they stay in the file and are left out of this "
                "session's counts and estimates",
                SimwidgetsWarning,
                stacklevel=2,
            )
        super().__init__(
            model_names=names,
            choices=[{"value": v, "name": _label_name(v), "key": key_of[v]} for v in values],
            strategy=strategy,
            **kwargs,
        )
        self.observe(lambda change: self._advance(), names=["strategy"])
        self._advance()

    # -- what Python users call ----------------------------------------------------------
    @property
    def labels(self) -> pd.DataFrame:
        """Every label given so far (this session's and the file's), one row each."""
        return self._store.frame()

    @property
    def path(self):
        return self._store.path

    def label(self, value) -> None:
        """Label the pair shown with ``value`` (one of ``labels``) and show the next one."""
        value = float(value)
        if value not in self._values:
            raise InputError(f"{value:g} is not one of the labels {self._values}")
        if not self.pair:
            raise InputError("every pair is labelled or skipped")
        row = int(self.pair["row"])
        stratum = "random" if self.pair["strategy"] == "random" else "active"
        self._store.append(self.pair["left"], self.pair["right"], value, self.pair["strategy"], stratum)
        self._queue.close(row)
        self.last = {"left": self.pair["left"], "right": self.pair["right"], "label": _label_name(value)}
        self._step += 1
        self._advance()

    def skip(self) -> None:
        """Leave the pair shown unlabelled (it is not offered again this session)."""
        if self.pair:
            self._skipped.append(int(self.pair["row"]))
            self._queue.close(int(self.pair["row"]))
            self._step += 1
            self._advance()

    def undo(self) -> None:
        """Take back the last label (from the file too) and show that pair again."""
        last = self._store.undo()
        if last is None:
            raise InputError("no label to undo")
        row = self._row_of.get((str(last["left"]), str(last["right"])))
        if row is not None:
            self._queue.reopen(row)
        self._step = max(0, self._step - 1)
        self.last = {}
        if row is None:
            self._advance()
        else:
            self._show(row, str(last["strategy"]))

    def evaluate(self, models=None, **kwargs) -> pd.DataFrame:
        """:func:`~simwidgets.evaluate_pairs` on the random stratum's labels (unbiased), with
        the models shown (or ``models``); the table's ``sample`` column says so."""
        from ..evaluation import evaluate_pairs

        frame = self.labels
        return evaluate_pairs(
            frame.left, frame.right, frame.label, models or self.model_names, stratum=frame.stratum, **kwargs
        )

    # -- the browser's requests ----------------------------------------------------------
    def _label_request(self, value):
        self.label(value)
        return {"labelled": len(self._store.rows)}

    def _skip_request(self):
        self.skip()
        return {}

    def _undo_request(self):
        self.undo()
        return {"labelled": len(self._store.rows)}

    # -- inner workings --------------------------------------------------------------------
    def _pair_vectors(self, embedders):
        """Each pair as its two texts' unit vectors joined (the first model with vectors), for "diverse"."""
        for model in embedders:
            if model.scores_pairs or model.scores_sparse:
                continue
            texts = pd.concat([self._frame[self._left], self._frame[self._right]]).tolist()
            vectors = np.nan_to_num(normalize_rows(model.embed(texts)))
            n = len(self._frame)
            return np.hstack([vectors[:n], vectors[n:]]).astype(np.float32)
        return None

    def _current_strategy(self) -> str:
        return MIXED[self._step % len(MIXED)] if self.strategy == "mixed" else self.strategy

    def _advance(self) -> None:
        strategy = self._current_strategy()
        labelled = [self._row_of[k] for k in self._store.labelled_keys() if k in self._row_of]
        self._show(self._queue.next(strategy, labelled), strategy)

    def _show(self, row, strategy: str) -> None:
        if row is None:
            self.pair = {}
        else:
            scores = self._scores[:, row]
            self.pair = {
                "row": int(row),
                "left": _text(self._frame[self._left].iloc[row]),
                "right": _text(self._frame[self._right].iloc[row]),
                "scores": [None if np.isnan(s) else round(float(s), 4) for s in scores],
                "strategy": strategy,
            }
        self.progress = self._progress()

    def _progress(self) -> dict:
        every = self.labels
        mine = [(str(a), str(b)) in self._row_of for a, b in zip(every.left, every.right)]
        frame = every[np.asarray(mine, dtype=bool)] if len(every) else every  # this frame's pairs only
        random = frame[frame.stratum == "random"]
        n = len(random)
        similar = int((random.label.astype(float) >= self._label_cut).sum()) if n else 0
        share = similar / n if n else None
        population = len(self._frame)
        low, high = wilson_interval(similar, n, self._confidence, population) if n else (None, None)
        margin = round(max(share - low, high - share), 3) if n else None
        reached = n >= MIN_RANDOM_LABELS and margin <= self._target
        # plan with the share in the interval that needs the most labels (nearest one half)
        plan = 0.5 if not n else min(max(0.5, low), high)
        needed = labels_needed(plan, self._target, self._confidence, population)
        return {
            "labelled": len(frame),
            "in_file": len(every),
            "random": n,
            "total": population,
            "remaining": int(self._queue.open.sum()),
            "similar_share": share,
            "interval": None if not n else [round(low, 4), round(high, 4)],
            "margin": margin,
            "confidence": self._confidence,
            "target_margin": self._target,
            "reached": bool(reached),
            "more_needed": 0 if reached else max(MIN_RANDOM_LABELS - n, needed - n, 1),
            "label_cut": self._label_cut,
            "path": str(self._store.path),
        }


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
