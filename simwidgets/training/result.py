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
    """

    spec: str
    path: Path
    history: pd.DataFrame
    report: pd.DataFrame | None
    objective: str
    dropped: dict = field(default_factory=dict)
    reused: bool = False
    seconds: float = 0.0

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
        )

    @property
    def model(self):
        """The trained model, loaded (once) as an :class:`~simwidgets.extend.Embedder`."""
        from ..models import load_model

        return load_model(self.spec)

    def __repr__(self) -> str:
        where = "reused" if self.reused else f"trained in {self.seconds:.1f} s"
        return f"<TrainedModel {self.spec!r} ({self.objective}, {where})>"
