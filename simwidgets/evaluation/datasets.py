"""Readers for labelled pair files: word-pair TSV, STS Benchmark CSV, MRPC TSV.

Each returns a DataFrame with columns ``left``, ``right`` and ``score`` (``score`` is the
human judgement: graded for word pairs and STS-B, 0/1 for MRPC).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

FORMATS = ("wordsim", "stsb", "mrpc")


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
                raise ValueError(
                    f"{file}, line {line_no}: expected 'word1{'<TAB>' if delimiter == chr(9) else ' '}"
                    f"word2{'<TAB>' if delimiter == chr(9) else ' '}score', got {line!r}"
                )
            try:
                score = float(parts[2])
            except ValueError:
                if not rows and line_no == 1:
                    continue  # a header line
                raise ValueError(f"{file}, line {line_no}: score {parts[2]!r} is not a number") from None
            rows.append((parts[0], parts[1], score))
    if not rows:
        raise ValueError(f"{file} holds no word pairs")
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
                raise ValueError(f"{file}, line {line_no}: expected 3 fields, got {len(parts)}")
            try:
                score = float(parts[2])
            except ValueError:
                if line_no == 1:
                    continue
                raise ValueError(f"{file}, line {line_no}: score {parts[2]!r} is not a number") from None
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
            raise ValueError(f"{file}: expected an MRPC header starting with 'Quality', got {header!r}")
        for line_no, parts in enumerate(reader, start=2):
            if not parts:
                continue
            if len(parts) != 5 or parts[0] not in ("0", "1"):
                raise ValueError(f"{file}, line {line_no}: expected 5 tab-separated fields with a 0/1 label")
            rows.append((parts[3], parts[4], int(parts[0])))
    return pd.DataFrame(rows, columns=["left", "right", "score"])


def detect_format(path) -> str:
    name = Path(path).name.lower()
    if name.endswith(".csv") or "sts" in name:
        return "stsb"
    if "msr" in name or "mrpc" in name:
        return "mrpc"
    return "wordsim"


def load_pairs(path, format: str | None = None) -> pd.DataFrame:
    """Read a pairs file in one of :data:`FORMATS` (guessed from the name when not given)."""
    fmt = format or detect_format(path)
    readers = {"wordsim": read_word_pairs, "stsb": read_stsb, "mrpc": read_mrpc}
    if fmt not in readers:
        raise ValueError(f"unknown pairs format {fmt!r}; use one of {FORMATS}")
    return readers[fmt](path)


def standard_benchmarks(data_dir) -> dict[str, Path]:
    """The standard sets found under a data folder laid out like ``shared/data``."""
    root = Path(data_dir)
    candidates = {
        "WS-353": root / "word-sim" / "EN-WS-353-ALL.txt",
        "SimLex-999": root / "word-sim" / "EN-SIMLEX-999.txt",
        "STS-B dev": root / "sts" / "stsb-en-dev.csv",
    }
    return {name: path for name, path in candidates.items() if path.is_file()}
