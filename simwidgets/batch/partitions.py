"""Inputs and outputs of batch scoring: deterministic partitions, atomic part files, a manifest.

A job's output folder holds one ``part-NNNNN.parquet`` per input partition, written under a
temporary name and renamed when complete, so a part file that exists is always whole. The
``_manifest.json`` records what the job was (inputs, columns, models, partitioning); a rerun
with the same command resumes, a rerun with a different one into the same folder is refused.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import os
import re
import uuid
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Partition:
    """One unit of work, read by the worker that scores it (no data goes through the client
    or the scheduler): a block of lines of a CSV file, or one row group of a Parquet file."""

    path: str
    kind: str  # "csv" or "parquet"
    start: int  # CSV: byte offset of the block; Parquet: row group number
    length: int = 0  # CSV: block size in bytes (the block runs on to the end of its last line)
    header: bytes = b""  # CSV: the file's header line, put before every block but the first


def plan_partitions(files: list[Path], left: str, right: str, blocksize: int) -> list[Partition]:
    """Deterministic partitions of the inputs, in input order, after checking the columns.

    CSV files are cut every ``blocksize`` bytes at line ends (fsspec's ``read_block``, as
    ``dask.dataframe.read_csv`` does: a quoted field must not hold a line break). Parquet
    partitions are the files' row groups.
    """
    import pyarrow.parquet as pq

    kind = _kind(files[0])
    parts: list[Partition] = []
    for file in files:
        if kind == "csv":
            with open(file, "rb") as fh:
                header = fh.readline()
            columns = header_names(header)
            size = file.stat().st_size
            starts = range(0, max(size, 1), blocksize)
            parts += [Partition(str(file), kind, start, blocksize, header) for start in starts]
        else:
            meta = pq.ParquetFile(file).metadata
            columns = meta.schema.to_arrow_schema().names
            parts += [Partition(str(file), kind, group) for group in range(max(meta.num_row_groups, 1))]
        missing = [c for c in (left, right) if c not in columns]
        if missing:
            raise ValueError(f"column(s) {missing} not in the input ({file.name}); its columns are {columns}")
    return parts


def header_names(header: bytes) -> list[str]:
    """Column names of a CSV header line (a UTF-8 byte-order mark is dropped)."""
    return next(csv.reader([header.decode("utf-8-sig", "replace")]), [])


def read_partition(part: Partition):
    """The rows of a partition: an Arrow table of text columns, or, for CSV bytes that are
    not valid UTF-8, a pandas frame whose undecodable bytes are kept as surrogates (each
    such text is then reported as invalid UTF-8 instead of failing the partition)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if part.kind == "parquet":
        with pq.ParquetFile(part.path) as file:
            table = file.read_row_group(part.start) if file.num_row_groups else file.schema_arrow.empty_table()
        index = [c for c in table.column_names if re.fullmatch(r"__index_level_\d+__", c)]
        return table.drop_columns(index).replace_schema_metadata(None)
    from fsspec.utils import read_block

    with open(part.path, "rb") as fh:
        block = read_block(fh, part.start, part.length, delimiter=b"\n")
    data = block if part.start == 0 else part.header + block
    names = header_names(part.header)
    try:
        return _read_csv_arrow(data, names)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        try:
            return _read_csv_pandas(data)
        except pd.errors.ParserError as exc:  # line numbers count from the block, not the file
            raise ValueError(
                f"{part.path} is not well-formed CSV in the block that starts at byte {part.start:,} "
                f"(pandas counts its lines from that block's header): {exc}"
            ) from exc


def _read_csv_arrow(data: bytes, names: list[str]):
    """CSV bytes as an Arrow table with every column text; empty fields are missing."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    if len(set(names)) != len(names):
        raise pa.ArrowInvalid("repeated column names")  # pandas renames them; let it
    return pcsv.read_csv(
        pa.BufferReader(data),
        read_options=pcsv.ReadOptions(use_threads=False),
        convert_options=pcsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            strings_can_be_null=True,
            null_values=[""],
        ),
    )


def _read_csv_pandas(data: bytes) -> pd.DataFrame:
    import io

    return pd.read_csv(
        io.BytesIO(data),
        dtype=object,
        keep_default_na=False,
        na_values=[""],
        encoding="utf-8",
        encoding_errors="surrogateescape",
    )


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


def write_part(frame, out_dir: Path, index: int) -> Path:
    """Write one scored partition (an Arrow table or a pandas frame) under a temporary name,
    then rename it into place.

    Text that is not valid UTF-8 (undecodable input bytes, kept as surrogates) becomes
    U+FFFD in the file; the common, clean case converts to Arrow once, with no per-text check.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(frame, pa.Table):
        table = frame
    else:
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (UnicodeEncodeError, pa.ArrowInvalid):
            fixed = frame.copy()
            for column in fixed.columns:
                fixed[column] = printable(fixed[column])
            table = pa.Table.from_pandas(fixed, preserve_index=False)
        # a column with no value in this partition is text in the others: keep one schema
        table = table.cast(
            pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema])
        )
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
