"""A score job as one object: what it reads, how it scores, where it writes. Its manifest is
what identifies it in the output folder (a rerun of the same job resumes), and each of its
partitions goes to a worker as one task, the task's one argument.

>>> job = ScoreJob(("/data/log.csv",), "query", "result", ("glove-50d",), 1_000_000, "/data/scored")
>>> sorted(job.manifest_fields())
['blocksize', 'left', 'models', 'right']
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .inputs import Partition


@dataclass(frozen=True)
class ScoreJob:
    """One ``score_file`` job, as the client planned it and every worker reads it."""

    files: tuple[str, ...]
    left: str
    right: str
    specs: tuple[str, ...]
    blocksize: int
    out_dir: str
    sep: str | None = None
    text_columns: tuple[str, ...] = ()
    #: A stacked model's file (resolved), and its modification time when the job was planned.
    ensemble: str | None = None
    ensemble_mtime_ns: int | None = None
    device: str | None = None
    on_bad_rows: str = "keep"
    #: A calibrators file (resolved) whose models get a ``prob_<model>`` column, and its time.
    calibrate: str | None = None
    calibrate_mtime_ns: int | None = None
    #: A cascade: ``(cheap spec, expensive spec, low, high, threshold)``; the cheap spec is one of ``specs``.
    cascade: tuple | None = None

    def manifest_fields(self) -> dict:
        """What identifies the job apart from its inputs' sizes and times (those are read from
        disk by :meth:`manifest`)."""
        fields = {"left": self.left, "right": self.right, "models": list(self.specs), "blocksize": self.blocksize}
        if self.sep:
            fields["sep"] = self.sep
        if self.text_columns:
            fields["text_columns"] = sorted(self.text_columns)
        if self.ensemble is not None:
            fields["ensemble"] = {"path": self.ensemble, "mtime_ns": self.ensemble_mtime_ns}
        if self.calibrate is not None:
            fields["calibrate"] = {"path": self.calibrate, "mtime_ns": self.calibrate_mtime_ns}
        if self.cascade is not None:
            fields["cascade"] = [str(v) for v in self.cascade]
        return fields

    def manifest(self) -> dict:
        """The job's manifest: its inputs (path, size, modification time) and
        :meth:`manifest_fields`. An unchanged job has an unchanged manifest, so it resumes."""
        inputs = []
        for f in map(Path, self.files):
            info = f.stat()
            inputs.append({"path": str(f.resolve()), "size": info.st_size, "mtime_ns": info.st_mtime_ns})
        return {"inputs": inputs, **self.manifest_fields()}

    @property
    def options(self) -> dict:
        """Options every worker passes when it loads the job's models."""
        return {"device": self.device} if self.device else {}


@dataclass(frozen=True)
class PartitionTask:
    """One partition of a job, for the worker that scores it: the task's one argument."""

    job: ScoreJob
    part: Partition
    index: int
    #: torch threads for the worker process (None: leave torch as it is).
    threads: int | None = None
