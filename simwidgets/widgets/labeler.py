"""PairLabeler: label pairs one at a time, the next pair chosen to be worth a label."""

from __future__ import annotations

import pandas as pd
import traitlets as t

from ..errors import InputError
from ..evaluation.labelling import STRATEGIES
from ..evaluation.labelling_session import LabellingSession, audit_design, label_name, pair_vectors
from ..evaluation.scored_pairs import check_columns, score_table
from .base import STYLE, Widget, bundle

DEFAULT_KEYS = {0: "0", 0.5: "5", 1: "1"}


class PairLabeler(Widget):
    """Label pairs one at a time; each label is on disk the moment it is given.

    Shows one pair (both texts as text, never HTML) with each model's score. Label it by key
    (``0``, ``5`` for 0.5, ``1`` by default; ``s`` skips, ``u`` or Backspace undoes) or by
    clicking a button. The next pair is chosen by ``strategy`` (see
    :mod:`simwidgets.evaluation.labelling`): ``"uncertain"``, ``"disagree"``, ``"diverse"``,
    ``"random"``, ``"mixed"`` (default) or ``"audit"`` (an :func:`~simwidgets.evaluation.audit.audit_sample` in
    its drawn order; the labels file keeps each row's stratum and inclusion probability, and
    ``estimate_on_log(log, path, ...)`` reads it). Labels are appended to ``path`` at once;
    opening the same path again resumes, and pairs already labelled are not offered again.

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
        check_columns(df, [left, right], "df")
        values = [float(v) for v in labels]
        if len(values) < 2 or len(set(values)) != len(values):
            raise InputError(f"labels must be two or more distinct values, got {list(labels)}")
        keys = dict(keys or {})
        key_of = {v: str(keys.get(v, DEFAULT_KEYS.get(v, label_name(v)[0]))) for v in values}
        if len(set(key_of.values())) != len(values):
            raise InputError(f"two labels share a key: {key_of}; give keys={{label: key}}")
        if "s" in key_of.values() or "u" in key_of.values():
            raise InputError("the keys s (skip) and u (undo) cannot label")
        table = score_table(df, left, right, None, models, ensemble=ensemble, what="df", where=None)
        index = table.names.index(model) if isinstance(model, str) and model in table.names else model
        if isinstance(index, str) or not 0 <= int(index) < len(table.names):
            raise InputError(f"model must name one of {table.names} (or be its position), got {model!r}")
        self._session = LabellingSession(
            table.left, table.right, table.scores, table.names, values=values, path=path, strategy=strategy,
            model=int(index), threshold=threshold, label_cut=label_cut, confidence=confidence,
            target_margin=target_margin, seed=seed, vectors=pair_vectors(table.models, table.left, table.right),
            design=audit_design(df, strategy),
        )  # fmt: skip
        self._curve: dict | None = None  # the last learning curve (learning_curve), for the progress line
        super().__init__(
            model_names=table.names,
            choices=[{"value": v, "name": label_name(v), "key": key_of[v]} for v in values],
            strategy=strategy,
            **kwargs,
        )
        self.observe(self._new_strategy, names=["strategy"])
        self._sync()

    # -- what Python users call ----------------------------------------------------------
    @property
    def labels(self) -> pd.DataFrame:
        """Every label given so far (this session's and the file's), one row each."""
        return self._session.store.frame()

    @property
    def path(self):
        return self._session.store.path

    def label(self, value) -> None:
        """Label the pair shown with ``value`` (one of ``labels``) and show the next one."""
        self._session.label(value)
        self._sync()

    def skip(self) -> None:
        """Leave the pair shown unlabelled (it is not offered again this session)."""
        self._session.skip()
        self._sync()

    def undo(self) -> None:
        """Take back the last label (from the file too) and show that pair again."""
        self._session.undo()
        self._sync()

    def evaluate(self, models=None, **kwargs) -> pd.DataFrame:
        """:func:`~simwidgets.evaluate_pairs` on the random stratum's labels (unbiased), with
        the models shown (or ``models``); the table's ``sample`` column says so."""
        from ..evaluation import evaluate_pairs

        frame = self.labels
        return evaluate_pairs(
            frame.left, frame.right, frame.label, models or self.model_names, stratum=frame.stratum, **kwargs
        )

    def learning_curve(self, candidates=None, sizes=None, folds: int = 3, **kwargs):
        """:func:`~simwidgets.learning_curve` on the labels given so far, shown in the progress
        line: each trainer's held-out metric at each size and the labels its curve says the
        next +0.01 would take. Call it again as labels accumulate.

        ``candidates`` default to fine-tuning the first model shown; ``sizes`` to four sizes
        up to the labels there are (``(folds - 1) / folds`` of them train each fold).

        Examples
        --------
        >>> labeller.learning_curve([sw.trainers.FineTune("minilm")])  # doctest: +SKIP
        """
        from ..errors import InputError
        from ..training import FineTune, learning_curve

        frame = self.labels
        n = len(frame)
        if n < 20:
            raise InputError(f"{n} labels so far: a learning curve needs at least 20")
        if candidates is None:
            candidates = [FineTune(self.model_names[0] if self.model_names else "minilm")]
        if sizes is None:
            top = int(n * (folds - 1) / folds)
            sizes = sorted({max(10, int(top * k / 4)) for k in (1, 2, 3, 4)})
        curve = learning_curve(candidates, frame.left, frame.right, frame.label, sizes=sizes, folds=folds, **kwargs)
        self._curve = curve.summary()
        self._sync()
        return curve

    # -- the browser's requests ----------------------------------------------------------
    def _label_request(self, value):
        self.label(value)
        return {"labelled": len(self._session.store.rows)}

    def _skip_request(self):
        self.skip()
        return {}

    def _undo_request(self):
        self.undo()
        return {"labelled": len(self._session.store.rows)}

    # -- inner workings --------------------------------------------------------------------
    def _new_strategy(self, change) -> None:
        self._session.strategy = change["new"]
        self._session.advance()
        self._sync()

    def _show(self, row, strategy: str) -> None:
        self._session.show(row, strategy)
        self._sync()

    def _sync(self) -> None:
        """The browser's view of the session: the pair shown, the last label, the progress."""
        progress = self._session.progress()
        if self._curve:
            progress["learning_curve"] = self._curve
        self.pair, self.last, self.progress = dict(self._session.pair), dict(self._session.last), progress
