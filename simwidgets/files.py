"""Writing files and folders so that no reader ever sees half of one.

Everything simwidgets keeps (scored parts, a job's manifest, cached projections and indexes,
trained models, labels) is written under a temporary name beside its target and renamed onto
it only when complete. The temporary name is unique per writer, so two processes filling the
same cache (two notebooks, two test workers) never write into one file; the first to finish
wins a folder, or the last one a file, and both leave a whole one.

>>> from pathlib import Path
>>> import tempfile
>>> target = Path(tempfile.mkdtemp()) / "coords.npy"
>>> with replaced(target) as tmp:      # tmp ends in ".npy" too, so numpy keeps the name
...     _ = tmp.write_bytes(b"data")
>>> target.read_bytes()
b'data'
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: The part of every temporary name that marks it as one (``.<name>.<tag>-<hex><suffix>``).
TMP_TAG = ".tmp-"


def temporary_beside(path: Path) -> Path:
    """A unique hidden name in ``path``'s folder that keeps its suffix (``np.save`` and
    ``np.savez`` add theirs to a name without one)."""
    return path.parent / f".{path.stem}{TMP_TAG}{uuid.uuid4().hex[:12]}{path.suffix}"


def is_temporary(path: Path) -> bool:
    """Whether ``path`` is a leftover of :func:`replaced` or :func:`staged_folder`."""
    return path.name.startswith(".") and TMP_TAG in path.name


@contextmanager
def replaced(path, *, sync: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without an error the file
    written there replaces ``path`` (``os.replace``, atomic on one file system), otherwise it
    is removed and ``path`` is left as it was.

    ``sync=True`` flushes the file to disk before the rename (labels a person typed).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_beside(path)
    try:
        yield tmp
        if sync:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_atomic(path, data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write ``data`` (bytes, or text in ``encoding``) to ``path`` through :func:`replaced`."""
    path = Path(path)
    with replaced(path) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding=encoding)
        else:
            tmp.write_bytes(data)
    return path


@contextmanager
def staged_folder(target, *, existing: str = "replace") -> Iterator[Path]:
    """Yield an empty temporary folder beside ``target``, renamed to ``target`` when the block
    ends without an error (removed on one).

    ``existing`` says what happens when ``target`` is there by then: ``"replace"`` swaps it
    out (a retrained model, an unfinished leftover), ``"keep"`` keeps it and drops ours
    (another process built the same thing first).
    """
    if existing not in ("replace", "keep"):
        raise ValueError(f"existing must be 'replace' or 'keep', not {existing!r}")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_beside(target)
    tmp.mkdir()
    try:
        yield tmp
        if not target.exists():
            try:
                os.replace(tmp, target)
                return
            except OSError:  # another writer renamed its folder there first
                if not target.exists():
                    raise
        if existing == "replace":
            old = temporary_beside(target)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
