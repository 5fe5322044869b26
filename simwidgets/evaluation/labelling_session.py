"""A labelling session: one pair shown at a time, labelled, skipped or undone, the next chosen by
strategy, with progress towards an estimate of the share of similar pairs. What
:class:`~simwidgets.PairLabeler` drives; it runs (and tests) without a browser.

>>> session = LabellingSession(texts_left, texts_right, scores, ["minilm"], path="labels.csv")  # doctest: +SKIP
>>> session.pair["left"]; session.label(1.0); session.undo(); session.progress()               # doctest: +SKIP
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import InputError, SimwidgetsWarning
from ..vectors import normalize_rows
from .labelling import (
    AUDIT_COLUMNS,
    COLUMNS,
    MIN_RANDOM_LABELS,
    MIXED,
    LabelStore,
    PairQueue,
    labels_needed,
    wilson_interval,
)


def label_name(value: float) -> str:
    return f"{value:g}"


def pair_vectors(models, left: list[str], right: list[str]) -> np.ndarray | None:
    """Each pair as its two texts' unit vectors joined (the first model with dense vectors),
    for the ``"diverse"`` strategy; None when no model has them."""
    for model in models:
        if model.scores_pairs or getattr(model, "scores_sparse", False):
            continue
        vectors = np.nan_to_num(normalize_rows(model.embed(list(left) + list(right))))
        n = len(left)
        return np.hstack([vectors[:n], vectors[n:]]).astype(np.float32)
    return None


class LabellingSession:
    """Label, skip, undo and choose the next pair; every label is on disk at once.

    Parameters
    ----------
    left, right
        The pairs' texts, as shown (:func:`~simwidgets.texts.display_text`).
    scores
        ``(models, pairs)`` scores, NaN where a model has none; ``names`` their models.
    values
        The label values offered.
    path
        The labels file (:class:`~simwidgets.evaluation.labelling.LabelStore`): opening it
        again resumes, and pairs already labelled are not offered again.
    strategy
        ``"uncertain"``, ``"disagree"``, ``"diverse"``, ``"random"`` or ``"mixed"``.
    model, threshold
        The score row ``"uncertain"`` uses (position) and its threshold (default: its median).
    label_cut, confidence, target_margin
        A label at or above ``label_cut`` is similar; the share of similar pairs is estimated
        from the random stratum with a Wilson interval at ``confidence``, aiming at
        ``target_margin``.
    vectors
        One row per pair for ``"diverse"`` (:func:`pair_vectors`), or None.
    design
        An audit's design per pair (``{audit_row, audit_stratum, audit_stratum_rows,
        inclusion_probability}``), or None: a new labels file then has the audit's layout and
        each label keeps its pair's design.
    """

    def __init__(
        self,
        left: list[str],
        right: list[str],
        scores: np.ndarray,
        names: list[str],
        *,
        values=(0.0, 0.5, 1.0),
        path="labels.csv",
        strategy: str = "mixed",
        model: int = 0,
        threshold: float | None = None,
        label_cut: float | None = None,
        confidence: float = 0.95,
        target_margin: float = 0.03,
        seed: int = 0,
        vectors: np.ndarray | None = None,
        design: list[dict] | None = None,
    ):
        self.left, self.right, self.scores, self.names = list(left), list(right), scores, list(names)
        self.values = [float(v) for v in values]
        self.strategy = strategy
        self.label_cut = float(label_cut) if label_cut is not None else (min(self.values) + max(self.values)) / 2
        self.confidence, self.target = confidence, target_margin
        finite = scores[model][np.isfinite(scores[model])]
        self.threshold = float(threshold) if threshold is not None else float(np.median(finite)) if finite.size else 0.5
        self.queue = PairQueue(scores, vectors, threshold=self.threshold, model=model, seed=seed)
        self.design = design
        self.store = LabelStore(path, layout=AUDIT_COLUMNS if design is not None else COLUMNS)
        if design is not None and self.store.columns != AUDIT_COLUMNS:
            warnings.warn(
                f"{self.store.path} was written without an audit's design columns: labels go on into it, but "
                "the file alone cannot give estimate_on_log its strata; read them back with with_labels(audit, ...) "
                "or give a new path",
                SimwidgetsWarning,
                stacklevel=3,
            )
        self.skipped: list[int] = []
        self.row_of: dict[tuple[str, str], int] = {}
        done = self.store.labelled_keys()
        for i, key in enumerate(zip(self.left, self.right)):
            self.row_of.setdefault(key, i)
            if key in done:
                self.queue.close(i)
        self.step = len(self.store.rows)
        elsewhere = sum((str(r["left"]), str(r["right"])) not in self.row_of for r in self.store.rows)
        if elsewhere:
            warnings.warn(
                f"{self.store.path}: {elsewhere} of its {len(self.store.rows)} labels are of pairs that are not in "
                "this frame (another frame's labels file?); they stay in the file and are left out of this "
                "session's counts and estimates",
                SimwidgetsWarning,
                stacklevel=3,
            )
        self.pair: dict = {}
        self.last: dict = {}
        self.advance()

    # -- actions ---------------------------------------------------------------------------
    def label(self, value) -> None:
        """Label the pair shown with ``value`` (one of ``values``) and show the next one."""
        value = float(value)
        if value not in self.values:
            raise InputError(f"{value:g} is not one of the labels {self.values}")
        if not self.pair:
            raise InputError("every pair is labelled or skipped")
        row = int(self.pair["row"])
        strategy = self.pair["strategy"]
        stratum = strategy if strategy in ("random", "audit") else "active"
        design = self.design[row] if self.design is not None else None
        self.store.append(self.pair["left"], self.pair["right"], value, self.pair["strategy"], stratum, design)
        self.queue.close(row)
        self.last = {"left": self.pair["left"], "right": self.pair["right"], "label": label_name(value)}
        self.step += 1
        self.advance()

    def skip(self) -> None:
        """Leave the pair shown unlabelled (it is not offered again this session)."""
        if self.pair:
            self.skipped.append(int(self.pair["row"]))
            self.queue.close(int(self.pair["row"]))
            self.step += 1
            self.advance()

    def undo(self) -> None:
        """Take back this labeller's last label (from the file too) and show that pair again."""
        last = self.store.undo()
        if last is None:
            raise InputError("no label to undo")
        row = self.row_of.get((str(last["left"]), str(last["right"])))
        if row is not None:
            self.queue.reopen(row)
        self.step = max(0, self.step - 1)
        self.last = {}
        if row is None:
            self.advance()
        else:
            self.show(row, str(last["strategy"]))

    def current_strategy(self) -> str:
        return MIXED[self.step % len(MIXED)] if self.strategy == "mixed" else self.strategy

    def advance(self) -> None:
        """Show the next pair under the current strategy."""
        strategy = self.current_strategy()
        labelled = [self.row_of[k] for k in self.store.labelled_keys() if k in self.row_of]
        self.show(self.queue.next(strategy, labelled), strategy)

    def show(self, row, strategy: str) -> None:
        """Show pair ``row`` (None: every pair is done), chosen by ``strategy``."""
        if row is None:
            self.pair = {}
            return
        self.pair = {
            "row": int(row),
            "left": self.left[row],
            "right": self.right[row],
            "scores": [None if np.isnan(s) else round(float(s), 4) for s in self.scores[:, row]],
            "strategy": strategy,
        }

    # -- what is known -----------------------------------------------------------------------
    def progress(self) -> dict:
        """Labels given (of this frame's pairs, and in the file), the random stratum, the share
        of similar pairs with its interval and margin, and how many more random labels reach
        the target margin (never "reached" before :data:`MIN_RANDOM_LABELS` random labels)."""
        every = self.store.frame()
        mine = [(str(a), str(b)) in self.row_of for a, b in zip(every.left, every.right)]
        frame = every[np.asarray(mine, dtype=bool)] if len(every) else every  # this frame's pairs only
        random = frame[frame.stratum == "random"]
        n = len(random)
        similar = int((random.label.astype(float) >= self.label_cut).sum()) if n else 0
        share = similar / n if n else None
        population = len(self.left)
        low, high = wilson_interval(similar, n, self.confidence, population) if n else (None, None)
        margin = round(max(share - low, high - share), 3) if n else None
        reached = n >= MIN_RANDOM_LABELS and margin <= self.target
        # plan with the share in the interval that needs the most labels (nearest one half)
        plan = 0.5 if not n else min(max(0.5, low), high)
        needed = labels_needed(plan, self.target, self.confidence, population)
        return {
            "labelled": len(frame),
            "in_file": len(every),
            "random": n,
            "total": population,
            "remaining": int(self.queue.open.sum()),
            "similar_share": share,
            "interval": None if not n else [round(low, 4), round(high, 4)],
            "margin": margin,
            "confidence": self.confidence,
            "target_margin": self.target,
            "reached": bool(reached),
            "more_needed": 0 if reached else max(MIN_RANDOM_LABELS - n, needed - n, 1),
            "label_cut": self.label_cut,
            "path": str(self.store.path),
        }


def audit_design(df, strategy: str) -> list[dict] | None:
    """Each row's audit design (:data:`~simwidgets.evaluation.labelling.AUDIT_DESIGN`) when
    ``df`` is an audit sample labelled with strategy ``"audit"``, else None."""
    from .labelling import AUDIT_DESIGN

    if strategy != "audit" or not all(column in df for column in AUDIT_DESIGN):
        return None
    return df[AUDIT_DESIGN].to_dict("records")
