"""EmbeddingMap in a real JupyterLab: the whole GloVe vocabulary, hover, search, neighbours, box."""

SETUP = """
from simwidgets import EmbeddingMap
m = EmbeddingMap('glove-50d', method='pca', color_by='kind')
m
"""


def _map(nb):
    canvas = nb.page.locator("canvas.sw-map-points").first
    canvas.wait_for(state="visible")
    nb.page.wait_for_function("(c) => Number(c.dataset.frames || 0) >= 1", arg=canvas.element_handle())
    return canvas, nb.page.locator("canvas.sw-map-overlay").first


def test_whole_glove_vocabulary_renders_and_pans(notebook):
    nb = notebook([SETUP])
    canvas, overlay = _map(nb)
    assert canvas.evaluate("(c) => c.dataset.renderer") == "webgl"
    assert "400000 points" in nb.page.locator(".sw-status").first.text_content()
    box = overlay.bounding_box()
    frames = int(canvas.evaluate("(c) => c.dataset.frames"))
    nb.page.mouse.move(box["x"] + 300, box["y"] + 300)
    nb.page.mouse.down()
    nb.page.mouse.move(box["x"] + 350, box["y"] + 320, steps=5)
    nb.page.mouse.up()
    assert int(canvas.evaluate("(c) => c.dataset.frames")) > frames  # redrawn while panning
    nb.page.locator("input.sw-search").first.fill("frog")
    nb.page.wait_for_function("(o) => Number(o.dataset.matches) > 0", arg=overlay.element_handle())
    expected = int(nb.python("sum('frog' in t.lower() for t in m.labels)"))
    assert int(overlay.evaluate("(o) => o.dataset.matches")) == expected
    # the first matches in view are named beside their circles, not circled only
    assert 0 < int(overlay.evaluate("(o) => o.dataset.named")) <= min(30, expected)


def test_hover_click_neighbours_and_box_selection(notebook):
    nb = notebook([SETUP.replace("method='pca'", "method='pca', max_points=2000")])
    canvas, overlay = _map(nb)
    # find the screen position of a point from its data coordinates, then hover and click it
    x, y = nb.page.evaluate("""() => {
      const o = document.querySelector('canvas.sw-map-overlay');
      return [o.width, o.height];
    }""")
    box = overlay.bounding_box()
    target = nb.python(
        "import numpy as np\nc = m.coords\ni = m.labels.index('king')\n"
        "lo, hi = c.min(0), c.max(0)\n(i, float(c[i,0]), float(c[i,1]), float(lo[0]), float(hi[0]), "
        "float(lo[1]), float(hi[1]))"
    )
    i, px, py, x0, x1, y0, y1 = eval(target)
    scale = 0.92 * min(760 / (x1 - x0), 520 / (y1 - y0))
    sx = box["x"] + 380 + (px - (x0 + x1) / 2) * scale
    sy = box["y"] + 260 - (py - (y0 + y1) / 2) * scale
    nb.page.mouse.move(sx, sy)
    tip = nb.page.locator(".sw-map .sw-tip").first
    tip.wait_for(state="visible")
    assert tip.text_content() != ""
    nb.page.mouse.click(sx, sy)
    nb.page.wait_for_function("(o) => Number(o.dataset.lines || 0) === 10", arg=overlay.element_handle())
    # a failure in Python comes back as an error reply for that click: shown, not waited on
    nb.python("def broken(row, k=10):\n    raise RuntimeError('index gone')\nm.neighbours_of = broken")
    nb.page.mouse.click(sx, sy)
    nb.page.wait_for_function(
        "(o) => (o.dataset.error || '').includes('RuntimeError: index gone')", arg=overlay.element_handle()
    )
    # shift-drag a box over the whole map selects every point, and Python sees it
    nb.page.keyboard.down("Shift")
    nb.page.mouse.move(box["x"] + 2, box["y"] + 2)
    nb.page.mouse.down()
    nb.page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] - 2, steps=4)
    nb.page.mouse.up()
    nb.page.keyboard.up("Shift")
    for _ in range(50):
        if nb.python("len(m.selected)").strip() == "2000":
            break
        nb.page.wait_for_timeout(100)
    assert nb.python("len(m.selected)").strip() == "2000"


def test_canvas_2d_fallback_draws_points(notebook):
    nb = notebook([SETUP.replace("method='pca'", "method='pca', max_points=5000, force_canvas2d=True")])
    canvas, _ = _map(nb)
    assert canvas.evaluate("(c) => c.dataset.renderer") == "canvas2d"
    painted = canvas.evaluate("""(c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0; for (let k = 3; k < d.length; k += 4) if (d[k]) n++; return n; }""")
    assert painted > 1000


def test_the_cancel_button_stops_a_running_umap(notebook):
    nb = notebook(
        [
            "from simwidgets import EmbeddingMap\n"
            "m = EmbeddingMap('glove-50d', max_points=20000, umap_sample=None, color_by='kind')\nm"
        ]
    )
    canvas, _ = _map(nb)
    stop = nb.page.locator("button.sw-cancel").first
    stop.wait_for(state="visible")  # offered while UMAP runs
    stop.click()
    nb.page.wait_for_function(
        "() => document.querySelector('.sw-map .sw-status').textContent.includes('UMAP cancelled; showing PCA')",
        timeout=240_000,
    )
    assert nb.python("print(m.running, m.method_shown, end='')") == "False pca"
    nb.page.wait_for_function("() => document.querySelector('button.sw-cancel').style.display === 'none'")
