"""The package's floors: every import (at the top of a file or inside a function) runs down.

A module may import from its own room (the same subpackage) or from a room on a lower
floor, never from one on its own floor or above. A module inside a subpackage never imports
its own package's face (``__init__``), which would close a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "simwidgets"

#: Floor of each room (a top-level module or subpackage), lowest first.
FLOORS = {
    "vectors": 0,
    "tokenization": 0,
    "texts": 0,
    "extras": 0,
    "files": 0,
    "index": 1,
    "vocab": 2,
    "models": 3,
    "similarity": 4,
    "projection": 4,
    "evaluation": 5,
    "training": 6,
    "batch": 6,
    "export": 6,
    "widgets": 7,
    "magics": 8,
    "demo": 8,
    "cli": 9,
    "__init__": 10,
    "__main__": 11,
}


def _module_name(path: Path) -> list[str]:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return parts


def _imports(path: Path):
    """(line, target module parts) of every import of the package's own modules in ``path``."""
    parts = _module_name(path)
    package = parts[:-1]  # the package a relative import starts from (for __init__ too)
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "simwidgets":
                target = node.module.split(".")[1:]
            else:
                continue
            if not node.module:  # from . import a, b
                for alias in node.names:
                    yield node.lineno, target + [alias.name]
            else:
                yield node.lineno, target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "simwidgets":
                    yield node.lineno, alias.name.split(".")[1:]


def _room(parts: list[str]) -> str:
    return parts[0] if parts else "__init__"


def _violations() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = _module_name(path)
        room = _room(parts)
        if room not in FLOORS:
            found.append(f"{path.relative_to(PACKAGE.parent)}: room {room!r} has no floor in FLOORS")
            continue
        for line, target in _imports(path):
            where = f"{path.relative_to(PACKAGE.parent)}:{line}"
            target_room = _room(target)
            if target_room not in FLOORS:
                continue  # a name from the package face's lazy table, checked as __init__ below
            if target_room == room and len(parts) > 1:
                if len(target) == 1 and parts[-1] != "__init__":
                    found.append(f"{where}: imports its own package's face simwidgets.{room}")
                continue
            if target_room == room:
                continue
            if FLOORS[target_room] >= FLOORS[room]:
                found.append(
                    f"{where}: {room} (floor {FLOORS[room]}) imports {'.'.join(target)} "
                    f"(floor {FLOORS[target_room]}), which is not below it"
                )
    return found


def test_every_import_runs_down_a_floor():
    assert _violations() == []


def test_the_check_sees_a_violation(tmp_path, monkeypatch):
    """The check itself works: an upward import written into a copy is reported."""
    import shutil

    copy = tmp_path / "simwidgets"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("static", "__pycache__", "_examples"))
    (copy / "vectors.py").write_text((copy / "vectors.py").read_text() + "\n\ndef f():\n    from .widgets import X\n")
    (copy / "models" / "tfidf.py").write_text((copy / "models" / "tfidf.py").read_text() + "\nfrom . import base\n")
    monkeypatch.setitem(globals(), "PACKAGE", copy)
    found = _violations()
    assert any("vectors.py" in v and "widgets" in v for v in found), found
    assert len(found) == 1, found  # `from . import base` is a sibling, not the face


@pytest.mark.parametrize(
    "room",
    sorted(
        {p.parts[0] if len(p.parts) > 1 else p.stem for p in (q.relative_to(PACKAGE) for q in PACKAGE.rglob("*.py"))}
    ),
)
def test_every_room_has_a_floor(room):
    assert room in FLOORS, f"add {room!r} to FLOORS (and to docs/architecture.md)"
