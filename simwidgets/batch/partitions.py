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
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..files import COMPLETE, MANIFEST, is_temporary, replaced, write_atomic

#: The lock file that holds an output folder for one job at a time (hidden: readers skip it).
LOCK = ".simwidgets-job.lock"
PART = "part-{:05d}.parquet"


CSV_SUFFIXES = (".csv", ".tsv", ".txt")
COMPRESSIONS = {".gz": "gzip", ".zst": "zstd", ".bz2": "bz2", ".xz": "xz"}
MALFORMED = "malformed row"
#: The longest record (line) a compressed CSV input may hold, in decompressed bytes: a bound
#: on what one record can make the job read into memory (``max_record_bytes`` raises it).
MAX_RECORD_BYTES = 256 << 20


def expand_inputs(source: str | os.PathLike) -> list[Path]:
    """Files of an input: a file, a folder (its CSV, TSV and Parquet files, compressed or
    not) or a glob, sorted."""
    text = str(source)
    path = Path(text).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and _is_input(p))
    elif path.is_file():
        files = [path]
    else:
        files = sorted(Path(p) for p in glob.glob(os.path.expanduser(text)))
    if not files:
        raise FileNotFoundError(f"no CSV, TSV or Parquet input found at {text}")
    kinds = {input_kind(f)[0] for f in files}
    if len(kinds) > 1:
        raise InputError(f"inputs mix CSV and Parquet files: {[f.name for f in files][:5]}")
    return files


def _is_input(path: Path) -> bool:
    try:
        input_kind(path)
    except ValueError:
        return False
    return True


def input_kind(path: Path) -> tuple[str, str | None]:
    """``("csv" or "parquet", compression or None)`` from a file's suffixes
    (``.csv``, ``.tsv``, ``.csv.gz``, ``.tsv.zst``, ``.parquet``...)."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = COMPRESSIONS.get(suffixes[-1]) if suffixes else None
    if compression:
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in CSV_SUFFIXES:
        return "csv", compression
    if last in (".parquet", ".pq") and compression is None:
        return "parquet", None
    raise InputError(
        f"{path} is not an input this command reads: .csv, .tsv (optionally .gz, .zst, .bz2, .xz) or .parquet"
    )


def default_sep(path: Path) -> str:
    """The field separator a file's name implies: a tab for ``.tsv``, else a comma."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in COMPRESSIONS]
    return "\t" if suffixes and suffixes[-1] == ".tsv" else ","


@dataclass(frozen=True)
class Partition:
    """One unit of work, read by the worker that scores it (no data goes through the client
    or the scheduler): whole records of a CSV file, all of a compressed CSV file, or one row
    group of a Parquet file."""

    path: str
    kind: str  # "csv" or "parquet"
    start: int  # CSV: byte offset of the block's first record; Parquet: row group number
    length: int = 0  # CSV: bytes of whole records in the block (-1: the whole file)
    header: bytes = b""  # CSV: the file's header record, put before every block
    sep: str = ","
    multiline: bool = False  # CSV: the file has quoted fields holding line breaks
    compression: str | None = None  # CSV: gzip, zstd...: read whole, as one partition
    types: tuple = ()  # CSV: (name, Arrow type) of each column that is not read as text
    max_record: int = MAX_RECORD_BYTES  # compressed CSV: the longest line read before giving up


def plan_partitions(
    files: list[Path],
    left: str,
    right: str,
    blocksize: int,
    sep: str | None = None,
    text_columns=(),
    max_record: int = MAX_RECORD_BYTES,
) -> list[Partition]:
    """Deterministic partitions of the inputs, in input order, after checking the columns.

    CSV files are scanned once for their record ends (:mod:`.records`: a line break inside a
    quoted field is not one) and cut into blocks of whole records of about ``blocksize``
    bytes, so no block ever starts inside a record. A compressed CSV file cannot be cut
    without reading all of it, so it is one partition. Parquet partitions are row groups.

    The types of a CSV input's other columns (integers, floats, booleans, dates) are inferred
    on its first block and kept in every block; ``left``, ``right``, ``text_columns`` and
    columns with no value in the first block are text.
    """
    import pyarrow.parquet as pq

    from .records import plan_blocks

    kind = input_kind(files[0])[0]
    parts: list[Partition] = []
    for file in files:
        if kind == "csv":
            file_sep = sep or default_sep(file)
            if len(file_sep) != 1:
                raise InputError(f"the separator must be one character, got {file_sep!r}")
            compression = input_kind(file)[1]
            if compression:
                header = _compressed_header(file, compression, max_record)
                parts.append(
                    Partition(str(file), kind, 0, -1, header, file_sep, True, compression, max_record=max_record)
                )
            else:
                layout, blocks = plan_blocks(file, blocksize, file_sep)
                with open(file, "rb") as fh:
                    header = fh.read(layout.header_end)
                multiline = bool(layout.multiline or layout.unclosed is not None)
                blocks = blocks or [(layout.header_end, layout.header_end)]  # a header only: one empty part
                parts += [Partition(str(file), kind, a, b - a, header, file_sep, multiline) for a, b in blocks]
            columns = header_names(header, file_sep)
        else:
            meta = pq.ParquetFile(file).metadata
            columns = meta.schema.to_arrow_schema().names
            parts += [Partition(str(file), kind, group) for group in range(max(meta.num_row_groups, 1))]
        missing = [c for c in (left, right) if c not in columns]
        if missing:
            hint = "" if kind != "csv" or len(columns) != 1 else " (one column only: is the separator right? see --sep)"
            raise InputError(f"column(s) {missing} not in the input ({file.name}); its columns are {columns}{hint}")
        unknown = [c for c in text_columns if c not in columns]
        if unknown:
            raise InputError(f"text column(s) {unknown} not in the input ({file.name}); its columns are {columns}")
    if kind == "csv" and parts:
        types = infer_types(parts[0], {left, right, *text_columns})
        parts = [replace(p, types=types) for p in parts]
    return parts


def infer_types(part: Partition, text: set) -> tuple:
    """``(name, Arrow type)`` of each column outside ``text`` whose values in the partition
    are all numbers, booleans or dates, as Arrow's CSV reader infers them."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = _unique_names(header_names(part.header, part.sep))
    data = _block_bytes(part)[0]
    if not data.strip(b"\r\n"):
        return ()
    table = _read_csv_block(
        data,
        read_options=pcsv.ReadOptions(use_threads=False, column_names=names),
        parse_options=pcsv.ParseOptions(
            delimiter=part.sep, newlines_in_values=part.multiline, invalid_row_handler=lambda row: "skip"
        ),
        convert_options=pcsv.ConvertOptions(
            column_types={name: pa.binary() for name in names if name in text},
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    kept = []
    for field in table.schema:
        t = field.type
        if field.name in text or pa.types.is_null(t) or pa.types.is_string(t) or pa.types.is_binary(t):
            continue
        kept.append((field.name, t))
    return tuple(kept)


def _compressed_header(file: Path, compression: str, max_record: int = MAX_RECORD_BYTES) -> bytes:
    """The header line of a compressed CSV file, read in chunks (each searched once) and at
    most ``max_record`` bytes of it."""
    chunks: list[bytes] = []
    size = 0
    with _decompressed(file, compression) as read:
        while True:
            chunk = read(1 << 16)
            if not chunk:
                return b"".join(chunks)
            end = chunk.find(b"\n")
            if end >= 0:
                chunks.append(chunk[: end + 1])
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
            if size > max_record:
                raise RecordTooLong(_too_long(file, max_record, "its header line"))


class RecordTooLong(InputError):
    """A record longer than the job's bound (``max_record_bytes``)."""


def _too_long(file, limit: int, what: str) -> str:
    return (
        f"{file}: {what} is longer than {limit:,} bytes without a line break (is it a CSV file?); "
        "if it really holds records that long, raise the bound with max_record_bytes= (--max-record-bytes)"
    )


@contextmanager
def _decompressed(file, compression: str):
    """Yield ``read(n)`` over a compressed file's decompressed bytes; a missing decompressor
    and a file that is not what its name says (not gzip, cut short) are one clear error."""
    from ..extras import missing, require

    fsspec = require("fsspec", "compressed CSV input")
    try:
        with fsspec.open(str(file), "rb", compression=compression) as fh:
            yield fh.read
    except (RecordTooLong, MemoryError):  # ours, or the machine's: not a broken file
        raise
    except ImportError as exc:  # zstd needs the zstandard package
        if (exc.name or "").split(".")[0] == "zstandard":
            raise missing("zstandard", f"reading {Path(file).name}") from exc
        needed = exc.name or "a decompressor"
        raise ImportError(f"reading {Path(file).name} needs {needed}, which is not installed") from exc
    except Exception as exc:  # gzip.BadGzipFile, EOFError, zlib, lzma and zstd errors
        raise InputError(
            f"{file} cannot be read as {compression} ({type(exc).__name__}: {exc}): is it really a "
            f"{compression} file, and complete? Check it with the {compression} tool, or give the file uncompressed"
        ) from exc


def header_names(header: bytes, sep: str = ",") -> list[str]:
    """Column names of a CSV header record (a UTF-8 byte-order mark is dropped)."""
    return next(csv.reader([header.decode("utf-8-sig", "replace")], delimiter=sep), [])


def read_partition(part: Partition, on_bad_rows: str = "keep"):
    """The rows of a partition and the reason of each malformed row.

    Returns ``(rows, bad)``: ``rows`` is an Arrow table of text columns, or, when some bytes
    are not valid UTF-8, a pandas frame whose undecodable bytes are kept as surrogates (each
    such text is then reported as invalid UTF-8 instead of failing the partition). ``bad``
    maps the position of each malformed CSV row (a field too many or too few) to its reason,
    which names its field count and byte offset; the row itself is kept, with the fields it
    has. With ``on_bad_rows="fail"`` a malformed row raises ``ValueError`` instead.
    """
    import pyarrow.parquet as pq

    if part.kind == "parquet":
        with pq.ParquetFile(part.path) as file:
            table = file.read_row_group(part.start) if file.num_row_groups else file.schema_arrow.empty_table()
        index = [c for c in table.column_names if re.fullmatch(r"__index_level_\d+__", c)]
        return table.drop_columns(index).replace_schema_metadata(None), {}
    data, start = _block_bytes(part)
    return _parse_csv(data, part, start, on_bad_rows)


def _block_bytes(part: Partition) -> tuple[bytes, int]:
    """A CSV partition's records (header excluded) and the offset of their first byte."""
    if part.compression:
        chunks: list[bytes] = []
        line = 0  # bytes since the last line break: the record holding them is at least that long
        step = max(1, min(1 << 24, part.max_record))  # a line within one chunk is never longer than the bound
        with _decompressed(part.path, part.compression) as read:
            for chunk in iter(lambda: read(step), b""):
                first = chunk.find(b"\n")
                if first < 0:
                    line += len(chunk)
                else:
                    if line + first > part.max_record:
                        break
                    line = len(chunk) - chunk.rfind(b"\n") - 1
                if line > part.max_record:
                    break
                chunks.append(chunk)
            else:
                return b"".join(chunks)[len(part.header) :], len(part.header)  # offsets in the decompressed text
        raise RecordTooLong(_too_long(part.path, part.max_record, "a record"))
    with open(part.path, "rb") as fh:
        fh.seek(part.start)
        return fh.read(part.length), part.start  # file offset of data[0]


def _parse_csv(data: bytes, part: Partition, start: int, on_bad_rows: str):
    """Parse whole CSV records with Arrow (every column read as bytes, checked as UTF-8
    afterwards), keeping malformed rows in their place."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = _unique_names(header_names(part.header, part.sep))
    found: list = []

    def invalid(row):
        found.append((row.number, row.actual_columns, row.text))
        return "skip"

    types = {name: pa.binary() for name in names}
    types.update(dict(part.types))
    if not data.strip(b"\r\n"):  # a header and no record: zero rows is a valid input
        return _as_text(pa.table({name: pa.array([], type=types[name]) for name in names})), {}
    try:
        table = _read_csv_block(
            data,
            read_options=pcsv.ReadOptions(use_threads=False, column_names=names),
            parse_options=pcsv.ParseOptions(
                delimiter=part.sep, newlines_in_values=part.multiline, invalid_row_handler=invalid
            ),
            convert_options=pcsv.ConvertOptions(column_types=types, strings_can_be_null=True, null_values=[""]),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(_type_change(str(exc), names, part, start, len(data))) from None
    bad: dict[int, str] = {}
    if found:
        table, bad = _keep_malformed(table, found, data, start, part, names, on_bad_rows)
    return _as_text(table), bad


def _read_csv_block(data: bytes, *, read_options, **options):
    """Arrow's CSV reader over ``data``; a record longer than Arrow's block (1 MB by default:
    "straddling object") is read again with a block that holds the longest record."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    try:
        return pcsv.read_csv(pa.BufferReader(data), read_options=read_options, **options)
    except pa.ArrowInvalid as exc:
        if "straddling" not in str(exc):
            raise
    read_options.block_size = min(len(data) + 1, (1 << 31) - 1)
    return pcsv.read_csv(pa.BufferReader(data), read_options=read_options, **options)


def _type_change(message: str, names: list[str], part: Partition, start: int, length: int) -> str:
    """Say which column of which block holds a value its first block's type cannot take."""
    found = re.search(r"column #(\d+).*?conversion error to (\w+).*?: (.*)", message)
    if not found:
        return f"{part.path}, bytes {start:,}-{start + length:,}: {message}"
    name = names[int(found.group(1))] if int(found.group(1)) < len(names) else f"#{found.group(1)}"
    return (
        f"column {name!r} is {found.group(2)} in the input's first block, but the block of {part.path} at bytes "
        f"{start:,}-{start + length:,} has {found.group(3).strip()}; read it as text with "
        f"--text-column {name} (score_file(..., text_columns=[{name!r}]))"
    )


def _unique_names(names: list[str]) -> list[str]:
    """Repeated header names made distinct as pandas makes them: ``x``, ``x.1``, ``x.2``."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        candidate = name
        while candidate in seen:
            seen[name] += 1
            candidate = f"{name}.{seen[name]}"
        seen.setdefault(candidate, 0)
        out.append(candidate)
    return out


def _keep_malformed(table, found, data: bytes, start: int, part: Partition, names: list[str], on_bad_rows: str):
    """Put each malformed row back in its place, with the fields it has, and say why."""
    import pyarrow as pa

    bad: dict[int, str] = {}
    rows: list[list] = []
    cursor = 0
    for number, n_fields, text in found:
        raw = text.encode("utf-8", "surrogateescape")
        at = data.find(raw, cursor)
        offset = start + at if at >= 0 else None
        cursor = at + len(raw) if at >= 0 else cursor
        where = f"at byte {offset:,}" if offset is not None else f"in the block at byte {start:,}"
        reason = f"{MALFORMED}: {n_fields} fields where the header has {len(names)}, {where}"
        if on_bad_rows == "fail":
            raise InputError(f"{part.path}: {reason} (use --on-bad-rows keep to keep such rows and report them)")
        fields = next(csv.reader([text], delimiter=part.sep), [])
        rows.append([f.encode("utf-8", "surrogateescape") if f != "" else None for f in fields[: len(names)]])
        rows[-1] += [None] * (len(names) - len(rows[-1]))
        bad[number - 1] = reason  # Arrow counts the block's records from 1
    typed = dict(part.types)
    extra = pa.table(
        {
            name: pa.array([r[i] for r in rows], type=pa.binary())
            if name not in typed
            else _typed_values([r[i] for r in rows], typed[name])
            for i, name in enumerate(names)
        }
    )
    n = table.num_rows + len(rows)
    order = np.empty(n, dtype=np.int64)
    is_bad = np.zeros(n, dtype=bool)
    positions = np.fromiter(bad, dtype=np.int64, count=len(bad))
    is_bad[positions] = True
    order[positions] = table.num_rows + np.arange(len(rows))
    order[~is_bad] = np.arange(table.num_rows)
    return pa.concat_tables([table, extra]).take(pa.array(order)), bad


def _typed_values(fields: list, type_):
    """A malformed row's fields of a typed column: each converted, or null where it cannot be."""
    import pyarrow as pa

    out = []
    for field in fields:
        try:
            out.append(pa.array([field.decode("utf-8", "replace")]).cast(type_)[0].as_py() if field else None)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            out.append(None)
    return pa.array(out, type=type_)


def _as_text(table):
    """Byte columns as text: Arrow strings when every value is valid UTF-8; otherwise a
    pandas frame of objects, undecodable bytes kept as surrogates. Typed columns stay as they are."""
    import pyarrow as pa

    def is_bytes(name):
        return pa.types.is_binary(table.schema.field(name).type)

    try:
        return pa.table({n: table[n].cast(pa.string()) if is_bytes(n) else table[n] for n in table.column_names})
    except pa.ArrowInvalid:
        return pd.DataFrame(
            {
                name: pd.Series(
                    [v.decode("utf-8", "surrogateescape") if v is not None else None for v in table[name].to_pylist()],
                    dtype=object,
                )
                if is_bytes(name)
                else table[name].to_pandas()
                for name in table.column_names
            }
        )


def signature(files: list[Path], left: str, right: str, specs: list[str], blocksize: int) -> dict:
    """What identifies a job: inputs (name, size, modification time), columns, models."""
    inputs = [{"path": str(f.resolve()), "size": f.stat().st_size, "mtime_ns": f.stat().st_mtime_ns} for f in files]
    return {"inputs": inputs, "left": left, "right": right, "models": specs, "blocksize": blocksize}


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


def input_columns(part: Partition) -> list[str]:
    """The column names of a partition's input file."""
    import pyarrow.parquet as pq

    if part.kind == "parquet":
        return pq.read_schema(part.path).names
    return header_names(part.header, part.sep)


def clashing_columns(columns, names, ensemble: bool = False) -> list[str]:
    """Input columns that a job's output columns (``score_<name>``, ``reason_<name>`` of each
    model name, and of ``ensemble``) would duplicate."""
    outputs = {
        f"{kind}_{name}" for name in [*names, *(["ensemble"] if ensemble else [])] for kind in ("score", "reason")
    }
    return [c for c in columns if c in outputs]


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
    with replaced(final) as tmp:
        pq.write_table(table, tmp)
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
