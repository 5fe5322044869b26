// EmbeddingMap: hundreds of thousands of points, pan and zoom, hover, search, neighbours, box select.
import { decodeArray } from "./lib/arrays.js";
import { category, css, viridis } from "./lib/colors.js";
import { el, listeners, showTip, throttle } from "./lib/dom.js";
import { pointRenderer } from "./lib/points.js";
import { rpc } from "./lib/rpc.js";
import { buildGrid, inBox, nearest } from "./lib/spatial.js";

/**
 * The model contract (Python: simwidgets.widgets.embedding_map.EmbeddingMap).
 * @typedef {Object} MapModel
 * @property {import("./lib/arrays.js").WireArray} coords  float32 (n, 2)
 * @property {import("./lib/arrays.js").WireArray} colors  uint8 (n,)
 * @property {"category" | "continuous"} color_mode
 * @property {string[]} legend
 * @property {string[]} labels
 * @property {"pca" | "umap"} method_shown
 * @property {string} status
 * @property {boolean} running  a background UMAP is running
 * @property {string} search
 * @property {number[]} selected_indices
 */

/** Search matches named on the map, at most (the rest are circled only). */
const MATCH_LABELS = 30;
const WIDTH = 760, HEIGHT = 520, POINT = 3;
// While panning or zooming, draw about LOD_POINTS evenly strided points when there are more
// (Bokeh's "level of detail" does the same); the full set is drawn when the gesture ends.
const LOD_POINTS = 25_000;

/** @param {{model: any, el: HTMLElement}} ctx */
function render({ model, el: root }) {
  const search = el("input", { type: "search", className: "sw-search", placeholder: "search labels", value: model.get("search") });
  const status = el("span", { className: "sw-status" });
  const stop = el("button", { className: "sw-cancel", title: "stop the UMAP layout; PCA stays on screen" }, ["cancel UMAP"]);
  const legend = el("div", { className: "sw-legend" });
  const base = el("canvas", { className: "sw-map-points" });
  const overlay = el("canvas", { className: "sw-map-overlay" });
  const tip = el("div", { className: "sw-tip" });
  const stage = el("div", { className: "sw-map-stage" }, [base, overlay, tip]);
  const container = el("div", { className: "simwidgets sw-map" }, [el("div", { className: "sw-header" }, [search, status, stop]), stage, legend]);
  root.appendChild(container);
  const ratio = window.devicePixelRatio || 1;
  for (const c of [base, overlay]) {
    c.width = WIDTH * ratio;
    c.height = HEIGHT * ratio;
    c.style.width = `${WIDTH}px`;
    c.style.height = `${HEIGHT}px`;
  }
  const renderer = pointRenderer(base, { forceCanvas2d: model.get("force_canvas2d") === true });
  base.dataset.renderer = renderer.kind;
  const octx = overlay.getContext("2d");
  let xy = new Float32Array(0), grid = null, view = { cx: 0, cy: 0, scale: 1 };
  let matches = [], lines = null, frames = 0;

  const toData = (px, py) => ({ x: view.cx + (px - WIDTH / 2) / view.scale, y: view.cy - (py - HEIGHT / 2) / view.scale });
  const toPixel = (i) => [(xy[2 * i] - view.cx) * view.scale + WIDTH / 2, HEIGHT / 2 - (xy[2 * i + 1] - view.cy) * view.scale];

  function colours() {
    const codes = decodeArray(model.get("colors")).data;
    const continuous = model.get("color_mode") === "continuous";
    const rgb = new Uint8Array(codes.length * 3);
    const table = Array.from({ length: 256 }, (_, k) => (continuous ? viridis(k / 255) : category(k)));
    for (let i = 0; i < codes.length; i++) rgb.set(table[codes[i]], 3 * i);
    const names = model.get("legend");
    legend.replaceChildren(
      ...(continuous
        ? [el("span", {}, [`low ${names[0] ?? ""} `]), el("span", { className: "sw-swatch", style: `background: linear-gradient(90deg, ${css(viridis(0))}, ${css(viridis(0.5))}, ${css(viridis(1))})` }), el("span", {}, [` high ${names[1] ?? ""}`])]
        : names.map((name, k) => el("span", { className: "sw-legend-item" }, [el("span", { className: "sw-swatch", style: `background: ${css(category(k))}` }), name]))),
    );
    return rgb;
  }

  function load(fit) {
    xy = decodeArray(model.get("coords")).data;
    renderer.setData(xy, colours());
    grid = buildGrid(xy);
    if (fit) {
      view = { cx: (grid.minX + grid.maxX) / 2, cy: (grid.minY + grid.maxY) / 2,
               scale: 0.92 * Math.min(WIDTH / (grid.maxX - grid.minX || 1), HEIGHT / (grid.maxY - grid.minY || 1)) };
    }
    lines = null;
    findMatches();
    draw();
  }

  function drawOverlay(box) {
    octx.setTransform(ratio, 0, 0, ratio, 0, 0);
    octx.clearRect(0, 0, WIDTH, HEIGHT);
    octx.strokeStyle = "#d62728";
    octx.lineWidth = 1.5;
    for (const i of matches.slice(0, 2000)) {
      const [px, py] = toPixel(i);
      octx.beginPath();
      octx.arc(px, py, 5, 0, 2 * Math.PI);
      octx.stroke();
    }
    // the first matches (in the data's order: most frequent first) are named beside their circles
    const labels = model.get("labels") || [];
    octx.font = "11px sans-serif";
    octx.lineWidth = 3;
    octx.strokeStyle = "rgba(255,255,255,0.9)";
    octx.fillStyle = "#8b1a1a";
    let named = 0;
    for (const i of matches.slice(0, MATCH_LABELS)) {
      const [px, py] = toPixel(i);
      if (px < 0 || py < 0 || px > WIDTH || py > HEIGHT) continue;
      const text = String(labels[i] ?? "").slice(0, 30);
      octx.strokeText(text, px + 7, py - 6); // a white halo keeps the name readable over points
      octx.fillText(text, px + 7, py - 6);
      named += 1;
    }
    octx.lineWidth = 1.5;
    overlay.dataset.named = String(named);
    if (lines) {
      const [x0, y0] = toPixel(lines.index);
      octx.strokeStyle = "rgba(0,0,0,0.7)";
      for (const j of lines.neighbours) {
        const [x1, y1] = toPixel(j);
        octx.beginPath();
        octx.moveTo(x0, y0);
        octx.lineTo(x1, y1);
        octx.stroke();
      }
    }
    if (box) {
      octx.strokeStyle = "#1f77b4";
      octx.strokeRect(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0);
    }
  }

  let settle = null;
  function draw(box, interacting = false) {
    const stride = interacting ? Math.max(1, Math.ceil(xy.length / 2 / LOD_POINTS)) : 1;
    renderer.draw(view, POINT, stride);
    if (stride > 1) {
      clearTimeout(settle);
      settle = setTimeout(() => draw(), 150);
    }
    drawOverlay(box);
    frames += 1;
    base.dataset.frames = String(frames);
    base.dataset.method = model.get("method_shown");
    status.textContent = `${xy.length / 2} points · ${model.get("method_shown").toUpperCase()} · ${model.get("status")}`;
  }

  function findMatches() {
    const query = search.value.trim().toLowerCase();
    matches = [];
    if (query) {
      const labels = model.get("labels");
      for (let i = 0; i < labels.length; i++) if (labels[i].toLowerCase().includes(query)) matches.push(i);
    }
    overlay.dataset.matches = String(matches.length);
  }

  // -- interaction ------------------------------------------------------------------------
  let drag = null;
  /** @param {MouseEvent} e */
  const local = (e) => { const r = overlay.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  const onDown = (e) => {
    // keep the notebook from starting its own drag (shift-click extends its cell selection)
    e.stopPropagation();
    e.preventDefault();
    const [x, y] = local(e);
    drag = { x, y, x0: x, y0: y, box: e.shiftKey, moved: false };
  };
  const onMove = (e) => {
    const [x, y] = local(e);
    if (drag) {
      if (Math.abs(x - drag.x0) + Math.abs(y - drag.y0) > 3) drag.moved = true;
      if (drag.box) {
        draw({ x0: drag.x0, y0: drag.y0, x1: x, y1: y });
      } else if (drag.moved) {
        view.cx -= (x - drag.x) / view.scale;
        view.cy += (y - drag.y) / view.scale;
        drag.x = x;
        drag.y = y;
        draw(undefined, true);
      }
      return;
    }
    const p = toData(x, y);
    const i = grid ? nearest(grid, xy, p.x, p.y, 6 / view.scale) : -1;
    if (i < 0) { tip.style.display = "none"; return; }
    showTip(tip, model.get("labels")[i] ?? String(i), x, y);
  };
  const sendSelection = throttle(() => model.save_changes(), 200);
  const onUp = (e) => {
    if (!drag) return;
    const [x, y] = local(e);
    if (drag.box && drag.moved) {
      const a = toData(drag.x0, drag.y0), b = toData(x, y);
      const chosen = inBox(xy, a.x, a.y, b.x, b.y);
      overlay.dataset.selected = String(chosen.length);
      model.set("selected_indices", chosen);
      sendSelection();
      draw();
    } else if (!drag.moved) {
      const p = toData(x, y);
      const i = nearest(grid, xy, p.x, p.y, 6 / view.scale);
      if (i >= 0) askNeighbours(i);
      else { calls.cancelLatest(); lines = null; draw(); }
    }
    drag = null;
  };
  const onWheel = (e) => {
    e.preventDefault();
    const [x, y] = local(e);
    const before = toData(x, y);
    view.scale *= Math.exp(-e.deltaY * 0.0015);
    const after = toData(x, y);
    view.cx += before.x - after.x;
    view.cy += before.y - after.y;
    draw(undefined, true);
  };
  const onLeave = () => { tip.style.display = "none"; };
  const onSearch = () => { findMatches(); draw(); model.set("search", search.value); sendSearch(); };
  const sendSearch = throttle(() => model.save_changes(), 300);
  // Neighbours come from Python; only the answer to the latest click is drawn (a late answer
  // to an earlier click is dropped), and an error is shown instead of waiting for ever.
  const calls = rpc(model);
  const askNeighbours = (i) => {
    const reply = calls.request("neighbours", { index: i, k: 10 });
    const id = calls.latest;
    reply.then(
      (answer) => {
        if (id !== calls.latest) return;
        lines = { index: answer.index, neighbours: answer.neighbours };
        overlay.dataset.lines = String(answer.neighbours.length);
        delete overlay.dataset.error;
        draw();
      },
      (error) => {
        if (id !== calls.latest) return;
        lines = null;
        overlay.dataset.error = String(error.message);
        showTip(tip, `neighbours failed: ${error.message}`, 8, 8);
        draw();
      },
    );
  };
  const onCoords = () => load(true);
  const showStop = () => { stop.style.display = model.get("running") ? "" : "none"; };
  const onStop = () => { stop.disabled = true; calls.request("cancel", {}).catch(() => {}); };
  const onColors = () => { renderer.setData(xy, colours()); draw(); };
  const on = listeners();
  on.dom(overlay, "mousedown", onDown);
  on.dom(overlay, "mousemove", onMove);
  on.dom(overlay, "mouseup", onUp);
  on.dom(overlay, "wheel", onWheel, { passive: false });
  on.dom(overlay, "mouseleave", onLeave);
  on.dom(search, "input", onSearch);
  on.dom(stop, "click", onStop);
  on.model(model, "change:running", showStop);
  on.model(model, "change:coords", onCoords);
  on.model(model, "change:colors", onColors);
  on.model(model, "change:status", draw);
  load(true);
  showStop();
  return () => {
    on.dispose();
    calls.dispose();
    sendSelection.cancel();
    sendSearch.cancel();
    clearTimeout(settle);
    renderer.destroy();
    container.remove();
  };
}

export default { render };
