"""Getting labels worth having: which pair to label next, a label file that loses nothing, and
how many labels a margin of error needs. The library behind :class:`~simwidgets.PairLabeler`.

Strategies pick the next unlabelled pair:

* ``"random"`` - a stratified random sample (strata: bins of the first model's score); every
  pair has the same chance, so metrics on this *random stratum* are unbiased estimates;
* ``"uncertain"`` - the pair closest to the threshold of the chosen model;
* ``"disagree"`` - the largest spread of the models' calibrated scores (percentile ranks);
* ``"diverse"`` - the pair farthest, in embedding space, from every pair labelled so far;
* ``"mixed"`` - random every other label, the active strategies in turn between;
* ``"audit"`` - the pairs in the order given: an audit sample drawn from a scored log
  (:func:`~simwidgets.evaluation.audit.audit_sample`); the labels file keeps each row's design
  (:data:`AUDIT_DESIGN`: its row in the log, stratum and inclusion probability), so the file
  and the log give :func:`~simwidgets.evaluation.audit.estimate_on_log` its estimates.

Active strategies choose pairs because they are hard or unusual, so their labels are not a
sample of the data: estimates use the random stratum only (all labels may train a model).

>>> margin_of_error(0.5, 1000)            # a proportion's 95% margin from 1,000 random labels
0.031
>>> labels_needed(0.5, 0.03, confidence=0.99)   # our user's "99% confidence, plus or minus 3%"
1844
"""

from __future__ import annotations

import csv
import math
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..files import replaced
from ..texts import pair_key

STRATEGIES = ("uncertain", "disagree", "diverse", "random", "mixed", "audit")
#: What "mixed" does, label after label.
MIXED = ("random", "uncertain", "random", "disagree", "random", "diverse")
#: A labels file's columns. ``pair`` is a stable key of the two texts (:func:`pair_key`), the
#: same in any frame that holds the pair; files written before it have ``row`` there instead.
COLUMNS = ["pair", "left", "right", "label", "strategy", "stratum", "time"]
LEGACY_COLUMNS = ["row", *COLUMNS[1:]]
#: An audit sample's design, per drawn row (:func:`~simwidgets.evaluation.audit.audit_sample`):
#: its position in the scored log, its stratum, the stratum's rows in the log and its chance of
#: being drawn. A labels file of an audit keeps them beside each label (:data:`AUDIT_COLUMNS`),
#: so the file alone, with the log, gives the log-level estimates.
AUDIT_DESIGN = ["audit_row", "audit_stratum", "audit_stratum_rows", "inclusion_probability"]
AUDIT_COLUMNS = [*COLUMNS, *AUDIT_DESIGN]
LAYOUTS = (COLUMNS, LEGACY_COLUMNS, AUDIT_COLUMNS)


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be between 0 and 1, got {confidence!r}")
    return float(stats.norm.ppf(0.5 + confidence / 2))


def margin_of_error(p: float, n: int, confidence: float = 0.95, population: int | None = None) -> float:
    """Half-width of the normal-approximation interval of a proportion ``p`` from ``n`` random
    labels (with the finite-population correction when ``population`` is given), rounded to 3 places."""
    if n <= 0:
        return float("nan")
    margin = _z(confidence) * math.sqrt(max(p * (1 - p), 0.0) / n)
    if population and population > 1:
        margin *= math.sqrt(max(population - n, 0) / (population - 1))
    return round(margin, 3)


#: Random labels needed before a target margin counts as reached: from fewer, even an honest
#: interval is too unsure of itself to stop on (one label, all agreeing, is not "done").
MIN_RANDOM_LABELS = 30


def wilson_interval(k: int, n: int, confidence: float = 0.95, population: int | None = None) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``k / n`` from ``n`` random labels (with the
    finite-population correction when ``population`` is given). Unlike the normal
    approximation it is honest at small ``n`` and at 0 or 1: one label out of one gives
    about (0.21, 1.0), not (1.0, 1.0).

    >>> [round(v, 3) for v in wilson_interval(1, 1)]
    [0.207, 1.0]
    """
    if n <= 0:
        return float("nan"), float("nan")
    z = _z(confidence)
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    if population and population > 1:
        half *= math.sqrt(max(population - n, 0) / (population - 1))
    return max(0.0, centre - half), min(1.0, centre + half)


def labels_needed(p: float, margin: float, confidence: float = 0.95, population: int | None = None) -> int:
    """Random labels needed for a proportion near ``p`` to reach ``margin`` at ``confidence``
    (``p = 0.5`` when nothing is known yet: the most labels any ``p`` can need)."""
    if not 0 < margin < 1:
        raise InputError(f"margin must be between 0 and 1, got {margin!r}")
    n0 = _z(confidence) ** 2 * p * (1 - p) / margin**2
    if population:
        n0 = n0 / (1 + (n0 - 1) / population)
    return int(math.ceil(n0))


class LabelStore:
    """Labels appended to a CSV file the moment they are given (flushed and synced), so a
    kernel crash or a closed tab loses nothing; opening the same path resumes.

    Several labellers may share one file (two notebooks, two people, two widgets): every
    change happens under a lock file beside it (``.<name>.lock``), an append never lands on a
    torn record, and an undo re-reads the file and takes out only the label this store gave
    last, never anyone else's. A file whose columns are not exactly :data:`COLUMNS` (or an
    audit's :data:`AUDIT_COLUMNS`, or the older layout) is not a label file written here and is
    refused, so no one's other columns are ever rewritten. ``layout`` is a new file's columns;
    an existing file keeps its own.

    A record cut short (a full disk, a crash mid-write) is set aside when the file is opened:
    its text goes to ``<name>.torn-<time>.txt`` beside the file, a warning says so, and
    labelling goes on from the whole records.
    """

    def __init__(self, path, layout=COLUMNS):
        from filelock import FileLock

        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(self.path.parent / f".{self.path.name}.lock"))
        self.rows: list[dict] = []
        if list(layout) not in (COLUMNS, AUDIT_COLUMNS):
            raise InputError(f"a new labels file's columns are {COLUMNS} or {AUDIT_COLUMNS}, got {list(layout)}")
        self.columns = list(layout)  # the file's own layout (an older file's too, once read)
        self._mine: list[dict] = []  # what this store gave or resumed, newest last: what undo may take back
        with self._lock:
            if self.path.exists() and self.path.stat().st_size:
                self.rows = self._read(set_aside=True)
            else:
                self._rewrite([])
        self._mine = list(self.rows)

    def _read(self, set_aside: bool = False) -> list[dict]:
        """Every whole record of the file; a torn last record is cut off and kept in a side file."""
        data = self.path.read_bytes()
        text = data.decode("utf-8", "surrogateescape")
        records, consumed = _csv_records(text)
        if not records or records[0] not in LAYOUTS:
            found = records[0] if records else []
            raise InputError(
                f"{self.path} is not a label file written here: its columns are {found}, a label file's are "
                f"{COLUMNS} (an audit's: {AUDIT_COLUMNS}; other columns would be lost when it is rewritten); give "
                "another path"
            )
        self.columns = records[0]
        torn = consumed < len(text)
        body = records[1:]
        bad = [i + 2 for i, r in enumerate(body) if len(r) != len(self.columns)]
        if bad:
            raise InputError(
                f"{self.path}: record(s) {bad[:5]} do not have the {len(self.columns)} fields of {self.columns}"
            )
        if torn and set_aside:
            side = self.path.with_name(f"{self.path.name}.torn-{time.strftime('%Y%m%dT%H%M%S')}.txt")
            side.write_bytes(text[consumed:].encode("utf-8", "surrogateescape"))
            with replaced(self.path, sync=True) as tmp:
                tmp.write_bytes(text[:consumed].encode("utf-8", "surrogateescape"))
            warnings.warn(
                f"{self.path}: its last record was cut short (a full disk or a crash while writing); it is set "
                f"aside in {side.name} and labelling goes on from the {len(body)} whole label(s)",
                UserWarning,
                stacklevel=3,
            )
        return [_record(values, self.columns) for values in body]

    def _rewrite(self, rows: list[dict]) -> None:
        with replaced(self.path, sync=True) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=self.columns)
            writer.writeheader()
            writer.writerows(rows)

    def append(self, left: str, right: str, label: float, strategy: str, stratum: str, design=None) -> dict:
        """Append one label; ``design`` holds an audit row's :data:`AUDIT_DESIGN` values (kept
        when the file has the audit's layout, empty fields for a label of another strategy)."""
        record = {
            self.columns[0]: pair_key(left, right),
            "left": left,
            "right": right,
            "label": label,
            "strategy": strategy,
            "stratum": stratum,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        if self.columns == AUDIT_COLUMNS:
            record.update({c: (design or {}).get(c, "") for c in AUDIT_DESIGN})
        with self._lock:
            if not self.path.exists():
                self._rewrite([])
            with open(self.path, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                whole = fh.read(1) == b"\n"
            if not whole:  # a torn record at the end: set it aside before writing after it
                self.rows = self._read(set_aside=True)
            with open(self.path, "a", newline="", encoding="utf-8") as fh:
                csv.DictWriter(fh, fieldnames=self.columns).writerow(record)
                fh.flush()
                os.fsync(fh.fileno())
        record = _record([str(record[c]) for c in self.columns], self.columns)
        self.rows.append(record)
        self._mine.append(record)
        return record

    def undo(self) -> dict | None:
        """Take back the last label this store gave (or resumed) that is still in the file: the
        file is re-read under the lock and rewritten whole without that one record, so labels
        other labellers appended meanwhile are kept."""
        with self._lock:
            current = self._read(set_aside=True) if self.path.exists() else []
            while self._mine:
                last = self._mine.pop()
                for i in range(len(current) - 1, -1, -1):
                    if current[i] == last:
                        del current[i]
                        self._rewrite(current)
                        self.rows = current
                        return last
            self.rows = current
            return None

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=self.columns)

    def labelled_keys(self) -> set[tuple[str, str]]:
        return {(str(r["left"]), str(r["right"])) for r in self.rows}


def _csv_records(text: str) -> tuple[list[list[str]], int]:
    """The records of CSV ``text`` and how many characters the whole ones take (a record
    ends with a line break outside quotes; what follows the last one is torn)."""
    import io

    lines = io.StringIO(text, newline="")  # lines end at \n, \r\n or \r only, as csv writes them
    ends = []
    position = 0

    def feed():
        nonlocal position
        for line in lines:
            position += len(line)
            yield line

    records = []
    reader = csv.reader(feed())
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error:  # an unclosed quote at the end: the record is torn
            break
        records.append(values)
        ends.append(position)
    whole = len(records)
    while whole and not text[: ends[whole - 1]].endswith(("\n", "\r")):
        whole -= 1
    return records[:whole], (ends[whole - 1] if whole else 0)


def _record(values: list[str], columns=COLUMNS) -> dict:
    """A label record from its CSV fields: texts exactly as written (an empty text stays
    empty), the label a number (an older file's row a number where it is one)."""
    record = dict(zip(columns, values))
    record["label"] = float(record["label"]) if record["label"] not in ("", None) else float("nan")
    if "row" in record:
        try:
            record["row"] = int(record["row"])
        except (TypeError, ValueError):
            pass
    return record


class PairQueue:
    """Picks the next pair to label by strategy, among pairs not labelled or skipped yet.

    ``scores`` is ``(models, pairs)`` (NaN where a model cannot score); ``vectors`` is one row per
    pair (both texts' unit vectors joined) or None; ``threshold`` is the chosen model's.
    """

    def __init__(
        self, scores: np.ndarray, vectors: np.ndarray | None, *, threshold: float, model: int = 0, seed: int = 0
    ):
        self.scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
        self.vectors = vectors
        self.threshold = float(threshold)
        self.model = model
        n = self.scores.shape[1]
        self.open = np.ones(n, dtype=bool)
        rng = np.random.default_rng(seed)
        # stratified random order: 5 strata of the first model's score, each shuffled, interleaved
        # by position within its stratum, so any prefix is spread over the strata in proportion
        first = np.nan_to_num(self.scores[0], nan=-np.inf)
        ranks = pd.Series(first).rank(method="first").to_numpy() - 1
        strata = np.minimum((ranks * 5 // max(n, 1)).astype(int), 4)
        position = np.empty(n)
        for s in range(5):
            members = np.flatnonzero(strata == s)
            position[members] = (rng.permutation(len(members)) + rng.random(len(members))) / max(len(members), 1)
        self.random_order = list(np.argsort(position, kind="stable"))
        ranks = np.vstack([pd.Series(row).rank(pct=True).to_numpy() for row in self.scores])
        with warnings.catch_warnings():  # a pair no model scores (a missing text) has no spread
            warnings.simplefilter("ignore", RuntimeWarning)
            self.spread = np.nan_to_num(np.nanmax(ranks, axis=0) - np.nanmin(ranks, axis=0), nan=0.0)
        self.chosen: list[int] = []

    def close(self, row: int) -> None:
        self.open[row] = False

    def reopen(self, row: int) -> None:
        self.open[row] = True

    def next(self, strategy: str, labelled_rows: list[int]) -> int | None:
        """The row to label next under ``strategy``, or None when every pair is done."""
        rows = np.flatnonzero(self.open)
        if not len(rows):
            return None
        if strategy == "audit":
            return int(rows[0])
        if strategy == "random":
            while self.random_order and not self.open[self.random_order[0]]:
                self.random_order.pop(0)
            return int(self.random_order[0]) if self.random_order else int(rows[0])
        if strategy == "uncertain":
            distance = np.abs(self.scores[self.model, rows] - self.threshold)
            return int(rows[np.argmin(np.nan_to_num(distance, nan=np.inf))])
        if strategy == "disagree":
            return int(rows[np.argmax(self.spread[rows])])
        if strategy == "diverse":
            space = self.vectors if self.vectors is not None else np.nan_to_num(self.scores.T)
            if not labelled_rows:
                centre = space.mean(axis=0)
                return int(rows[np.argmax(np.linalg.norm(space[rows] - centre, axis=1))])
            seen = space[np.asarray(labelled_rows[-2000:], dtype=np.int64)]
            candidates = space[rows]
            norms = (candidates**2).sum(axis=1)
            distance = np.full(len(rows), np.inf)
            for start in range(0, len(seen), 256):  # squared distances by dot products: memory rows x 256
                block = seen[start : start + 256]
                d2 = norms[:, None] + (block**2).sum(axis=1)[None, :] - 2 * candidates @ block.T
                distance = np.minimum(distance, d2.min(axis=1))
            return int(rows[np.argmax(distance)])
        raise InputError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
