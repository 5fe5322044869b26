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

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError

#: A folder of parts (a ``simwidgets score`` job's output): what the job was, and the mark
#: written last, when every part is whole (a folder without it is an unfinished job).
MANIFEST = "_manifest.json"
COMPLETE = "_SUCCESS"

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
        raise InputError(f"existing must be 'replace' or 'keep', not {existing!r}")
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


def mark_complete(out_dir: Path, n_parts: int, rows: int) -> None:
    """Write :data:`COMPLETE` (the part count and rows), the job's last act."""
    write_atomic(Path(out_dir) / COMPLETE, json.dumps({"parts": n_parts, "rows": rows}))


def check_complete(folder) -> None:
    """Refuse a ``simwidgets score`` output folder whose job has not finished (killed,
    interrupted, failed, or still running): its parts are only some of the input's rows.
    A folder that is not a score job's (no manifest) is not checked."""
    folder = Path(folder)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return
    parts = len(list(folder.glob("part-*.parquet")))
    try:
        expected = int(json.loads(manifest.read_text(encoding="utf-8")).get("partitions", -1))
    except (ValueError, UnicodeDecodeError, AttributeError):
        expected = -1
    done = folder / COMPLETE
    try:
        marked = int(json.loads(done.read_text(encoding="utf-8"))["parts"]) if done.is_file() else None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        marked = None
    if marked is not None and marked == parts:
        return
    of = f"{parts} of {expected}" if expected >= 0 else f"{parts}"
    raise InputError(
        f"{folder} holds an unfinished simwidgets score job ({of} parts, no {COMPLETE}): its rows are only some of "
        "the input's. Run the same `simwidgets score` command again to finish it, or read what is there on "
        "purpose (allow_partial=True, --partial)"
    )


def folder_digest(folder) -> str:
    """A hash of every file of a folder (relative names and bytes, hidden files left out):
    another model, or the same folder written again, gets another digest."""
    import hashlib

    folder = Path(folder)
    digest = hashlib.blake2b(digest_size=10)
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        digest.update(str(path.relative_to(folder)).encode())
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    """The package's cache folder: ``$SIMWIDGETS_CACHE_DIR``, else ``$XDG_CACHE_HOME/simwidgets``
    (``~/.cache/simwidgets``). Bundled-model builds and trained models live under it."""
    env = os.environ.get("SIMWIDGETS_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "simwidgets"
