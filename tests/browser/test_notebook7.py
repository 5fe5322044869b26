"""Notebook 7 (the `notebook` package's UI, served by the same Jupyter server): a smoke test
that the five widgets draw there too."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

CELLS = [
    "import numpy as np, pandas as pd\nimport simwidgets as sw\n"
    "df = pd.DataFrame({'q': ['a dog', 'stock prices', 'music', 'a car', 'rain', 'a cat'] * 3,\n"
    "  'r': ['a puppy', 'a banana', 'a band', 'a truck', 'snow', 'a kitten'] * 3, 'y': [1, 0, 1, 1, 0, 1] * 3})",
    "sw.SimilarityHeatmap(['a cat', 'a kitten', 'stock prices'], model='glove-50d')",
    "sw.NeighbourExplorer(['glove-50d'], query='frog', k=5)",
    "sw.ThresholdTuner(df, 'q', 'r', label='y', models=['glove-50d'], n_null=50)",
    "sw.EmbeddingMap(np.eye(3, dtype=np.float32), labels=['x', 'y', 'z'], method='pca')",
    "sw.ModelComparison(df, 'q', 'r', 'y', models=['glove-50d', 'tfidf-char'], ensemble=None)",
]


def test_the_five_widgets_draw_in_notebook_7(lab_server, chromium):
    pytest.importorskip("notebook", reason="Notebook 7 is not installed (pip install notebook)")
    name = "notebook7_smoke.ipynb"
    kernelspec = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb = new_notebook(cells=[new_code_cell(c) for c in CELLS], metadata={"kernelspec": kernelspec})
    nbformat.write(nb, Path(lab_server.root) / name)
    context = chromium.new_context(viewport={"width": 1300, "height": 1200})
    context.set_default_timeout(180_000)  # a kernel start and five widgets, on a busy 2-core machine
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(f"{e} @ {e.stack}"))
    try:
        page.goto(lab_server.url(f"notebooks/{name}"), wait_until="domcontentloaded")
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(state="visible")
        # Notebook 7 exposes no application object: run the cells from its own Run menu, again
        # if the kernel was not connected yet when the menu was used (the first prompt stays empty)
        first_prompt = page.locator(".jp-InputPrompt").first
        for _ in range(6):
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            try:
                page.wait_for_function(
                    "(e) => /[0-9*]/.test(e.textContent)", arg=first_prompt.element_handle(), timeout=15_000
                )
                break
            except Exception:
                continue
        for selector in ("canvas.sw-heat-canvas", "canvas.sw-hist", "canvas.sw-map-points", "canvas.sw-scatter"):
            page.locator(selector).first.wait_for(state="visible")
        page.locator(".sw-neighbours-body td").first.wait_for(state="visible")
        assert page.locator(".simwidgets").count() == 5
    finally:
        artifacts = Path(__file__).resolve().parent / "artifacts"
        artifacts.mkdir(exist_ok=True)
        page.screenshot(path=str(artifacts / "notebook7.png"))
        context.close()
        lab_server.shutdown_sessions(name)
    # Notebook 7.6's own core raises "reading 'schema'" on load here (a settings schema), from
    # /static/notebook/; no error may come from anything else (our bundles among it)
    ours = [e for e in errors if "/static/notebook/" not in e]
    assert not ours, ours
