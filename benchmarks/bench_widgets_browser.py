"""Widgets in headless Chromium beside Bokeh, same data, same run, as ratios.

- heatmap 2,000 x 2,000: bytes sent, time to first paint, time to repaint after a threshold
  change (Bokeh: an image glyph whose colour mapper's ``low`` greys out cells below it);
- map of 400,000 points (the GloVe vocabulary, PCA): bytes sent, time to first paint, time
  per frame while panning (Bokeh: a WebGL scatter).

Both run in a bare page: ours is the widget's bundle rendered with an in-page model holding
the same state the kernel would send (binary buffers), Bokeh is its standalone document
with resources inlined. Headless Chromium renders WebGL on the CPU (SwiftShader), so absolute
frame times are pessimistic; the ratios are what counts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from common import record

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

MODEL_JS = """
window.makeModel = (state, buffers) => {
  const data = {...state};
  for (const [k, v] of Object.entries(buffers)) data[k] = {buffer: new DataView(v.buffer), dtype: v.dtype, shape: v.shape};
  return {get: (k) => data[k], set: (k, v) => { data[k] = v; }, save_changes() {}, send() {},
          on() {}, off() {}};
};
"""


def frame_js(body: str) -> str:
    return "async () => { const frame = () => new Promise((r) => requestAnimationFrame(() => r())); " + body + " }"


def ours(page, bundle: str, state: dict, arrays: dict, selector: str) -> float:
    """Render the widget in a bare page; return ms from render() to the first painted frame."""
    page.set_content("<div id='root'></div>")
    page.add_script_tag(content=MODEL_JS)
    page.evaluate("(src) => { window.__src = src; }", (ROOT / "simwidgets" / "static" / f"{bundle}.js").read_text())
    for name, arr in arrays.items():  # ship buffers as base64 into the page, outside the timing
        page.evaluate("([n, b64, dtype, shape]) => { window.__buf = window.__buf || {};"
                      " const bin = atob(b64); const u8 = new Uint8Array(bin.length);"
                      " for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);"
                      " window.__buf[n] = {buffer: u8.buffer, dtype, shape}; }",
                      [name, __import__("base64").b64encode(arr.tobytes()).decode(), arr.dtype.name, list(arr.shape)])
    return page.evaluate(frame_js(f"""
        const url = URL.createObjectURL(new Blob([window.__src], {{type: 'text/javascript'}}));
        const widget = (await import(url)).default;
        const model = window.makeModel({json.dumps(state)}, window.__buf);
        window.__model = model;
        const t0 = performance.now();
        widget.render({{model, el: document.getElementById('root')}});
        await frame();
        return performance.now() - t0;"""))


def bokeh_page(page, doc_html: str) -> float:
    """Load a standalone Bokeh document; return ms from load to its first idle, painted frame."""
    page.set_content("<html><body></body></html>")
    return page.evaluate(frame_js("""
        const t0 = performance.now();
        document.open(); document.write(arguments_html); document.close();
        while (!(window.Bokeh && Bokeh.index && Object.keys(Bokeh.index).length)) await frame();
        const view = Object.values(Bokeh.index)[0];
        while (!view.is_idle) await frame();
        await frame();
        return performance.now() - t0;""").replace("arguments_html", json.dumps(doc_html)))


def main() -> None:
    from bokeh.embed import file_html
    from bokeh.models import ColumnDataSource, LinearColorMapper
    from bokeh.palettes import Viridis256
    from bokeh.plotting import figure
    from bokeh.resources import INLINE
    from lab import CHROMIUM, CHROMIUM_FLAGS
    from playwright.sync_api import sync_playwright

    from simwidgets import load_model

    rng = np.random.default_rng(0)
    a = rng.random((2000, 2000), dtype=np.float32)
    matrix = ((a + a.T) / 2).astype(np.float32)
    labels = [f"text number {i}" for i in range(2000)]
    heat_state = {"row_labels": labels, "col_labels": labels, "model_names": ["m"], "threshold": None,
                  "value_range": [0.0, 1.0], "diverging": False, "selected": [], "detail_a": None, "detail_b": None}
    heat_bytes = matrix.nbytes + len(json.dumps(heat_state))

    mapper = LinearColorMapper(palette=Viridis256, low=0.0, high=1.0, low_color="#e6e6e6")
    fig = figure(width=640, height=640, tooltips=[("score", "@image")])
    fig.image(image=[matrix], x=0, y=0, dw=2000, dh=2000, color_mapper=mapper)
    heat_html = file_html(fig, INLINE, "heatmap")
    heat_bokeh_bytes = len(heat_html.encode())

    vocab = load_model("glove-50d").vocabulary()
    from simwidgets.projection import pca_2d

    coords = pca_2d(vocab.vectors)
    codes = np.zeros(len(coords), dtype=np.uint8)
    map_state = {"color_mode": "category", "legend": ["word"], "labels": list(vocab.tokens), "method_shown": "pca",
                 "status": "", "search": "", "selected_indices": [], "force_canvas2d": False}
    map_bytes = coords.nbytes + codes.nbytes + len(json.dumps(map_state))
    source = ColumnDataSource({"x": coords[:, 0], "y": coords[:, 1], "label": list(vocab.tokens)})
    sfig = figure(width=760, height=520, output_backend="webgl", tooltips=[("label", "@label")])
    sfig.scatter("x", "y", source=source, size=3)
    map_html = file_html(sfig, INLINE, "map")
    map_bokeh_bytes = len(map_html.encode())

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(300_000)

        heat_first = ours(page, "heatmap", heat_state, {"matrix": matrix}, "canvas.sw-heat-canvas")
        heat_repaint, heat_work = page.evaluate(frame_js("""
            const slider = document.querySelector('input.sw-threshold');
            const times = [], work = [];
            for (const t of [0.3, 0.5, 0.7, 0.9, 0.4, 0.6]) {
              await frame();
              const t0 = performance.now();
              slider.value = String(t); slider.dispatchEvent(new Event('input'));  // repaints synchronously
              work.push(performance.now() - t0);
              await frame();
              times.push(performance.now() - t0);
            }
            const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
            return [median(times), median(work)];"""))
        heat_bokeh_first = bokeh_page(page, heat_html)
        heat_bokeh_repaint = page.evaluate(frame_js("""
            const doc = Bokeh.documents[0];
            const mapper = [...doc.all_models].find((m) => m.type === 'LinearColorMapper');
            const view = Object.values(Bokeh.index)[0];
            const times = [];
            for (const t of [0.3, 0.5, 0.7, 0.9, 0.4, 0.6]) {
              const t0 = performance.now();
              mapper.low = t;
              await frame();
              while (!view.is_idle) await frame();
              times.push(performance.now() - t0);
            }
            times.sort((a, b) => a - b); return times[Math.floor(times.length / 2)];"""))

        map_first = ours(page, "map", map_state, {"coords": coords, "colors": codes}, "canvas.sw-map-points")
        map_frame = page.evaluate(frame_js("""
            const overlay = document.querySelector('canvas.sw-map-overlay');
            const box = overlay.getBoundingClientRect();
            const ev = (type, x, y) => overlay.dispatchEvent(new MouseEvent(type, {clientX: box.left + x, clientY: box.top + y, bubbles: true}));
            ev('mousedown', 300, 300);
            const t0 = performance.now();
            for (let i = 1; i <= 30; i++) { ev('mousemove', 300 + 4 * i, 300 + 2 * i); await frame(); }
            const t = (performance.now() - t0) / 30;
            ev('mouseup', 420, 360);
            return t;"""))
        map_bokeh_first = bokeh_page(page, map_html)
        map_bokeh_frame = page.evaluate(frame_js("""
            const view = Object.values(Bokeh.index)[0];
            const plot = view.model;
            const xr = plot.x_range, yr = plot.y_range;
            const dx = (xr.end - xr.start) / 150;
            const t0 = performance.now();
            for (let i = 1; i <= 30; i++) {
              xr.setv({start: xr.start + dx, end: xr.end + dx});
              await frame();
              while (!view.is_idle) await frame();
            }
            return (performance.now() - t0) / 30;"""))
        browser.close()

    record("widgets_vs_bokeh_chromium", {
        "heatmap_2000_bytes": heat_bytes,
        "heatmap_2000_bokeh_bytes": heat_bokeh_bytes,
        "heatmap_bytes_ratio": heat_bytes / heat_bokeh_bytes,
        "heatmap_first_paint_ms": heat_first,
        "heatmap_bokeh_first_paint_ms": heat_bokeh_first,
        "heatmap_first_paint_ratio": heat_first / heat_bokeh_first,
        "heatmap_threshold_repaint_ms": heat_repaint,
        "heatmap_threshold_repaint_work_ms": heat_work,
        "heatmap_bokeh_threshold_repaint_ms": heat_bokeh_repaint,
        "heatmap_repaint_ratio": heat_repaint / heat_bokeh_repaint,
        "map_400k_bytes": map_bytes,
        "map_400k_bokeh_bytes": map_bokeh_bytes,
        "map_bytes_ratio": map_bytes / map_bokeh_bytes,
        "map_first_paint_ms": map_first,
        "map_bokeh_first_paint_ms": map_bokeh_first,
        "map_first_paint_ratio": map_first / map_bokeh_first,
        "map_pan_frame_ms": map_frame,
        "map_bokeh_pan_frame_ms": map_bokeh_frame,
        "map_pan_frame_ratio": map_frame / map_bokeh_frame,
    })


if __name__ == "__main__":
    main()
