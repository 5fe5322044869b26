"""The inputs of a score job: the files of an input (a file, a folder, a glob), their
partitions (whole CSV records, a compressed file, a Parquet row group), the column types
inferred on the first block, and a partition's rows read by the worker that scores it, as an
Arrow table, with each malformed CSV row kept in place with its reason.
"""

from __future__ import annotations

import csv
import glob
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import InputError

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

    Returns ``(rows, bad)``: ``rows`` is an Arrow table, always (a text column holding bytes
    that are not valid UTF-8 stays a bytes column, so each such text is reported as invalid
    UTF-8 instead of failing the partition). ``bad`` maps the position of each malformed CSV
    row (a field too many or too few) to its reason, which names its field count and byte
    offset; the row itself is kept, with the fields it has. With ``on_bad_rows="fail"`` a
    malformed row raises an error instead.
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
    """Byte columns as Arrow text, each column where every value is valid UTF-8; a column
    holding bytes that are not stays binary, so each such text is reported as invalid UTF-8
    when scored (and written as text with U+FFFD in its place). Typed columns stay as they are."""
    import pyarrow as pa

    columns = {}
    for name in table.column_names:
        column = table[name]
        if pa.types.is_binary(column.type):
            try:
                column = column.cast(pa.string())
            except pa.ArrowInvalid:
                pass  # not valid UTF-8 somewhere in the column: bytes it stays
        columns[name] = column
    return pa.table(columns)


def input_columns(part: Partition) -> list[str]:
    """The column names of a partition's input file."""
    import pyarrow.parquet as pq

    if part.kind == "parquet":
        return pq.read_schema(part.path).names
    return header_names(part.header, part.sep)


def empty_fields_as_text(rows, columns):
    """The text columns of a CSV partition with their empty fields as ``""`` (Arrow reads them
    as nulls, as pandas does), so their reason is "empty text" rather than "missing text"."""
    import pyarrow.compute as pc

    for name in dict.fromkeys(columns):
        at = rows.column_names.index(name)
        rows = rows.set_column(at, name, pc.fill_null(rows[name], _empty_value(rows[name].type)))
    return rows


def _empty_value(type_):
    """The empty value of a text or bytes column."""
    import pyarrow as pa

    return pa.scalar(b"" if pa.types.is_binary(type_) else "", type=type_)


def text_codes(rows, left: str, right: str) -> tuple[np.ndarray, list]:
    """The partition's texts factorized: ``2n`` codes (left texts, then right; ``-1`` for
    missing) into a list of distinct values. Arrow text columns are factorized in Arrow, so
    only distinct texts ever become Python strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from ..texts import deduplicate

    both = [rows[left], rows[right]]
    if all(pa.types.is_string(c.type) or pa.types.is_large_string(c.type) for c in both):
        texts = pa.chunked_array(
            [chunk for c in both for chunk in c.cast(pa.large_string()).chunks], type=pa.large_string()
        )
        encoded = pc.dictionary_encode(texts.combine_chunks())
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        return codes, encoded.dictionary.to_pylist()
    # bytes that are not valid UTF-8, or a column of numbers: each distinct value is checked as a text
    return deduplicate(rows[left].to_pylist() + rows[right].to_pylist())


def bytes_as_text(table):
    """A CSV partition's byte columns (texts that are not all valid UTF-8) as text, each
    undecodable byte as U+FFFD, for a Parquet part whose text columns are text in every part."""
    import pyarrow as pa

    for at, name in enumerate(table.column_names):
        if pa.types.is_binary(table[name].type):
            values = [v.decode("utf-8", "replace") if v is not None else None for v in table[name].to_pylist()]
            table = table.set_column(at, name, pa.array(values, type=pa.string()))
    return table
