"""Each optional feature, with its extra's package hidden, fails with the pip command to run."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from simwidgets.extras import MissingExtraError, require


def hide(monkeypatch, package: str) -> None:
    """Make ``package`` (and its submodules already imported) impossible to import."""
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, package, None)


def expect(extra: str):
    return pytest.raises(MissingExtraError, match=rf'pip install "simwidgets\[{extra}\]"')


def test_ulmfit_needs_the_ulmfit_extra(monkeypatch):
    from simwidgets import train_ulmfit

    hide(monkeypatch, "fastai")
    with expect("ulmfit"):
        train_ulmfit(["a few words of text"] * 3, epochs=1)


def test_approximate_search_needs_faiss_but_exact_search_does_not(monkeypatch):
    from simwidgets.index import NeighbourIndex

    vectors = np.random.default_rng(0).normal(size=(200, 8)).astype(np.float32)
    with_faiss = NeighbourIndex(vectors, "exact").search(vectors[:5], 7)
    hide(monkeypatch, "faiss")
    without = NeighbourIndex(vectors, "exact").search(vectors[:5], 7)
    np.testing.assert_array_equal(with_faiss[1], without[1])
    np.testing.assert_allclose(with_faiss[0], without[0], atol=1e-5)
    padded = NeighbourIndex(vectors[:3], "exact").search(vectors[:1], 5)
    assert padded[1][0].tolist()[3:] == [-1, -1] and np.isneginf(padded[0][0][3:]).all()
    with expect("scale"):
        NeighbourIndex(vectors, "ivf")


def test_umap_needs_the_map_extra(monkeypatch):
    from simwidgets.projection import umap_2d

    hide(monkeypatch, "umap")
    with expect("map"):
        umap_2d(np.random.default_rng(0).normal(size=(50, 4)))


def test_exports_need_the_export_extra(monkeypatch, tmp_path):
    from simwidgets.export import export_html, heatmap_png

    matrix = np.eye(2, dtype=np.float32)
    hide(monkeypatch, "bokeh")
    with expect("export"):
        export_html(matrix, tmp_path / "a.html", row_labels=["a", "b"], col_labels=["a", "b"])
    hide(monkeypatch, "matplotlib")
    with expect("export"):
        heatmap_png(matrix, tmp_path / "a.png")


def test_score_file_needs_the_scale_extra(monkeypatch, tmp_path):
    from simwidgets import score_file

    (tmp_path / "pairs.csv").write_text("a,b\ncat,dog\n")
    hide(monkeypatch, "distributed")
    with expect("scale"):
        score_file(tmp_path / "pairs.csv", tmp_path / "out", "a", "b", ["glove-50d"])


def test_compressed_input_needs_fsspec(monkeypatch, tmp_path):
    import gzip

    from simwidgets.batch.inputs import plan_partitions

    path = tmp_path / "pairs.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\ncat,dog\n"))
    hide(monkeypatch, "fsspec")
    with expect("scale"):
        plan_partitions([path], "a", "b", 1 << 20)


def test_demo_needs_the_lab_extra(monkeypatch, tmp_path):
    import os

    from simwidgets.demo import run_demo

    def never(*args):  # the demo must fail before it would become JupyterLab
        raise AssertionError("exec reached")

    monkeypatch.setattr(os, "execve", never)
    hide(monkeypatch, "jupyterlab")
    with expect("lab"):
        run_demo(tmp_path / "demo")


def test_a_broken_dependency_inside_an_installed_package_is_not_disguised(monkeypatch):
    hide(monkeypatch, "json")
    with pytest.raises(ImportError) as caught:
        require("json", "JSON")
    assert not isinstance(caught.value, MissingExtraError)  # json is no extra's package


def test_fine_tuning_needs_the_train_extra(monkeypatch):
    from simwidgets import fine_tune

    hide(monkeypatch, "datasets")
    with expect("train"):
        fine_tune(
            "minilm", [f"text {i}" for i in range(10)], [f"other {i}" for i in range(10)], list(range(10)), validation=0
        )


def test_tfhub_models_need_the_tfhub_extra_and_import_tensorflow_only_when_one_loads(monkeypatch, tmp_path):
    import subprocess

    code = (
        "import sys, simwidgets as sw\n"
        "sw.score_pairs(['a cat'], ['a dog'], ['glove-50d'])\n"
        "from simwidgets.models import check_spec\n"
        f"check_spec('use:{tmp_path}'); check_spec('elmo:{tmp_path}?pooling=default')\n"
        "assert 'tensorflow' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    from simwidgets import load_model

    hide(monkeypatch, "tensorflow")
    for spec in (f"use:{tmp_path}", f"elmo:{tmp_path}"):
        with expect("tfhub"):
            load_model(spec)
