"""What a training call returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class TrainedModel:
    """A model trained on the user's pairs or corpus.

    Attributes
    ----------
    spec
        A spec string every API takes (``load_model``, ``score_pairs``, ``score_file``, the
        widgets, the command line), e.g. ``"st:/home/me/.cache/simwidgets/trained/st-ab12..."``.
    path
        The folder (or file) it was saved in.
    history
        One row per epoch: ``epoch``, ``train_loss`` and the validation metric, where there is one.
    report
        Before and after on the validation pairs (:func:`~simwidgets.evaluate_pairs`: the base
        model's row and the trained one's), or None without validation pairs.
    objective
        The loss it was trained with.
    dropped
        Pairs (or texts) left out, per reason.
    reused
        True when an identical earlier run's model was loaded instead of training again.
    versus_base
        The trained model against its base on the held-out pairs: ``metric``, ``diff``
        (trained - base) with its paired 95% interval ``low`` / ``high``, and ``verdict``:
        ``"better"``, ``"worse"`` or ``"no difference shown"`` (None without held-out pairs).
        A model that is not better says so in a warning when it is made.
    """

    spec: str
    path: Path
    history: pd.DataFrame
    report: pd.DataFrame | None
    objective: str
    dropped: dict = field(default_factory=dict)
    reused: bool = False
    seconds: float = 0.0
    versus_base: dict | None = None
    #: The epoch whose weights were kept (the best on the validation pairs), or None.
    best_epoch: int | None = None

    @classmethod
    def from_record(cls, spec: str, path: Path, record: dict, reused: bool) -> TrainedModel:
        """The result of a finished job, from the record saved beside its model."""
        report = record.get("report")
        if report is not None:
            report = pd.DataFrame(report)
            report = report.set_index(report.columns[0])
        return cls(
            spec=spec,
            path=Path(path),
            history=pd.DataFrame(record.get("history") or []),
            report=report,
            objective=record["settings"]["objective"],
            dropped=record.get("dropped", {}),
            reused=reused,
            seconds=float(record.get("seconds", 0.0)),
            versus_base=record.get("versus_base"),
            best_epoch=record.get("best_epoch"),
        )

    @property
    def model(self):
        """The trained model, loaded (once) as an :class:`~simwidgets.extend.Embedder`."""
        from ..models import load_model

        return load_model(self.spec)

    def verdict(self) -> str:
        """One line: whether the trained model beat its base on the pairs it never saw."""
        v = self.versus_base
        if v is None:
            return "not judged against its base: no held-out pairs (validation=0)"
        said = {"better": "beat its base", "worse": "is WORSE than its base",
                "no difference shown": "did not beat its base (no difference shown)"}[v["verdict"]]  # fmt: skip
        interval = f"95% interval {v['low']:+.3f} to {v['high']:+.3f}"
        return f"{said} on the held-out pairs: {v['metric']} {v['diff']:+.3f} ({interval})"

    def __repr__(self) -> str:
        where = "reused" if self.reused else f"trained in {self.seconds:.1f} s"
        return f"<TrainedModel {self.spec!r} ({self.objective}, {where}); {self.verdict()}>"
