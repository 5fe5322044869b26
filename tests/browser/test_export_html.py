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


def _frame_box(page) -> dict:
    """The page rectangle of the figure's plot frame (where the cells are drawn)."""
    return page.evaluate("""() => {
      const views = [];
      const walk = (v) => { views.push(v); for (const c of (v.child_views || [])) walk(c); };
      Object.values(Bokeh.index).forEach(walk);
      const fig = views.find((v) => v.frame);
      const b = fig.frame.bbox, r = fig.el.getBoundingClientRect();
      return {x: r.x + b.left, y: r.y + b.top, width: b.width, height: b.height};
    }""")


def _pixels(page):
    import io

    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB")).astype(int)


def _cell_colours(page, rows: int, cols: int):
    import numpy as np

    box, image = _frame_box(page), _pixels(page)
    out = np.zeros((rows, cols, 3), dtype=int)
    for r in range(rows):
        for c in range(cols):
            x = int(box["x"] + (c + 0.5) * box["width"] / cols)
            y = int(box["y"] + (r + 0.5) * box["height"] / rows)
            out[r, c] = image[y, x]
    return out


def test_exported_heatmap_draws_every_cell_in_its_colour_and_the_slider_greys_low_cells(tmp_path, page):
    """The check that would have caught the blank export: the cells' pixels, read from a
    screenshot, have the palette colour of their value, row 0 at the top, and moving the
    slider turns exactly the cells below it grey."""
    import numpy as np
    from bokeh.palettes import Viridis256

    from simwidgets import export_html

    matrix = np.array([[1.0, 0.2, 0.9, 0.35], [0.6, 0.0, 0.3, 0.8], [0.75, 0.45, 0.1, 0.55]], np.float32)
    path = export_html(matrix, tmp_path / "cells.html", row_labels=list("abc"), col_labels=list("wxyz"))
    page.goto(path.as_uri())
    _wait_bokeh(page)

    def expected(value):
        hex_colour = Viridis256[min(255, int(value * 256))]
        return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])

    grey = np.array([0xE6, 0xE6, 0xE6])
    seen = _cell_colours(page, *matrix.shape)
    for (r, c), value in np.ndenumerate(matrix):
        assert np.abs(seen[r, c] - expected(value)).max() <= 6, (r, c, value, seen[r, c])
    page.evaluate("""async () => {
        const slider = [...Bokeh.documents[0].all_models].find((m) => m.type === 'Slider');
        slider.setv({value: 0.5});
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r())));
    }""")
    page.wait_for_timeout(200)
    masked = _cell_colours(page, *matrix.shape)
    for (r, c), value in np.ndenumerate(matrix):
        if value < 0.5:
            assert np.abs(masked[r, c] - grey).max() <= 3, (r, c, value, masked[r, c])
        else:  # kept cells: the palette now runs from the threshold to 1
            hex_colour = Viridis256[min(255, int((value - 0.5) / 0.5 * 256))]
            want = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
            assert np.abs(masked[r, c] - want).max() <= 6, (r, c, value, masked[r, c])


def test_exported_map_draws_its_points_where_they_are(tmp_path, page):
    """Points of the map export are drawn: the pixels around each of three far-apart points
    hold its colour, and an empty corner stays white."""
    import numpy as np

    from simwidgets import export_html

    coords = np.array([[0, 0], [10, 0], [5, 8]] * 30, dtype=np.float32)
    path = export_html(coords, tmp_path / "map.html", labels=[str(i) for i in range(len(coords))])
    page.goto(path.as_uri())
    _wait_bokeh(page)
    page.wait_for_timeout(300)
    image = _pixels(page)
    box = page.evaluate("""() => {
      const views = [];
      const walk = (v) => { views.push(v); for (const c of (v.child_views || [])) walk(c); };
      Object.values(Bokeh.index).forEach(walk);
      const fig = views.find((v) => v.frame);
      const r = fig.el.getBoundingClientRect(), b = fig.frame.bbox;
      const sx = (x) => r.x + fig.frame.x_scale.compute(x), sy = (y) => r.y + fig.frame.y_scale.compute(y);
      return {points: [[sx(0), sy(0)], [sx(10), sy(0)], [sx(5), sy(8)]], corner: [r.x + b.left + 3, r.y + b.top + 3]};
    }""")
    blue = np.array([0x4E, 0x79, 0xA7])
    for x, y in box["points"]:
        patch = image[int(y) - 3 : int(y) + 4, int(x) - 3 : int(x) + 4].reshape(-1, 3)
        assert (np.abs(patch - blue).max(axis=1) <= 40).any(), (x, y, patch.min(axis=0))
    cx, cy = box["corner"]
    assert image[int(cy), int(cx)].min() >= 240
