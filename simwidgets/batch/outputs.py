"""The outputs of a score job: a folder holding one ``part-NNNNN.parquet`` per input partition,
written under a temporary name and renamed when complete (a part file that exists is always
whole), the ``_manifest.json`` of what the job was (a rerun with the same job resumes, a rerun
with a different one is refused), the lock that holds the folder for one job at a time, each
part's counts and the job's summary.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..columns import is_reason, is_score, model_of
from ..errors import InputError
from ..files import COMPLETE, MANIFEST, is_temporary, replaced, write_atomic
from .inputs import MALFORMED

#: The lock file that holds an output folder for one job at a time (hidden: readers skip it).
LOCK = ".simwidgets-job.lock"
PART = "part-{:05d}.parquet"


@dataclass
class ScoreSummary:
    """What a batch job did: rows, partitions, and rows per missing-score reason per model."""

    output: Path
    rows: int
    partitions: int
    resumed: int
    seconds: float
    scored: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, dict[str, int]] = field(default_factory=dict)
    dashboard: str | None = None
    malformed: int = 0

    def __str__(self) -> str:
        from ..evaluation.cascade import OUTSIDE_BAND

        lines = [f"{self.rows:,} rows in {self.partitions} partitions -> {self.output}"]
        if self.resumed:
            lines.append(f"{self.resumed} partitions were already done (resumed)")
        if self.malformed:
            lines.append(
                f"{self.malformed:,} malformed rows (a field too many or too few) kept unscored; "
                "their reason column gives each one's byte offset"
            )
        for model, n in self.scored.items():
            saved = self.reasons.get(model, {}).get(OUTSIDE_BAND, 0)
            if saved:
                lines.append(
                    f"  cascade: {model} called on {n:,} of {self.rows:,} rows ({n / max(self.rows, 1):.1%}); "
                    f"{saved:,} calls saved"
                )
            lines.append(f"  {model}: {n:,} scored")
            for reason, count in sorted(self.reasons.get(model, {}).items(), key=lambda kv: -kv[1]):
                lines.append(f"    {count:,} not scored: {reason}")
        lines.append(f"{self.seconds:.1f} s")
        return "\n".join(lines)


def claim_output(out_dir: Path):
    """Hold ``out_dir`` for one job: an exclusive lock on ``.simwidgets-job.lock`` inside it,
    taken at once or refused. The lock is the operating system's, so a killed job leaves no
    stale claim; the returned lock is released by ``.release()`` (or as a context manager)."""
    from filelock import FileLock, Timeout

    out_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out_dir / LOCK), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise InputError(
            f"another simwidgets score job is writing into {out_dir} now; wait for it to finish or choose another "
            "output folder"
        ) from None
    return lock


def prepare_output(out_dir: Path, job: dict, n_parts: int) -> set[int]:
    """Create or check the output folder (held by :func:`claim_output`); return the partitions
    already finished. A manifest or part that cannot be read is named with what to do."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = out_dir / MANIFEST
    job = {**job, "partitions": n_parts}
    digest = hashlib.blake2b(json.dumps(job, sort_keys=True).encode(), digest_size=8).hexdigest()
    if manifest.exists():
        try:
            old = json.loads(manifest.read_text(encoding="utf-8"))
            if not isinstance(old, dict):
                raise InputError("not a JSON object")
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(
                f"{manifest} is damaged ({exc}), so the job it describes cannot be resumed; to start afresh, "
                f"delete the folder {out_dir} (or choose another output folder)"
            ) from None
        if old.get("digest") != digest:
            if any(out_dir.glob("part-*.parquet")):
                raise InputError(
                    f"{out_dir} holds the output of a different job (other inputs, columns, models or "
                    "partitioning); choose another output folder or delete it to start over"
                )
            # the job failed before writing any part: start over with the corrected settings
            write_atomic(manifest, json.dumps({**job, "digest": digest}, indent=1).encode())
    else:
        leftovers = [p for p in out_dir.iterdir() if p.name != MANIFEST and not p.name.startswith(".")]
        if leftovers:
            raise InputError(f"{out_dir} is not empty and is not a simwidgets output folder")
        write_atomic(manifest, json.dumps({**job, "digest": digest}, indent=1).encode())
    for tmp in out_dir.iterdir():
        if is_temporary(tmp):
            tmp.unlink(missing_ok=True)  # partial files of an interrupted run
    (out_dir / COMPLETE).unlink(missing_ok=True)  # unfinished again until this run ends
    done = {i for i in range(n_parts) if (out_dir / PART.format(i)).exists()}
    check_parts(out_dir, sorted(done))
    return done


def check_parts(out_dir: Path, indexes) -> None:
    """Refuse part files whose Parquet footer cannot be read, naming each and the fix."""
    import pyarrow.parquet as pq

    damaged = []
    for i in indexes:
        path = out_dir / PART.format(i)
        try:
            pq.read_metadata(path)
        except Exception as exc:  # ArrowInvalid, OSError: a file cut short or overwritten
            damaged.append(f"{path.name} ({exc})")
    if damaged:
        raise InputError(
            f"{out_dir}: {len(damaged)} part file(s) cannot be read: {'; '.join(damaged[:3])}. Delete "
            "them and run the same command again to score just those partitions (or delete the folder to start afresh)"
        )


def clashing_columns(columns, names, ensemble: bool = False) -> list[str]:
    """Input columns that a job's output columns (``score_<name>``, ``reason_<name>`` of each
    model name, and of ``ensemble``) would duplicate."""
    outputs = {
        f"{kind}_{name}" for name in [*names, *(["ensemble"] if ensemble else [])] for kind in ("score", "reason")
    }
    return [c for c in columns if c in outputs]


def write_part(table, out_dir: Path, index: int) -> Path:
    """Write one scored partition (an Arrow table) under a temporary name, then rename it into place."""
    import pyarrow.parquet as pq

    final = out_dir / PART.format(index)
    with replaced(final) as tmp:
        pq.write_table(table, tmp)
    return final


def clash_message(clash) -> str:
    return (
        f"the input already has the column(s) {clash}, which this job writes (is it a scored file, scored "
        "again?): rename or drop them first, or give the models other names (a spec's ?name=...)"
    )


def count_part(columns: dict, rows: int) -> dict:
    """One partition's counts for the job summary, from its ``score_``/``reason_`` columns
    (arrays, or a table read back) and its number of rows: scored rows and rows per reason
    per model, and malformed rows (a malformed row's reason, without its byte offset, is
    counted once per field count)."""
    counts: dict = {"rows": rows, "scored": {}, "reasons": {}, "malformed": 0}
    first_reason = True
    for column, values in columns.items():
        values = np.asarray(values)
        if is_score(column):
            counts["scored"][model_of(column)] = int(np.count_nonzero(~pd.isna(values)))
        elif is_reason(column):
            reasons = pd.Series(values[~pd.isna(values)], dtype=object)  # few: most rows are scored
            malformed = reasons.str.startswith(MALFORMED)
            if malformed.any():
                reasons = reasons.where(~malformed, reasons.str.split(", at byte").str[0])
                if first_reason:
                    counts["malformed"] = int(malformed.sum())
            first_reason = False
            counts["reasons"][model_of(column)] = {str(k): int(v) for k, v in reasons.value_counts().items()}
    return counts


def summarize(out_dir: Path, n_parts: int, resumed: int, seconds: float, dashboard=None, counted=None) -> ScoreSummary:
    """Add up the partitions' counts: ``counted`` maps a partition index to what its task
    returned (:func:`count_part`); the others (resumed) are read from their files."""
    import pyarrow.parquet as pq

    counted = counted or {}
    summary = ScoreSummary(out_dir, 0, n_parts, resumed, seconds, dashboard=dashboard)
    for i in range(n_parts):
        counts = counted.get(i)
        if counts is None:
            path = out_dir / PART.format(i)
            if not path.exists():
                raise RuntimeError(f"partition {i} is missing from {out_dir}: rerun the same command to finish")
            columns = [c for c in pq.read_schema(path).names if is_score(c) or is_reason(c)]
            table = pd.read_parquet(path, columns=columns)
            counts = count_part({c: table[c].to_numpy() for c in columns}, len(table))
        summary.rows += counts["rows"]
        summary.malformed += counts["malformed"]
        for name, n in counts["scored"].items():
            summary.scored[name] = summary.scored.get(name, 0) + n
        for name, reasons in counts["reasons"].items():
            total = summary.reasons.setdefault(name, {})
            for reason, n in reasons.items():
                total[reason] = total.get(reason, 0) + n
    return summary
