from pathlib import Path

import pytest
import tomllib

import simwidgets

ROOT = Path(__file__).resolve().parents[1]


def test_version_matches_pyproject():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert simwidgets.__version__ == meta["project"]["version"]


def test_public_api_is_importable():
    for name in simwidgets.__all__:
        assert hasattr(simwidgets, name), name


def test_the_face_is_the_readme_tour_and_one_table():
    """About 25 names on the face, all used by the README; ``__all__`` is the face's table."""
    import re
    from pathlib import Path

    face = [n for n in simwidgets.__all__ if n != "__version__"]
    assert 20 <= len(face) <= 30, face
    assert face == list(simwidgets._FACE)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    unused = [n for n in face if not re.search(rf"\b{n}\b", readme)]
    assert unused == [], f"on the face but not in the README's tour: {unused}"


def test_every_old_name_still_works_with_a_future_warning_naming_its_home():
    import importlib

    for name, home in simwidgets._MOVED.items():
        with pytest.warns(FutureWarning, match=rf"simwidgets\.{name} is now simwidgets\.{home}\.{name}"):
            old = getattr(simwidgets, name)
        assert old is getattr(importlib.import_module(f"simwidgets.{home}"), name)
        assert name not in simwidgets.__all__


def test_namespaces_are_reached_from_the_face_and_list_what_they_hold():
    for space in simwidgets.NAMESPACES:
        module = getattr(simwidgets, space)
        for name in getattr(module, "__all__", []):
            assert hasattr(module, name), f"simwidgets.{space}.{name}"


def test_readme_opens_with_two_commands():
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```")[1]
    commands = [line for line in first_block.splitlines()[1:] if line.strip()]
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1].strip() in ci


def test_js_package_version_matches():
    import json

    meta = json.loads((ROOT / "js" / "package.json").read_text())
    assert meta["version"] == simwidgets.__version__


def test_library_layers_load_without_the_widget_stack():
    """Scoring (the CLI, Dask workers, GPU machines) must not pay for widgets or torch."""
    import subprocess
    import sys

    code = (
        "import sys, simwidgets, simwidgets.batch.runner, simwidgets.models, simwidgets.similarity\n"
        "heavy = [m for m in ('anywidget', 'ipywidgets', 'bokeh', 'torch', 'umap') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert simwidgets.SimilarityHeatmap.__name__ == 'SimilarityHeatmap'\n"
        "assert 'score_file' in dir(simwidgets)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_scoring_with_the_bundled_glove_does_not_import_gensim():
    """Each Dask worker loads the table; gensim (and scipy.stats behind it) comes only with
    ``model.kv``, which then shares the table's arrays."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from simwidgets import load_model, score_pairs\n"
        "model = load_model('glove-50d')\n"
        "scores = score_pairs(['a cat'], ['the dog'], [model])\n"
        "assert 0 < scores['score_glove-50d'][0] < 1\n"
        "assert 'gensim' not in sys.modules\n"
        "kv = model.kv\n"
        "assert type(kv).__name__ == 'KeyedVectors' and kv.vectors is model._table.vectors\n"
        "assert kv.most_similar('king', topn=1)[0][0] == 'prince'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
