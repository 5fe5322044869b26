"""Unlabelled text to learn from: a list, a column, or a file or folder of the log, read once,
deduplicated and sampled to a budget without ever holding the whole log.

The sample is the ``most`` distinct texts with the smallest seeded hash (a "bottom-k" sample):
every distinct text has the same chance whatever its count or place in the log, the same seed
gives the same texts, and memory is about ``2 * most`` texts. They come back in the order
first seen.

>>> corpus_sample(["a cat", "a dog", "a cat", "", None, "a fox"], most=10)
['a cat', 'a dog', 'a fox']
>>> len(corpus_sample([f"text {i}" for i in range(1000)], most=100))
100
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from ..errors import InputError, OptionError

#: File kinds a log folder may hold.
SUFFIXES = (".parquet", ".csv", ".tsv", ".txt")


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        if not found:
            raise FileNotFoundError(f"no {', '.join(SUFFIXES)} file in {path}")
        return found
    if not path.exists():
        raise FileNotFoundError(f"corpus not found: {path}")
    return [path]


def _file_texts(path: Path, columns: list[str] | None, chunk: int = 200_000):
    """The texts of one file, chunk by chunk: ``columns`` of a table, or the lines of a .txt file."""
    suffix = path.suffix.lower()
    if suffix == ".txt":
        with open(path, encoding="utf-8", errors="replace") as fh:
            yield [line.rstrip("\n") for line in fh]
        return
    if columns is None:
        raise OptionError(f"{path.name} is a table: name its text column(s) with column=...")
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        found = pq.read_schema(path).names
        missing = [c for c in columns if c not in found]
        if missing:
            raise InputError(f"column(s) {missing} not in {path}; its columns are {found}")
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk, columns=columns):
            for column in columns:
                yield batch.column(column).to_pylist()
        return
    sep = "\t" if suffix == ".tsv" else ","
    reader = pd.read_csv(path, sep=sep, usecols=columns, dtype=str, keep_default_na=False, chunksize=chunk)
    for frame in reader:
        for column in columns:
            yield frame[column].tolist()


def _chunks(texts, column):
    if isinstance(texts, (str, Path)):
        columns = None if column is None else ([column] if isinstance(column, str) else list(column))
        for path in _files(Path(texts).expanduser()):
            yield from _file_texts(path, columns)
    elif isinstance(texts, pd.DataFrame):
        if column is None:
            raise OptionError("texts is a table: name its text column(s) with column=...")
        for c in [column] if isinstance(column, str) else list(column):
            yield texts[c].tolist()
    else:
        yield list(texts)


def corpus_sample(texts, *, column=None, most: int = 100_000, seed: int = 0, progress: bool = False) -> list[str]:
    """At most ``most`` distinct non-empty texts of ``texts``, a uniform sample of the distinct ones.

    Parameters
    ----------
    texts
        A list or Series of texts, a DataFrame (with ``column``), or a path: a ``.txt`` file
        (a text per line), a CSV / TSV / Parquet file or a folder of them (a log, a
        ``simwidgets score`` output folder) with ``column``.
    column
        The text column(s) of a table: a name or a list (e.g. ``["query", "result"]``).
    most
        The budget of distinct texts kept.
    seed
        The sample's seed.
    """
    if most < 1:
        raise InputError(f"most must be at least 1, got {most}")
    salt = str(seed).encode()
    kept: dict[int, tuple[int, str]] = {}  # hash -> (first place seen, text)
    seen = 0
    from tqdm.auto import tqdm

    with tqdm(desc="reading texts", unit=" texts", disable=not progress) as bar:
        for chunk in _chunks(texts, column):
            for text in chunk:
                if not isinstance(text, str) or not text.strip():
                    continue
                seen += 1
                h = int.from_bytes(hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=8, key=salt).digest())
                kept.setdefault(h, (seen, text))
                if len(kept) > 2 * most:
                    kept = dict(sorted(kept.items())[:most])
            bar.update(len(chunk))
    chosen = sorted(kept.items())[:most]
    if not chosen:
        raise InputError("no non-empty text to learn from")
    return [text for _, text in sorted(value for _, value in chosen)]  # in the order first seen
