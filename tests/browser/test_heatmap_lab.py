"""SimilarityHeatmap in a real JupyterLab: binary matrix, threshold masking, hover, click."""

SETUP = """
import numpy as np
from simwidgets import SimilarityHeatmap
texts = ['<img src=x onerror="window.__xss=1">', 'a cat sat on the mat', 'a kitten on a rug',
         'stock prices fell', 'markets dropped sharply', 'the band played music']
w = SimilarityHeatmap(texts, model='glove-50d', order='input')
w
"""

STATS = """(c) => {
  const {data} = c.getContext('2d').getImageData(0, 0, c.width, c.height);
  let masked = 0, opaque = 0;
  for (let k = 0; k < data.length; k += 4) {
    if (data[k + 3]) opaque++;
    if (data[k] === 230 && data[k + 1] === 230 && data[k + 2] === 230) masked++;
  }
  return {opaque, masked, renders: Number(c.dataset.renders || 0)};
}"""


def _heatmap(notebook):
    nb = notebook([SETUP])
    canvas = nb.page.locator("canvas.sw-heat-canvas").first
    canvas.wait_for(state="visible")
    nb.page.wait_for_function("(c) => Number(c.dataset.renders || 0) >= 1", arg=canvas.element_handle())
    return nb, canvas


def test_heatmap_draws_and_masks_from_python_and_slider(notebook):
    nb, canvas = _heatmap(notebook)
    before = canvas.evaluate(STATS)
    assert before["opaque"] == 36 and before["masked"] == 0
    # every row and column is named, as text, and the colour scale says what the colours mean
    assert nb.page.locator(".sw-row-label").all_text_contents()[1:] == [
        "a cat sat on the mat", "a kitten on a rug", "stock prices fell", "markets dropped sharply",
        "the band played music",
    ]  # fmt: skip
    assert nb.page.locator(".sw-col-label").count() == 6
    assert "cosine score" in nb.page.locator(".sw-colour-scale").first.text_content()
    expected = int(nb.python("w.threshold = 0.6\nint((w.matrix < 0.6).sum())"))
    nb.page.wait_for_function("(c) => c.dataset.threshold === '0.6'", arg=canvas.element_handle())
    assert canvas.evaluate(STATS)["masked"] == expected > 0
    # the slider masks in the browser at once, and the value reaches Python (throttled)
    slider = nb.page.locator("input.sw-threshold").first
    slider.evaluate("(s) => { s.value = '0.95'; s.dispatchEvent(new Event('input')); }")
    nb.page.wait_for_function("(c) => c.dataset.threshold === '0.95'", arg=canvas.element_handle())
    masked = canvas.evaluate(STATS)["masked"]
    assert masked == int(nb.python("int((w.matrix < 0.95).sum())"))
    nb.page.wait_for_function("() => true")
    for _ in range(50):
        if nb.python("w.threshold").strip() == "0.95":
            break
        nb.page.wait_for_timeout(100)
    assert nb.python("w.threshold").strip() == "0.95"


def test_hover_is_text_and_click_pins_a_pair(notebook):
    nb, canvas = _heatmap(notebook)
    box = canvas.bounding_box()
    cell = box["width"] / 6
    canvas.hover(position={"x": 1.5 * cell, "y": 0.5 * cell})
    tip = nb.page.locator(".sw-tip").first
    tip.wait_for(state="visible")
    assert tip.text_content().startswith('<img src=x onerror="window.__xss=1"> × a cat sat on the mat: ')
    assert tip.evaluate("(t) => t.children.length") == 0
    assert nb.page.evaluate("() => typeof window.__xss") == "undefined"
    canvas.click(position={"x": 2.5 * cell, "y": 1.5 * cell})
    nb.page.locator(".sw-pinned").first.wait_for(state="visible")
    nb.page.wait_for_function("() => document.querySelector('.sw-pinned').textContent === '1 pinned'")
    pairs = nb.python("w.selected_pairs[['left', 'right']].values.tolist()")
    assert "a cat sat on the mat" in pairs and "a kitten on a rug" in pairs
