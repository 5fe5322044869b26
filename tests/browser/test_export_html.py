"""Standalone HTML export opened from disk in Chromium, offline: it renders, the threshold
slider works without a kernel, hover text stays text."""

import pytest

XSS = '<img src=x onerror="window.__xss=1">'


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1200, "height": 1000}, offline=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, errors


def _wait_bokeh(page):
    page.wait_for_function("() => window.Bokeh && Object.keys(Bokeh.index).length > 0")
    page.wait_for_function("() => Object.values(Bokeh.index).every((v) => v.is_idle)")


def test_exported_heatmap_renders_and_its_slider_masks_cells(tmp_path, page, glove):
    from simwidgets import SimilarityHeatmap

    w = SimilarityHeatmap([XSS, "a cat sat on the mat", "a kitten on a rug", "stock prices fell"], model=glove)
    path = w.to_html(tmp_path / "heatmap.html")
    assert "cdn.bokeh.org" not in path.read_text()  # resources inlined: opens offline
    page.goto(path.as_uri())
    _wait_bokeh(page)
    canvas = page.locator("canvas").first
    canvas.wait_for(state="visible")
    low = page.evaluate("""async () => {
        const doc = Bokeh.documents[0];
        const slider = [...doc.all_models].find((m) => m.type === 'Slider');
        slider.setv({value: 0.8});
        await new Promise((r) => requestAnimationFrame(() => r()));
        return [...doc.all_models].find((m) => m.type === 'LinearColorMapper').low;
    }""")
    assert low == 0.8
    png = w.to_png(tmp_path / "heatmap.png")
    assert png.stat().st_size > 1000
    # hover the cell (row 0, col 1): its tooltip names both texts, as text
    box = page.locator(".bk-Canvas, canvas").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.375, box["y"] + box["height"] * 0.2)
    page.wait_for_timeout(300)
    assert page.evaluate("() => typeof window.__xss") == "undefined"


def test_exported_map_renders_and_searches(tmp_path, page, glove):
    from simwidgets import EmbeddingMap

    m = EmbeddingMap("glove-50d", max_points=2000, method="pca", labels=[XSS] + [str(i) for i in range(1999)])
    path = m.to_html(tmp_path / "map.html")
    page.goto(path.as_uri())
    _wait_bokeh(page)
    found = page.evaluate("""async () => {
        const doc = Bokeh.documents[0];
        const box = [...doc.all_models].find((m) => m.type === 'TextInput');
        box.setv({value: '<img'});
        await new Promise((r) => requestAnimationFrame(() => r()));
        const sources = [...doc.all_models].filter((m) => m.type === 'ColumnDataSource');
        return sources.map((s) => s.data.label ? s.data.label.length : 0);
    }""")
    assert 1 in found  # the payload is found as text
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert m.to_png(tmp_path / "map.png").stat().st_size > 1000
