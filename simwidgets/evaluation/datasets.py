"""Readers for labelled pair files: word-pair TSV, STS Benchmark CSV, MRPC TSV, SICK, and
any CSV, TSV or Parquet file with named columns.

Each returns a DataFrame with columns ``left``, ``right`` and ``score`` (``score`` is the
human judgement: graded for word pairs, STS-B and SICK, 0/1 for MRPC).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from ..errors import InputError

FORMATS = ("wordsim", "stsb", "mrpc", "sick")
SICK_COLUMNS = ("sentence_A", "sentence_B", "relatedness_score")


def _path(path) -> Path:
    file = Path(path).expanduser()
    if not file.is_file():
        raise FileNotFoundError(f"pairs file not found: {file}")
    return file


def read_word_pairs(path, delimiter: str | None = "\t") -> pd.DataFrame:
    """Read ``word1<TAB>word2<TAB>score`` lines (WordSim-353, SimLex-999, RG-65, MC-30...).

    Blank lines and lines starting with ``#`` are skipped; a header line whose score is not
    a number is skipped when it is the first line. Any other malformed line raises
    ``ValueError`` naming the file and line number. ``delimiter=None`` splits on any
    whitespace.
    """
    file = _path(path)
    rows = []
    with open(file, encoding="utf-8-sig", newline=None) as fh:
        for line_no, raw in enumerate(fh, start=1):
            line = raw.strip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split(delimiter) if delimiter else line.split()
            parts = [p.strip() for p in parts]
            if len(parts) != 3 or not parts[0] or not parts[1]:
                raise InputError(
                    f"{file}, line {line_no}: expected 'word1{'<TAB>' if delimiter == chr(9) else ' '}"
                    f"word2{'<TAB>' if delimiter == chr(9) else ' '}score', got {line!r}"
                )
            try:
                score = float(parts[2])
            except ValueError:
                if not rows and line_no == 1:
                    continue  # a header line
                raise InputError(f"{file}, line {line_no}: score {parts[2]!r} is not a number") from None
            rows.append((parts[0], parts[1], score))
    if not rows:
        raise InputError(f"{file} holds no word pairs")
    return pd.DataFrame(rows, columns=["left", "right", "score"])


def read_stsb(path) -> pd.DataFrame:
    """Read STS Benchmark CSV: ``sentence1,sentence2,score``, RFC quoting, no header."""
    file = _path(path)
    rows = []
    with open(file, encoding="utf-8-sig", newline="") as fh:
        for line_no, parts in enumerate(csv.reader(fh), start=1):
            if not parts:
                continue
            if len(parts) != 3:
                raise InputError(f"{file}, line {line_no}: expected 3 fields, got {len(parts)}")
            try:
                score = float(parts[2])
            except ValueError:
                if line_no == 1:
                    continue
                raise InputError(f"{file}, line {line_no}: score {parts[2]!r} is not a number") from None
            rows.append((parts[0], parts[1], score))
    return pd.DataFrame(rows, columns=["left", "right", "score"])


def read_mrpc(path) -> pd.DataFrame:
    """Read the Microsoft Research Paraphrase Corpus TSV (header, BOM, binary ``Quality``)."""
    file = _path(path)
    rows = []
    with open(file, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if not header or header[0].strip() != "Quality":
            raise InputError(f"{file}: expected an MRPC header starting with 'Quality', got {header!r}")
        for line_no, parts in enumerate(reader, start=2):
            if not parts:
                continue
            if len(parts) != 5 or parts[0] not in ("0", "1"):
                raise InputError(f"{file}, line {line_no}: expected 5 tab-separated fields with a 0/1 label")
            rows.append((parts[3], parts[4], int(parts[0])))
    return pd.DataFrame(rows, columns=["left", "right", "score"])


def read_sick(path) -> pd.DataFrame:
    """Read a SICK file: tab-separated, a header with ``pair_ID``, ``sentence_A``,
    ``sentence_B`` and ``relatedness_score`` (1-5; other columns are ignored)."""
    file = _path(path)
    frame = pd.read_csv(file, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE, encoding="utf-8-sig")
    missing = [c for c in SICK_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{file}: a SICK file needs the columns {list(SICK_COLUMNS)}; missing {missing}")
    score = pd.to_numeric(frame["relatedness_score"], errors="coerce")
    bad = score.isna() & (frame["relatedness_score"] != "")
    if bad.any():
        row = int(bad.idxmax())
        value = frame["relatedness_score"][row]
        raise InputError(f"{file}, line {row + 2}: relatedness_score {value!r} is not a number")
    pairs = pd.DataFrame({"left": frame["sentence_A"], "right": frame["sentence_B"], "score": score})
    if "pair_ID" in frame:  # what tells the same pair apart in the whole file and its splits
        pairs.attrs["pair_ids"] = frame["pair_ID"].tolist()
    return pairs


def read_table(path, sep: str | None = None, dtype=None, *, allow_partial: bool = False) -> pd.DataFrame:
    """A table of the user's: Parquet (a file, or a folder of parts such as ``simwidgets
    score`` writes), or CSV / TSV / any ``sep`` (default: a tab for ``.tsv``, else a comma)
    with a header; empty fields are missing, nothing else is read as missing.

    The output folder of a ``simwidgets score`` job that has not finished (no ``_SUCCESS``)
    is refused, saying so, unless ``allow_partial=True``."""
    file = Path(path).expanduser()
    suffixes = [x.lower() for x in file.suffixes]
    if file.is_dir() or (suffixes and suffixes[-1] in (".parquet", ".pq")):
        if not file.exists():
            raise FileNotFoundError(f"file not found: {file}")
        if file.is_dir() and not allow_partial:
            from ..files import check_complete

            check_complete(file)
        return pd.read_parquet(file)
    file = _path(file)
    if sep is None:
        sep = "\t" if ".tsv" in suffixes else ","
    return pd.read_csv(file, sep=sep, dtype=dtype, keep_default_na=False, na_values=[""], encoding="utf-8-sig")


def read_columns(path, left: str, right: str, label: str, sep: str | None = None) -> pd.DataFrame:
    """Read a user's own labelled pairs: a CSV, TSV (or any ``sep``) or Parquet file with a
    header, taking the columns ``left``, ``right`` and ``label``.

    Labels are kept as they are (numbers, or text that :func:`evaluate_pairs` then explains);
    rows are never dropped here.

    Examples
    --------
    >>> pairs = read_columns("labels.csv", "query", "result", "relevant")  # doctest: +SKIP
    """
    file = _path(path)
    frame = read_table(file, sep, dtype=str)
    missing = [c for c in (left, right, label) if c not in frame.columns]
    if missing:
        raise InputError(f"column(s) {missing} not in {file.name}; its columns are {list(frame.columns)}")
    score = frame[label]
    numeric = pd.to_numeric(score, errors="coerce")
    if numeric.notna().sum() == score.notna().sum():
        score = numeric
    return pd.DataFrame({"left": frame[left].values, "right": frame[right].values, "score": score.values})


def _first_line(path) -> str:
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            return fh.readline().rstrip("\r\n")
    except OSError:
        return ""


def detect_format(path) -> str:
    """Guess a pairs file's format from its first line (SICK and MRPC headers) and name."""
    first = _first_line(path)
    header = first.split("\t")
    if all(c in header for c in SICK_COLUMNS):
        return "sick"
    if header and header[0].strip() == "Quality":
        return "mrpc"
    name = Path(path).name.lower()
    if name.endswith(".csv") or "sts" in name:
        return "stsb"
    if "msr" in name or "mrpc" in name:
        return "mrpc"
    return "wordsim"


def load_pairs(path, format: str | None = None) -> pd.DataFrame:
    """Read a pairs file in one of :data:`FORMATS` (guessed from its first line and name when
    not given). A guess that fails says what the file's first line was, and how to read the
    file by its columns instead."""
    fmt = format or detect_format(path)
    readers = {"wordsim": read_word_pairs, "stsb": read_stsb, "mrpc": read_mrpc, "sick": read_sick}
    if fmt not in readers:
        raise InputError(f"unknown pairs format {fmt!r}; use one of {FORMATS}")
    if format is not None:
        return readers[fmt](path)
    try:
        return readers[fmt](path)
    except ValueError as exc:
        raise InputError(
            f"{exc}\n(the format was guessed as {fmt!r}; the file's first line is {_first_line(path)[:200]!r}. "
            "Give --format, or read your own columns with --left COLUMN --right COLUMN --label COLUMN)"
        ) from exc


#: The open evaluation sets shipped with the package (word similarity, STS-B train and dev).
DATA = Path(__file__).resolve().parents[1] / "data"


def standard_benchmarks(data_dir=DATA) -> dict[str, Path]:
    """The standard sets found under a data folder laid out like :data:`DATA` (the shipped one
    by default): WS-353, SimLex-999 and STS-B dev."""
    root = Path(data_dir)
    candidates = {
        "WS-353": root / "word-sim" / "EN-WS-353-ALL.txt",
        "SimLex-999": root / "word-sim" / "EN-SIMLEX-999.txt",
        "STS-B dev": root / "sts" / "stsb-en-dev.csv",
    }
    return {name: path for name, path in candidates.items() if path.is_file()}
