"""Inputs and outputs of batch scoring: deterministic partitions, atomic part files, a manifest.

A job's output folder holds one ``part-NNNNN.parquet`` per input partition, written under a
temporary name and renamed when complete, so a part file that exists is always whole. The
``_manifest.json`` records what the job was (inputs, columns, models, partitioning); a rerun
with the same command resumes, a rerun with a different one into the same folder is refused.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import uuid
from pathlib import Path

import pandas as pd

MANIFEST = "_manifest.json"
PART = "part-{:05d}.parquet"


def expand_inputs(source: str | os.PathLike) -> list[Path]:
    """Files of an input: a file, a folder (its CSV/Parquet files) or a glob, sorted."""
    text = str(source)
    path = Path(text).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", ".parquet", ".pq"))
    elif path.is_file():
        files = [path]
    else:
        files = sorted(Path(p) for p in glob.glob(os.path.expanduser(text)))
    if not files:
        raise FileNotFoundError(f"no CSV or Parquet input found at {text}")
    kinds = {_kind(f) for f in files}
    if len(kinds) > 1:
        raise ValueError(f"inputs mix CSV and Parquet files: {[f.name for f in files][:5]}")
    return files


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise ValueError(f"{path} is neither .csv nor .parquet")


def read_partitions(files: list[Path], left: str, right: str, blocksize: int):
    """A dask DataFrame over the inputs, with deterministic partitions.

    CSV is read as text (``left``/``right`` never turn into numbers), with undecodable bytes
    kept as surrogates so each such text is reported as invalid UTF-8 instead of failing the
    whole partition. Parquet partitions follow the files' row groups.
    """
    import dask.dataframe as dd

    kind = _kind(files[0])
    names = [str(f) for f in files]
    if kind == "csv":
        ddf = dd.read_csv(
            names,
            blocksize=blocksize,
            dtype=object,
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8",
            encoding_errors="surrogateescape",
        )
    else:
        ddf = dd.read_parquet(names, split_row_groups=True)
    missing = [c for c in (left, right) if c not in ddf.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not in the input; its columns are {list(ddf.columns)}")
    return ddf


def signature(files: list[Path], left: str, right: str, specs: list[str], blocksize: int) -> dict:
    """What identifies a job: inputs (name, size, modification time), columns, models."""
    inputs = [{"path": str(f.resolve()), "size": f.stat().st_size, "mtime_ns": f.stat().st_mtime_ns} for f in files]
    return {"inputs": inputs, "left": left, "right": right, "models": specs, "blocksize": blocksize}


def prepare_output(out_dir: Path, job: dict, n_parts: int) -> set[int]:
    """Create or check the output folder; return the partitions already finished."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = out_dir / MANIFEST
    job = {**job, "partitions": n_parts}
    digest = hashlib.blake2b(json.dumps(job, sort_keys=True).encode(), digest_size=8).hexdigest()
    if manifest.exists():
        old = json.loads(manifest.read_text())
        if old.get("digest") != digest:
            raise ValueError(
                f"{out_dir} holds the output of a different job (other inputs, columns, models or "
                "partitioning); choose another output folder or delete it to start over"
            )
    else:
        leftovers = [p for p in out_dir.iterdir() if p.name != MANIFEST and not p.name.startswith(".")]
        if leftovers:
            raise ValueError(f"{out_dir} is not empty and is not a simwidgets output folder")
        write_atomic(manifest, json.dumps({**job, "digest": digest}, indent=1).encode())
    for tmp in out_dir.glob(".*.tmp-*"):
        tmp.unlink(missing_ok=True)  # partial files of an interrupted run
    return {i for i in range(n_parts) if (out_dir / PART.format(i)).exists()}


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex}"
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_part(frame: pd.DataFrame, out_dir: Path, index: int) -> Path:
    """Write one scored partition under a temporary name, then rename it into place.

    Text that is not valid UTF-8 (undecodable input bytes, kept as surrogates) becomes
    U+FFFD in the file; the common, clean case converts to Arrow once, with no per-text check.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (UnicodeEncodeError, pa.ArrowInvalid):
        fixed = frame.copy()
        for column in fixed.columns:
            fixed[column] = printable(fixed[column])
        table = pa.Table.from_pandas(fixed, preserve_index=False)
    final = out_dir / PART.format(index)
    tmp = out_dir / f".{final.name}.tmp-{uuid.uuid4().hex}"
    pq.write_table(table, tmp)
    os.replace(tmp, final)
    return final


def printable(series: pd.Series) -> pd.Series:
    """A text column made valid UTF-8 for Parquet (undecodable bytes become U+FFFD)."""

    def fix(value):
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return value

    if series.dtype != object and not pd.api.types.is_string_dtype(series):
        return series
    return series.map(fix)
