"""For each widget, in a real JupyterLab: a Python-side change shows in the browser, a
browser-side interaction shows in Python, hover shows the right text, and
`<img src=x onerror="window.__xss=1">` in the data stays literal text."""

XSS = '<img src=x onerror="window.__xss=1">'


def _no_xss(page):
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert page.locator(".simwidgets img").count() == 0


def _wait_python(nb, code, expected, tries=50):
    for _ in range(tries):
        if nb.python(code).strip() == expected:
            return
        nb.page.wait_for_timeout(100)
    assert nb.python(code).strip() == expected


def test_map_python_colouring_hover_text_and_xss(notebook):
    nb = notebook(
        [
            "import numpy as np\nfrom simwidgets import EmbeddingMap\n"
            f"labels = [{XSS!r}, 'second point', 'third point']\n"
            "m = EmbeddingMap(np.eye(3, dtype=np.float32), labels=labels, method='pca', color_by=['a', 'b', 'b'])\n"
            "m.coords = np.array([[0, 0], [1, 0], [0, 1]], dtype=np.float32)\nm"
        ]
    )
    canvas = nb.page.locator("canvas.sw-map-points").first
    canvas.wait_for(state="visible")
    nb.page.wait_for_function("(c) => Number(c.dataset.frames || 0) >= 1", arg=canvas.element_handle())
    before = nb.page.locator(".sw-legend").first.text_content()
    assert "a" in before and "b" in before
    frames = int(canvas.evaluate("(c) => c.dataset.frames"))
    nb.python("m.colors = np.array([2, 2, 2], dtype=np.uint8)\nm.legend = ['x', 'y', 'z']")
    nb.page.wait_for_function("([c, f]) => Number(c.dataset.frames) > f", arg=[canvas.element_handle(), frames])
    # points at data (0,0), (1,0), (0,1) fill 92% of the 760 x 520 stage around its centre
    box = nb.page.locator("canvas.sw-map-overlay").first.bounding_box()
    scale = 0.92 * min(760, 520)
    x0 = box["x"] + 380 - 0.5 * scale
    y0 = box["y"] + 260 + 0.5 * scale
    nb.page.mouse.move(x0, y0)
    tip = nb.page.locator(".sw-map .sw-tip").first
    tip.wait_for(state="visible")
    assert tip.text_content() == XSS
    nb.page.mouse.move(x0 + scale, y0)
    nb.page.wait_for_function("() => document.querySelector('.sw-map .sw-tip').textContent === 'second point'")
    _no_xss(nb.page)


def test_neighbours_python_query_hover_title_and_xss(notebook):
    nb = notebook(
        [
            "from simwidgets import NeighbourExplorer\n"
            f"texts = [{XSS!r}, 'a green frog', 'stock markets fell', 'a small toad']\n"
            "w = NeighbourExplorer(['glove-50d'], among=texts, k=4)\nw"
        ]
    )
    nb.page.locator("input.sw-query").first.wait_for(state="visible")
    nb.python("w.query = 'frogs and toads'")
    nb.page.wait_for_function("() => document.querySelectorAll('.sw-columns tr').length === 5")
    assert nb.page.locator("input.sw-query").first.input_value() == "frogs and toads"
    cells = nb.page.locator(".sw-columns td:nth-child(2)")
    texts = cells.all_text_contents()
    assert any(t.startswith(XSS) for t in texts)  # the payload is one of the texts: shown literally
    first = cells.first
    title = first.get_attribute("title")
    expected = nb.python("f\"cosine {w.results[0]['scores'][0]:.3f}\"").strip().strip("'")
    first.hover()
    assert title == expected
    _no_xss(nb.page)


def test_threshold_python_threshold_hover_and_selects_model(notebook):
    nb = notebook(
        [
            "import pandas as pd\nfrom simwidgets import ThresholdTuner\n"
            f"df = pd.DataFrame({{'q': [{XSS!r}, 'a dog', 'stock prices', 'music'], 'r': ['a cat', 'a puppy', "
            "'a banana', 'a band'], 'y': [0, 1, 0, 1]})\n"
            "w = ThresholdTuner(df, 'q', 'r', label='y', models=['glove-50d', 'tfidf-char'], n_null=50)\nw"
        ]
    )
    canvas = nb.page.locator("canvas.sw-hist").first
    canvas.wait_for(state="visible")
    nb.python("w.threshold = 0.25")
    nb.page.wait_for_function("(c) => c.dataset.threshold === '0.25'", arg=canvas.element_handle())
    assert nb.page.locator("input.sw-threshold").first.input_value() == "0.25"
    nb.page.locator("select.sw-model").first.select_option("1")
    _wait_python(nb, "w.model_name", "'tfidf-char'")
    low, high = (float(canvas.get_attribute(f"data-{end}")) for end in ("low", "high"))
    assert -1 < low and high <= 1  # the axis fits the scores, the random pairs and the threshold
    nb.page.locator(".sw-threshold-tuner input.sw-full-range").first.check()  # widened to -1..1
    nb.page.wait_for_function("(c) => c.dataset.low === '-1'", arg=canvas.element_handle())
    box = canvas.bounding_box()
    canvas.hover(position={"x": box["width"] * 0.99, "y": 100})
    tip = nb.page.locator(".sw-threshold-tuner .sw-tip").first
    tip.wait_for(state="visible")
    assert tip.text_content().startswith("scores 0.97 to 1.00: ")
    assert XSS in nb.page.locator(".sw-examples").first.text_content()
    _no_xss(nb.page)


def test_comparison_python_axes_browser_select_hover_and_xss(notebook):
    nb = notebook(
        [
            "import pandas as pd\nfrom simwidgets import ModelComparison\n"
            f"df = pd.DataFrame({{'q': [{XSS!r}, 'a dog', 'stock prices', 'music', 'a car', 'rain'] * 3,\n"
            "  'r': ['a cat', 'a puppy', 'a banana', 'a band', 'a truck', 'snow'] * 3, 'y': [0, 1, 0, 1, 1, 0] * 3})\n"
            "w = ModelComparison(df, 'q', 'r', 'y', models=['glove-50d', 'tfidf-char'], ensemble=None)\nw"
        ]
    )
    scatter = nb.page.locator("canvas.sw-scatter").first
    scatter.wait_for(state="visible")
    nb.python("w.x_model, w.y_model = 1, 0")
    nb.page.wait_for_function("(c) => c.dataset.x === '1' && c.dataset.y === '0'", arg=scatter.element_handle())
    nb.page.locator(".sw-comparison select.sw-x-model").first.select_option("0")
    _wait_python(nb, "w.x_model", "0")
    # hover the point of pair 0 (the payload): its position comes from the same scales as the drawing
    pos = nb.python(
        "import numpy as np\ns = w.scores\nx, y = s[0], s[1]\nfx = (x[0] - np.nanmin(x)) / np.ptp(x[~np.isnan(x)])\n"
        "fy = (y[0] - np.nanmin(y)) / np.ptp(y[~np.isnan(y)])\n(float(fx), float(fy))"
    )
    fx, fy = eval(pos)
    box = scatter.bounding_box()
    scatter.hover(
        position={"x": (30 + fx * 265) * box["width"] / 300, "y": (260 - 30 - fy * 220) * box["height"] / 260}
    )
    tip = nb.page.locator(".sw-comparison .sw-tip").first
    tip.wait_for(state="visible")
    assert tip.text_content().startswith(f"{XSS} ↔ a cat: ")
    _no_xss(nb.page)
