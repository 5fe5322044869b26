"""Where trained models live: named by what made them, written whole or not at all.

A model trained without ``output_dir`` goes under the cache folder, named by a hash of its
base, data and settings, so the same cell run again loads it instead of training again. A
folder is complete only when it holds :data:`DONE` (written last, inside a temporary folder
that is renamed into place), so an interrupted run never leaves a folder that loads as a
finished model.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from .. import files
from ..errors import InputError
from ..models.loading import TRAINED_RECORD

#: The file that marks a finished model folder, with what made it.
DONE = TRAINED_RECORD


def cache_root(cache_dir=None) -> Path:
    """``cache_dir``, else the package's cache folder (:func:`simwidgets.files.cache_dir`:
    ``$SIMWIDGETS_CACHE_DIR`` or ``~/.cache/simwidgets``); models go in ``trained/``."""
    return (Path(cache_dir).expanduser() if cache_dir is not None else files.cache_dir()) / "trained"


def model_name(base: str, kind: str, key: str, name: str | None = None) -> str:
    """The name a trained model's scores go by (``score_<name>``): ``name`` when given, else
    its base, what made it and a short hash of its data and settings, e.g. ``minilm-ft-7521e8``,
    so two trained models never share a column and a reader sees what each one is."""
    if name is not None:
        text = str(name).strip()
        if not text or any(c in text for c in "?&=#") or text != text.strip():
            raise InputError(f"name must be a short text without ?, &, = or #, got {name!r}")
        return text
    stem = re.sub(r"[^a-z0-9]+", "-", str(base).lower().rsplit("/", 1)[-1]).strip("-") or "model"
    return f"{stem[:24]}-{kind}-{key[:6]}"


def named(spec: str, name: str) -> str:
    """``spec`` with ``name`` among its options (first, so the other options stay last)."""
    path, _, query = spec.partition("?")
    return f"{path}?name={name}" + (f"&{query}" if query else "")


def job_key(kind: str, base: str, texts: list[list[str]], arrays: list, settings: dict) -> str:
    """A hex digest of a training job: its kind, base, every text and label, and the settings."""
    h = hashlib.blake2b(digest_size=12)
    h.update(json.dumps({"kind": kind, "base": base, "settings": settings}, sort_keys=True, default=str).encode())
    for column in texts:
        h.update(str(len(column)).encode())
        for text in column:
            h.update(text.encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
    for array in arrays:
        if array is not None:
            h.update(memoryview(array.tobytes()))
    return h.hexdigest()


def pair_job_key(kind: str, base: str, train, held, settings: dict) -> str:
    """:func:`job_key` of a job trained on ``train`` pairs and judged on ``held`` ones (or None)."""
    texts = [train.left, train.right] + ([] if held is None else [held.left, held.right])
    return job_key(kind, base, texts, [train.gold, None if held is None else held.gold], settings)


def pair_record(
    key: str, kind: str, base: str, settings: dict, pairs, train, held, *, seconds, history, report, **extra
):
    """What a finished pair-training job saves beside its model (read back by ``TrainedModel.from_record``)."""
    return {
        "key": key,
        "kind": kind,
        "base": base,
        **extra,
        "settings": settings,
        "pairs": {"train": len(train), "validation": 0 if held is None else len(held)},
        "dropped": pairs.dropped,
        "seconds": seconds,
        "history": history,
        "report": None if report is None else report.reset_index().to_dict(orient="records"),
    }


def finished(folder: Path) -> dict | None:
    """What made a finished model folder (its :data:`DONE` record), or None."""
    marker = Path(folder) / DONE
    if not marker.is_file():
        return None
    try:
        return json.loads(marker.read_text())
    except (OSError, ValueError):
        return None


def check_target(folder: Path, key: str, overwrite: bool) -> None:
    """Refuse, before any training, a target that is not ours to write.

    A folder is written only when it does not exist, is empty, holds this very job's
    finished model, or (with ``overwrite=True``) holds another model trained here (its
    :data:`DONE` record says so). Anything else is the user's and is never replaced, whatever
    ``overwrite`` says: a folder of other files, an existing file, the file system's root, the
    home folder, the working folder or a folder above it.
    """
    folder = Path(folder)
    resolved = folder.expanduser().resolve()
    cwd = Path.cwd().resolve()
    if resolved == Path(resolved.anchor) or resolved == Path.home().resolve() or resolved in (cwd, *cwd.parents):
        raise InputError(
            f"output_dir {str(folder)!r} is {resolved}: the root, the home folder or the working folder "
            "(or a folder above it) is never a model's folder; give a new folder's name"
        )
    if not folder.exists() and not folder.is_symlink():
        return
    if not folder.is_dir():
        raise FileExistsError(f"output_dir {folder} is a file, not a folder; give a new folder's name")
    if not any(folder.iterdir()):
        return
    record = finished(folder)
    if record is not None and (record.get("key") == key or overwrite):
        return
    if record is not None:
        raise FileExistsError(
            f"{folder} holds another training job's model; choose another output_dir, or pass "
            "overwrite=True to replace that model"
        )
    entries = sorted(p.name for p in folder.iterdir())
    shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
    raise FileExistsError(
        f"{folder} holds files that are not a model trained here ({len(entries)} entries: {shown}); they are "
        "never replaced (overwrite=True replaces only a model simwidgets trained): choose another output_dir"
    )


def locate(prefix: str, key: str, output_dir=None, cache_dir=None, overwrite: bool = False) -> tuple[Path, dict | None]:
    """Where a job's model goes (``output_dir``, else ``<cache>/trained/<prefix>-<key>``) and,
    when that folder already holds this very job's finished model, its record (reuse it)."""
    target = Path(output_dir).expanduser() if output_dir is not None else cache_root(cache_dir) / f"{prefix}-{key}"
    check_target(target, key, overwrite)
    record = finished(target)
    if record is not None and record.get("key") == key and not overwrite:
        return target, record
    return target, None


def write_done(folder: Path, record: dict, trained_on=None) -> None:
    """Write the record that marks a finished model folder, and with ``trained_on`` (the
    training pairs) their keys, so the model is known to be in-sample on them."""
    if trained_on is not None:
        from ..models.trained_pairs import save_training_pairs

        save_training_pairs(folder, trained_on.left, trained_on.right)
    (Path(folder) / DONE).write_text(json.dumps(record, indent=1, default=str))
