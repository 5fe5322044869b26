// SimilarityHeatmap: one canvas pixel per cell, threshold masking and hover in the browser.
import { decodeArray } from "./lib/arrays.js";
import { css, diverging, viridis } from "./lib/colors.js";
import { axisLabels, cellAt, cellColours, maskUpdater } from "./lib/heatmap.js";
import { el, listeners, showTip, throttle } from "./lib/dom.js";

/**
 * The model contract (Python: simwidgets.widgets.heatmap.SimilarityHeatmap).
 * @typedef {Object} HeatmapModel
 * @property {import("./lib/arrays.js").WireArray} matrix   float32 (rows, cols), drawing order
 * @property {import("./lib/arrays.js").WireArray | null} detail_a  compare mode: first model
 * @property {import("./lib/arrays.js").WireArray | null} detail_b  compare mode: second model
 * @property {string[]} row_labels
 * @property {string[]} col_labels
 * @property {string[]} model_names
 * @property {number | null} threshold
 * @property {number[]} value_range  [low, high]
 * @property {boolean} diverging
 * @property {number[][]} selected   [row, col] pinned cells
 */

const fmt = (v) => (Number.isFinite(v) ? v.toFixed(3) : "n/a");

/** @param {{model: any, el: HTMLElement}} ctx */
function render({ model, el: root }) {
  const canvas = el("canvas", { className: "sw-heat-canvas" });
  const slider = el("input", { type: "range", className: "sw-threshold", step: "0.01" });
  const readout = el("span", { className: "sw-readout" });
  const title = el("span", { className: "sw-title" });
  const pinned = el("span", { className: "sw-pinned" });
  const tip = el("div", { className: "sw-tip" });
  const wrap = el("div", { className: "sw-heat-wrap" }, [canvas, tip]);
  const rowAxis = el("div", { className: "sw-row-labels" });
  const colAxis = el("div", { className: "sw-col-labels" });
  const scale = el("div", { className: "sw-legend sw-colour-scale" });
  const grid = el("div", { className: "sw-heat-grid" }, [el("div", {}), colAxis, rowAxis, wrap]);
  const header = el("div", { className: "sw-header" }, [title, el("label", {}, ["threshold ", slider]), readout, pinned]);
  const container = el("div", { className: "simwidgets sw-heatmap" }, [header, grid, scale]);
  root.appendChild(container);
  const ctx = canvas.getContext("2d");
  let matrix = null, rows = 0, cols = 0, updater, image;
  let renders = 0;

  function load() {
    const decoded = decodeArray(model.get("matrix"));
    matrix = decoded ? decoded.data : new Float32Array(0);
    [rows, cols] = decoded ? decoded.shape : [0, 0];
    canvas.width = cols;
    canvas.height = rows;
    const side = Math.min(640, Math.max(240, Math.max(rows, cols) * 12));
    canvas.style.width = `${Math.round((side * cols) / Math.max(rows, cols))}px`;
    canvas.style.height = `${Math.round((side * rows) / Math.max(rows, cols))}px`;
    image = ctx.createImageData(Math.max(cols, 1), Math.max(rows, 1));
    const [low, high] = model.get("value_range");
    const colours = cellColours(matrix, { low, high, diverging: model.get("diverging") });
    updater = maskUpdater(matrix, colours, new Uint32Array(image.data.buffer));
    slider.min = String(low);
    slider.max = String(high);
    const names = model.get("model_names");
    title.textContent = names.length === 2 ? `${names[0]} − ${names[1]}` : names[0] || "";
    drawAxes(parseFloat(canvas.style.width), parseFloat(canvas.style.height));
    const stops = [0, 0.25, 0.5, 0.75, 1].map((t) => css(model.get("diverging") ? diverging(2 * t - 1) : viridis(t)));
    scale.replaceChildren(
      el("span", {}, [`${fmt(low)} `]),
      el("span", { className: "sw-swatch", style: `background: linear-gradient(90deg, ${stops.join(", ")})` }),
      el("span", {}, [` ${fmt(high)}`]),
      el("span", { className: "sw-status" }, [names.length === 2 ? " difference of cosine scores" : " cosine score"]),
    );
    draw(currentThreshold());
  }

  /** Row labels left of the canvas and column labels above it, as many as fit (every k-th). */
  function drawAxes(width, height) {
    const rowNames = model.get("row_labels"), colNames = model.get("col_labels");
    rowAxis.style.height = `${height}px`;
    rowAxis.replaceChildren(
      ...axisLabels(rowNames, height).map(({ text, at, size }) =>
        el("div", { className: "sw-row-label", title: text, style: `top:${at}px;font-size:${size}px;line-height:${size}px` }, [text]),
      ),
    );
    colAxis.style.width = `${width}px`;
    colAxis.replaceChildren(
      ...axisLabels(colNames, width).map(({ text, at, size }) =>
        el("div", { className: "sw-col-label", title: text, style: `left:${at}px;font-size:${size}px` }, [text]),
      ),
    );
  }

  function currentThreshold() {
    const value = model.get("threshold");
    slider.value = value === null ? slider.min : String(value);
    return value === null ? -Infinity : value;
  }

  /** @param {number} threshold */
  function draw(threshold) {
    if (!rows || !cols) return;
    const masked = updater.set(threshold);
    ctx.putImageData(image, 0, 0);
    renders += 1;
    canvas.dataset.renders = String(renders);
    canvas.dataset.threshold = Number.isFinite(threshold) ? String(threshold) : "";
    canvas.dataset.masked = String(masked);
    readout.textContent = Number.isFinite(threshold)
      ? `≥ ${threshold.toFixed(2)}: ${rows * cols - masked} of ${rows * cols} cells`
      : `${rows * cols} cells`;
  }

  function showPinned() {
    const n = model.get("selected").length;
    pinned.textContent = n ? `${n} pinned` : "";
  }

  const sendThreshold = throttle(() => {
    model.set("threshold", Number(slider.value));
    model.save_changes();
  }, 150);

  function onInput() {
    draw(Number(slider.value)); // instant, in the browser
    sendThreshold();
  }

  /** @param {MouseEvent} event */
  function cellOf(event) {
    const box = canvas.getBoundingClientRect();
    return cellAt(event.clientX - box.left, event.clientY - box.top, box.width, box.height, rows, cols);
  }

  /** @param {MouseEvent} event */
  function onMove(event) {
    const cell = cellOf(event);
    if (!cell) {
      tip.style.display = "none";
      return;
    }
    const { row, col } = cell;
    const k = row * cols + col;
    const rowText = model.get("row_labels")[row] ?? "";
    const colText = model.get("col_labels")[col] ?? "";
    let scores = fmt(matrix[k]);
    const a = decodeArray(model.get("detail_a"));
    const b = decodeArray(model.get("detail_b"));
    if (a && b) {
      const names = model.get("model_names");
      scores = `${names[0]} ${fmt(a.data[k])}, ${names[1]} ${fmt(b.data[k])}, difference ${fmt(matrix[k])}`;
    }
    const box = wrap.getBoundingClientRect();
    showTip(tip, `${rowText} × ${colText}: ${scores}`, event.clientX - box.left, event.clientY - box.top);
  }

  function onLeave() {
    tip.style.display = "none";
  }

  /** @param {MouseEvent} event */
  function onClick(event) {
    const cell = cellOf(event);
    if (!cell) return;
    const selected = model.get("selected").filter(([r, c]) => !(r === cell.row && c === cell.col));
    if (selected.length === model.get("selected").length) selected.push([cell.row, cell.col]);
    model.set("selected", selected);
    model.save_changes();
  }

  const onThreshold = () => draw(currentThreshold());
  const on = listeners();
  on.dom(slider, "input", onInput);
  on.dom(canvas, "mousemove", onMove);
  on.dom(canvas, "mouseleave", onLeave);
  on.dom(canvas, "click", onClick);
  on.model(model, "change:threshold", onThreshold);
  on.model(model, "change:matrix", load);
  on.model(model, "change:selected", showPinned);
  load();
  showPinned();

  return () => {
    on.dispose();
    sendThreshold.cancel();
    container.remove();
  };
}

export default { render };
