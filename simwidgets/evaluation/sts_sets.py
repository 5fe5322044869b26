"""The standard STS sets from local files: SemEval STS 2012-2016 and SICK, scored as MTEB scores them.

A folder holds the SemEval test files either as ``YEAR/NAME.test.tsv`` (the releases' layout)
or as ``YEAR.NAME.test.tsv``, each line ``score<TAB>sentence1<TAB>sentence2`` (lines without a
score are skipped and counted), plus any ``SICK*.txt`` (the SICK format: ``pair_ID``,
``sentence_A``, ``sentence_B``, ``relatedness_score``...). Only test files count for a year.
A model's figure for a set is the Spearman correlation of its cosine scores with the gold,
pooled over all the pairs of the year (or of all the SICK files), which is how MTEB reports
STS12-STS16 and SICK-R, so a model can be held against its published MTEB figures (which
MTEB prints multiplied by 100).

>>> evaluate_sts_dir("~/data/sts", models=["minilm", "glove-50d"])   # doctest: +SKIP
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..columns import score_column
from ..errors import InputError
from .datasets import read_sick

YEARS = range(2012, 2017)
_FLAT = re.compile(r"^(20\d\d)\.(.+)\.test\.tsv$", re.IGNORECASE)


def read_sts_tsv(path) -> pd.DataFrame:
    """One SemEval STS file: ``score<TAB>sentence1<TAB>sentence2`` per line.

    Lines whose first field is not a number (an empty score: pairs the organisers left
    unscored) are skipped and counted in ``frame.attrs["skipped"]``; a line with fewer than three
    fields is an error naming its line number.
    """
    file = Path(path).expanduser()
    rows, skipped = [], 0
    with open(file, encoding="utf-8-sig", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) < 3:
                raise InputError(f"{file}, line {number}: expected score<TAB>sentence1<TAB>sentence2")
            try:
                score = float(fields[0])
            except ValueError:
                skipped += 1
                continue
            if not np.isfinite(score):
                skipped += 1
                continue
            rows.append((fields[1], fields[2], score))
    frame = pd.DataFrame(rows, columns=["left", "right", "score"])
    frame.attrs["skipped"] = skipped
    return frame


def find_sts_sets(folder) -> dict[str, list[Path]]:
    """``{"STS12": [files...], ..., "SICK": [files...]}``: the test files of each set found."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"STS folder not found: {root}")
    sets: dict[str, list[Path]] = {}
    for year in YEARS:
        nested = sorted((root / str(year)).glob("*.test.tsv")) if (root / str(year)).is_dir() else []
        flat = sorted(p for p in root.glob(f"{year}.*") if _FLAT.match(p.name))
        if nested or flat:
            sets[f"STS{year % 100}"] = nested + flat
    sick = sorted(p for p in root.rglob("SICK*.txt") if p.is_file())
    if sick:
        sets["SICK"] = sick
    return sets


def _once_each(frames: list[pd.DataFrame], files: list[Path]):
    """SICK's pairs, each once: the whole file (``SICK.txt`` or ``SICK_all.txt``) and its splits
    (train, trial, test) hold the same pairs, told apart by ``pair_ID``. Returns the frames and
    files that add pairs not seen yet, and how many repeated pairs were left out."""
    order = sorted(range(len(frames)), key=lambda i: -len(frames[i]))  # the whole file first
    seen: set = set()
    kept, used, repeated = [], [], 0
    for i in order:
        frame = frames[i]
        ids = frame.attrs.get("pair_ids")
        keys = ids if ids is not None else list(zip(frame.left, frame.right))
        new = [k not in seen for k in keys]
        repeated += len(new) - sum(new)
        seen.update(keys)
        if any(new):
            part = frame[np.asarray(new, dtype=bool)].reset_index(drop=True)
            part.attrs["skipped"] = frame.attrs.get("skipped", 0)
            kept.append(part)
            used.append(files[i])
    position = {f: n for n, f in enumerate(files)}
    pairs = sorted(zip(used, kept), key=lambda fk: position[fk[0]])
    return [k for _, k in pairs], [f for f, _ in pairs], repeated


def evaluate_sts_dir(folder, models=("minilm",), *, progress: bool | None = None) -> pd.DataFrame:
    """Spearman of each model's cosine on each standard STS set found in ``folder``.

    Returns
    -------
    pandas.DataFrame
        One row per set (``STS12`` ... ``STS16``, ``SICK``): ``files`` and ``file_names`` (the
        files used), ``pairs`` (each once: SICK's whole file and its splits hold the same pairs,
        so a split adds only pairs the whole file lacks; ``repeated`` counts those left out),
        ``skipped`` (lines without a score) and one column per model: its Spearman correlation, pooled
        over the set's pairs (0-1; MTEB prints it times 100); ``unscored_<model>``, the share
        of pairs it could not score (left out), where there are any.
    """
    from ..models import load_models
    from ..similarity import score_pairs

    sets = find_sts_sets(folder)
    if not sets:
        raise FileNotFoundError(
            f"no STS files in {Path(folder).expanduser()}: expected YEAR/NAME.test.tsv or YEAR.NAME.test.tsv "
            "(2012-2016, lines score<TAB>sentence1<TAB>sentence2) or SICK*.txt"
        )
    embedders = load_models(list(models) if isinstance(models, (list, tuple)) else [models])
    rows = []
    for name, files in sets.items():
        frames = [read_sick(f) if name == "SICK" else read_sts_tsv(f) for f in files]
        frames, files, repeated = _once_each(frames, files) if name == "SICK" else (frames, files, 0)
        pairs = pd.concat(frames, ignore_index=True)
        skipped = sum(f.attrs.get("skipped", 0) for f in frames)
        row = {"set": name, "files": len(files), "pairs": len(pairs), "skipped": skipped}
        row["file_names"] = ", ".join(f.name for f in files)
        if repeated:
            row["repeated"] = repeated
        pairs = pairs[pairs.score.notna()]
        scored = score_pairs(pairs.left, pairs.right, embedders, progress=progress)
        for model in embedders:
            s = scored[score_column(model.name)].to_numpy(np.float64)
            ok = np.isfinite(s)
            gold = pairs.score.to_numpy(np.float64)
            row[model.name] = float(stats.spearmanr(s[ok], gold[ok]).statistic) if ok.sum() > 2 else np.nan
            if not ok.all():  # pairs a model cannot score are left out, and their share said
                row[f"unscored_{model.name}"] = float(1 - ok.mean())
        rows.append(row)
    return pd.DataFrame(rows).set_index("set")
