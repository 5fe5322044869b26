"""Browser tests: one JupyterLab and one Chromium per session, a fresh notebook per test.

Skipped (with the reason) where Chromium or Playwright is missing; CI installs both.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from .lab import CHROMIUM, CHROMIUM_FLAGS, LabServer, Notebook

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            missing = "playwright is not installed"
    if missing and not os.environ.get("CI"):
        for item in items:
            if here in Path(item.fspath).parents:
                item.add_marker(pytest.mark.skip(reason=missing))


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab-root")
    server = LabServer(root, root.parent / "jupyterlab.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def notebook(lab_server, chromium, request):
    """notebook([code, ...]) writes a notebook, opens it in JupyterLab, runs every cell."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1100})
    context.set_default_timeout(90_000)
    errors, opened = [], []

    def open_notebook(cells):
        name = f"{request.node.name}.ipynb".replace("[", "_").replace("]", "")
        nb = new_notebook(
            cells=[new_code_cell(c) for c in cells],
            metadata={
                "kernelspec": {
                    "name": "python3",
                    "display_name": "Python 3 (ipykernel)",
                    "language": "python",
                }
            },
        )
        nbformat.write(nb, Path(lab_server.root) / name)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        # "reset": do not restore the tabs of earlier tests from the server-side workspace
        page.goto(lab_server.url(f"lab/tree/{name}") + "&reset", wait_until="domcontentloaded")
        opened.append(name)
        nb_ = Notebook(page, name).wait_ready()
        nb_.run_all()
        return nb_

    yield open_notebook
    ARTIFACTS.mkdir(exist_ok=True)
    for page in context.pages:
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()
    for name in opened:
        lab_server.shutdown_sessions(name)
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture(autouse=True, scope="session")
def _clean_artifacts():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    yield
