"""The package's floors: every import (at the top of a file or inside a function) runs down.

A module may import from its own room (the same subpackage) or from a room on a lower
floor, never from one on its own floor or above. A module inside a subpackage never imports
its own package's face (``__init__``), which would close a circle. Inside the rooms that
have rooms of their own (``models``, ``evaluation``, ``training``, ``batch``) the modules
stand on floors too (``INNER``), and nowhere in the package do imports close a circle. No
module imports a private name (``_x``) from another room: what a room shares, it names
publicly.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "simwidgets"

#: Floor of each room (a top-level module or subpackage), lowest first.
FLOORS = {
    "errors": 0,
    "columns": 1,
    "vectors": 1,
    "tokenization": 1,
    "texts": 1,
    "extras": 1,
    "files": 1,
    "index": 2,
    "vocab": 3,
    "models": 4,
    "similarity": 5,
    "projection": 5,
    "evaluation": 6,
    "training": 7,
    "batch": 7,
    "export": 7,
    "widgets": 8,
    "magics": 9,
    "readers": 9,
    "trainers": 9,
    "results": 9,
    "extend": 9,
    "demo": 9,
    "cli": 10,
    "__init__": 11,
    "__main__": 12,
}


#: Floors of the modules inside a room, lowest first: a module imports only modules of its
#: room on a lower floor.
INNER = {
    "models": {
        "sources": 0, "notes": 0, "bucketing": 0, "centring": 0, "profiling": 0, "trained_pairs": 0, "pair_reasons": 0,
        "shape_graphs": 0, "short_attention": 0,
        "cache": 1, "fused_bert": 1,
        "base": 2, "specs": 2, "streaming": 2,
        "callable": 3, "pair_scorer": 3, "static_model": 3, "tfhub": 3, "tfidf": 3, "transformer": 3, "ulmfit": 3,
        "wordvectors": 3,
        "cross_encoder": 4, "onnx_encoder": 4,
        "openvino_encoder": 5,
        "backends": 6,
        "loading": 7,
    },
    "evaluation": {
        "gold": 0, "features": 0, "resampling": 0, "datasets": 0, "labelling": 0, "cleaning": 0, "calibration": 0,
        "labelling_session": 1, "query_effects": 1, "query_metrics": 2,
        "folds": 1, "paired": 1, "slices": 1, "sts_sets": 1, "thresholds": 1,
        "threshold_choice": 2, "compare": 2, "ensemble": 2,
        "threshold_migration": 3, "reliability": 2,
        "metrics": 3, "scored_pairs": 3, "audit": 1, "scored_log": 0, "cascade": 3,
        "evaluate": 4,
        "comparison_report": 5,
    },
    "training": {
        "pairs": 0, "result": 0, "store": 0, "trainer_args": 0, "corpus": 0, "anchor": 0, "silver": 1,
        "distillation": 1,
        "job": 1,
        "ulmfit_pairs": 2, "word_vectors": 2,
        "encoder": 3,
        "cross_encoder": 4, "adaptation": 4,
        "candidates": 5,
        "cross_validation": 6,
        "learning_curve": 7, "frontier": 7,
    },
    "batch": {
        "gpus": 0, "records": 0,
        "inputs": 1, "cluster": 1,
        "outputs": 2, "job": 2,
        "worker": 3,
        "runner": 4,
    },
}  # fmt: skip


def _module_name(path: Path) -> list[str]:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return parts


def _from_target(node: ast.ImportFrom, package: list[str]) -> list[str] | None:
    """The package's module a ``from ... import`` reads from (parts), or None for another package.
    ``package`` is the one a relative import starts from (for ``__init__`` too)."""
    if node.level:
        base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
        return base + (node.module.split(".") if node.module else [])
    if node.module and node.module.split(".")[0] == "simwidgets":
        return node.module.split(".")[1:]
    return None


def _imports(path: Path):
    """(line, target module parts) of every import of the package's own modules in ``path``."""
    package = _module_name(path)[:-1]
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _from_target(node, package)
            if target is None:
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
                elif room in INNER and parts[-1] != "__init__":
                    found.extend(_inner_violation(where, room, parts[1], target[1]))
                continue
            if target_room == room:
                continue
            if FLOORS[target_room] >= FLOORS[room]:
                found.append(
                    f"{where}: {room} (floor {FLOORS[room]}) imports {'.'.join(target)} "
                    f"(floor {FLOORS[target_room]}), which is not below it"
                )
    return found


def _inner_violation(where: str, room: str, module: str, target: str) -> list[str]:
    floors = INNER[room]
    for name in (module, target):
        if name not in floors:
            return [f"{where}: {room}/{name}.py has no floor in INNER[{room!r}]"]
    if floors[target] >= floors[module]:
        return [
            f"{where}: {room}.{module} (inner floor {floors[module]}) imports {room}.{target} "
            f"(inner floor {floors[target]}), which is not below it"
        ]
    return []


def _graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (anywhere in the file)."""
    modules = {".".join(_module_name(p)): p for p in PACKAGE.rglob("*.py")}

    def resolve(target):
        for k in range(len(target), 0, -1):
            name = ".".join(target[:k])
            for candidate in (name, name + ".__init__"):
                if candidate in modules:
                    return candidate
        return "__init__" if "__init__" in modules else None

    graph = {}
    for name, path in modules.items():
        graph[name] = {t for _, target in _imports(path) if (t := resolve(target)) not in (None, name)}
    return graph


def _circles() -> list[list[str]]:
    """Every set of modules that import each other round a circle (Tarjan's strongly
    connected components of more than one module)."""
    graph = _graph()
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _private_imports() -> list[str]:
    """``from <another room> import _name``: a private name reached across rooms."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            target = _from_target(node, parts[:-1]) if isinstance(node, ast.ImportFrom) else None
            if target is None or _room(target) == _room(parts):
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {'.'.join(target)}.{alias.name}")
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


def test_no_circle_of_imports_anywhere():
    assert _circles() == []


def test_no_private_name_is_imported_across_rooms():
    assert _private_imports() == []


def _copy(tmp_path, monkeypatch):
    import shutil

    copy = tmp_path / "simwidgets"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("static", "__pycache__", "_examples", "data"))
    monkeypatch.setitem(globals(), "PACKAGE", copy)
    return copy


def test_the_checks_see_a_circle_an_inner_climb_and_a_private_name(tmp_path, monkeypatch):
    """Each check works: written into a copy, a circle inside a room (two modules on one
    floor importing each other, one of them inside a function), an import up an inner floor
    and a private name taken from another room are each reported."""
    copy = _copy(tmp_path, monkeypatch)
    gold = copy / "evaluation" / "gold.py"
    gold.write_text(gold.read_text() + "\n\ndef f():\n    from .features import pair_features\n")
    features = copy / "evaluation" / "features.py"
    features.write_text(features.read_text() + "\n\ndef g():\n    from .gold import as_gold\n")
    assert _circles() == [["evaluation.features", "evaluation.gold"]]
    found = _violations()
    assert any("evaluation.gold (inner floor 0) imports evaluation.features" in v for v in found), found
    runner = copy / "batch" / "gpus.py"
    runner.write_text(runner.read_text() + "\n\ndef h():\n    from ..models.loading import _LOADED\n")
    assert _private_imports() == [
        "simwidgets/batch/gpus.py:" + str(len(runner.read_text().splitlines())) + ": models.loading._LOADED"
    ]


@pytest.mark.parametrize(
    "room",
    sorted(
        {p.parts[0] if len(p.parts) > 1 else p.stem for p in (q.relative_to(PACKAGE) for q in PACKAGE.rglob("*.py"))}
    ),
)
def test_every_room_has_a_floor(room):
    assert room in FLOORS, f"add {room!r} to FLOORS (and to docs/architecture.md)"


@pytest.mark.parametrize("room", sorted(INNER))
def test_every_module_of_a_room_with_floors_has_one(room):
    modules = {p.stem for p in (PACKAGE / room).glob("*.py")} - {"__init__"}
    assert modules == set(INNER[room]), f"give each module of {room}/ a floor in INNER (and in docs/architecture.md)"
