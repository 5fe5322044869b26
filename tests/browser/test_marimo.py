"""The widgets in marimo (`marimo run --headless`, 127.0.0.1): each draws, a change made in
Python reaches the page, an interaction in the page reaches Python, hostile text stays
text, no page error at all; the screenshot is the README's."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .lab import free_port

HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parents[1] / "docs" / "screenshots"
XSS = '<img src=x onerror="window.__xss=1">'


@pytest.fixture(scope="module")
def marimo_app(tmp_path_factory):
    pytest.importorskip("marimo", reason="marimo is not installed (pip install marimo)")
    folder = tmp_path_factory.mktemp("marimo")
    shutil.copy(HERE / "marimo_app.py", folder / "app.py")
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MARIMO_SKIP_UPDATE_CHECK": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "marimo",
            "run",
            "app.py",
            "--headless",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-token",
        ],
        cwd=folder,
        env=env,
        stdout=open(folder / "marimo.log", "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    else:
        pytest.fail(f"marimo did not start: {(folder / 'marimo.log').read_text()[-2000:]}")
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def test_every_widget_draws_and_talks_both_ways_in_marimo(marimo_app, chromium):
    context = chromium.new_context(viewport={"width": 1300, "height": 2600})
    context.set_default_timeout(90_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(f"{e} @ {e.stack}"))
    page.goto(marimo_app)
    # every widget draws (Playwright's locators see into marimo's shadow roots)
    for selector in ("canvas.sw-heat-canvas", "canvas.sw-hist", "canvas.sw-map-points", "canvas.sw-scatter"):
        page.locator(selector).first.wait_for(state="visible")
    page.locator(".sw-neighbours-body td").first.wait_for(state="visible")
    assert (
        "frog" in page.locator(".sw-neighbours-body").first.text_content()
        or page.locator(".sw-neighbours-body td").count() >= 5
    )
    assert page.locator(".simwidgets").count() == 5
    # Python -> page: the number box's cell sets heat.widget.threshold
    box = page.locator('input[aria-roledescription="Number field"]').first
    box.fill("0.5")
    box.press("Enter")
    slider = page.locator("input.sw-threshold").first
    page.wait_for_function("(s) => Number(s.value) === 0.5", arg=slider.element_handle())
    # page -> Python: move the heatmap's own slider; the cell reading heat.widget.threshold re-runs
    slider.fill("0.8")
    try:
        page.get_by_text("python sees threshold 0.800").wait_for(state="visible", timeout=30_000)
    except Exception:
        seen = page.get_by_text("python sees threshold").all_text_contents()
        raise AssertionError(f"the page's change did not reach Python: {seen}") from None
    # hostile text stays text
    canvas = page.locator("canvas.sw-heat-canvas").first
    size = canvas.bounding_box()
    canvas.hover(position={"x": size["width"] * 1.5 / 4, "y": size["height"] * 0.5 / 4})  # row 0 holds XSS
    tip = page.locator(".sw-heat-wrap .sw-tip").first
    tip.wait_for(state="visible")
    assert XSS in tip.text_content()
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    # styles survive marimo's reset: the query box has a border, list items their bullets
    query = page.locator("input.sw-query").first
    assert query.evaluate("(e) => getComputedStyle(e).borderTopStyle") == "solid"
    assert page.locator(".sw-examples ul").first.evaluate("(e) => getComputedStyle(e).listStyleType") == "disc"
    stage = page.locator(".sw-map-stage").first
    inner = stage.evaluate("(e) => [e.clientWidth, e.querySelector('canvas').offsetWidth]")
    assert inner[1] <= inner[0]  # the canvas fits inside the frame's border
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(".simwidgets").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "marimo.png"), full_page=False)
    context.close()
    assert not errors, errors  # none at all: ours or marimo's
