// ModelComparison: metrics table, ROC and PR curves, a score-vs-score scatter, the stacked model.
import { decodeArray } from "./lib/arrays.js";
import { category, css } from "./lib/colors.js";
import { el, listeners, showTip } from "./lib/dom.js";
import { cellText, unitTicks } from "./lib/format.js";
import { liftText } from "./lib/threshold.js";

/**
 * The model contract (Python: simwidgets.widgets.comparison.ModelComparison).
 * @typedef {Object} ComparisonModel
 * @property {string[]} model_names
 * @property {Object[]} metrics
 * @property {Record<string, {roc: number[][], pr: number[][]}>} curves
 * @property {import("./lib/arrays.js").WireArray} scores  float32 (models, pairs)
 * @property {import("./lib/arrays.js").WireArray} labels  float32 (pairs)
 * @property {number} x_model
 * @property {number} y_model
 * @property {{left: string, right: string, x: number|null, y: number|null, label: number|null}[]} disagreements
 * @property {{kind?: string, table?: Object[], lift?: number, lift_interval?: number[], real?: boolean, verdict?: string, best_single?: string, importances?: Object[]}} ensemble
 * @property {{model_a: string, model_b: string, metric: string, diff: number, diff_low: number, diff_high: number,
 *   p_a_better: number, real: boolean}[]} differences
 * @property {{metric?: string, names?: string[], tables?: Record<string, Object[]>, best?: Record<string, string>,
 *   changes?: string[]}} slices
 * @property {string} slice_name
 * @property {{model: string, kind: string, bin: number, predicted: number, observed: number, pairs: number, ece: number}[]} calibration
 */

const fmt = (v) => cellText("", v);

function tableOf(records, columns) {
  const t = el("table", {});
  t.append(el("tr", {}, columns.map((c) => el("th", {}, [c]))));
  for (const r of records) t.append(el("tr", {}, columns.map((c) => el("td", {}, [cellText(c, r[c])]))));
  return t;
}

/** The paired differences as table rows, each marked real or not (pure: unit-tested). @param {any[]} rows */
export function differenceRows(rows) {
  return rows.map((r) => ({
    "models": `${r.model_a} − ${r.model_b}`,
    [r.metric]: r.diff,
    "95% interval": `[${fmt(r.diff_low)}, ${fmt(r.diff_high)}]`,
    "P(first better)": r.p_a_better,
    "difference": r.real ? "real" : "not shown (interval includes 0)",
  }));
}

/**
 * Axes with ticks and curves on a canvas; `series` are {name, colour, points: [x, y][]} in [0, 1].
 * `chance` draws the line a random score follows (ROC's diagonal). The legend is HTML beside it.
 */
function plotCurves(canvas, series, xLabel, yLabel, chance = false) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, left = 40, bottom = 36, top = 8, right = 10;
  ctx.clearRect(0, 0, w, h);
  const X = (x) => left + x * (w - left - right), Y = (y) => h - bottom - y * (h - bottom - top);
  ctx.font = "10px sans-serif";
  for (const [t, text] of unitTicks()) {
    ctx.strokeStyle = "#eee";
    ctx.beginPath(); ctx.moveTo(X(t), Y(0)); ctx.lineTo(X(t), Y(1)); ctx.moveTo(X(0), Y(t)); ctx.lineTo(X(1), Y(t)); ctx.stroke();
    ctx.fillStyle = "#555";
    ctx.textAlign = "center"; ctx.fillText(text, X(t), h - bottom + 12);
    ctx.textAlign = "right"; ctx.fillText(text, left - 4, Y(t) + 3);
  }
  ctx.strokeStyle = "#999";
  ctx.strokeRect(X(0), Y(1), X(1) - X(0), Y(0) - Y(1));
  if (chance) {
    ctx.setLineDash([4, 4]); ctx.strokeStyle = "#bbb";
    ctx.beginPath(); ctx.moveTo(X(0), Y(0)); ctx.lineTo(X(1), Y(1)); ctx.stroke(); ctx.setLineDash([]);
  }
  ctx.fillStyle = "#333";
  ctx.font = "11px sans-serif";
  ctx.textAlign = "center"; ctx.fillText(xLabel, (X(0) + X(1)) / 2, h - 6);
  ctx.save(); ctx.translate(11, (Y(0) + Y(1)) / 2); ctx.rotate(-Math.PI / 2); ctx.fillText(yLabel, 0, 0); ctx.restore();
  ctx.textAlign = "left";
  for (const s of series) {
    ctx.strokeStyle = s.colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.points.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
    ctx.stroke();
    ctx.lineWidth = 1;
  }
  canvas.dataset.ticks = String(unitTicks().length);
}

/** The curves' legend, as HTML under the plots (it never covers a curve). */
function legendOf(series) {
  return series.map((s) =>
    el("span", { className: "sw-legend-item" }, [el("span", { className: "sw-swatch", style: `background:${s.colour}` }), s.name]),
  );
}

/** @param {{model: any, el: HTMLElement}} ctx */
function render({ model, el: root }) {
  const metrics = el("div", { className: "sw-metrics" });
  const sliceSel = el("select", { className: "sw-slice" });
  const sliceBar = el("div", { className: "sw-header" }, [el("label", {}, ["slice ", sliceSel])]);
  const sliceNote = el("div", { className: "sw-status sw-slice-note" });
  const paired = el("div", { className: "sw-paired" });
  const roc = el("canvas", { className: "sw-roc", width: 300, height: 260 });
  const pr = el("canvas", { className: "sw-pr", width: 300, height: 260 });
  const legend = el("div", { className: "sw-legend" });
  const xSel = el("select", { className: "sw-x-model" }), ySel = el("select", { className: "sw-y-model" });
  const scatter = el("canvas", { className: "sw-scatter", width: 300, height: 260 });
  const tip = el("div", { className: "sw-tip" });
  let positions = [];
  const disagree = el("div", { className: "sw-disagree" });
  const stacked = el("div", { className: "sw-ensemble" });
  const calibrationPlot = el("canvas", { className: "sw-reliability", width: 300, height: 260 });
  const calibrationNote = el("div", { className: "sw-status sw-ece" });
  const calibrationBox = el("div", { className: "sw-calibration" }, [
    el("div", {}, ["Calibration: predicted against observed share of good pairs (dots: calibrated out of fold; crosses: raw score)"]),
    el("div", { className: "sw-row" }, [calibrationPlot, calibrationNote]),
  ]);
  const container = el("div", { className: "simwidgets sw-comparison" }, [
    sliceBar,
    metrics,
    sliceNote,
    paired,
    el("div", { className: "sw-row" }, [roc, pr]),
    legend,
    el("div", { className: "sw-header" }, [el("label", {}, ["x ", xSel]), el("label", {}, ["y ", ySel])]),
    el("div", { className: "sw-row" }, [el("div", { className: "sw-heat-wrap" }, [scatter, tip]), disagree]),
    stacked,
    calibrationBox,
  ]);
  root.appendChild(container);

  function drawSlices() {
    const slices = model.get("slices") || {};
    const names = slices.names || [];
    sliceBar.style.display = names.length > 1 ? "" : "none";
    sliceSel.replaceChildren(...names.map((n) => el("option", { value: n }, [n])));
    sliceSel.value = names.includes(model.get("slice_name")) ? model.get("slice_name") : "all";
    const changes = slices.changes || [];
    sliceNote.textContent = !names.length ? "" : changes.length
      ? `The best model (by ${slices.metric}) is not ${slices.best.all} in: ${changes.map((c) => `${c} (${slices.best[c]})`).join("; ")}`
      : `${slices.best.all} is the best model (by ${slices.metric}) in every slice`;
  }

  function drawPaired() {
    const rows = model.get("differences") || [];
    if (!rows.length) { paired.replaceChildren(); return; }
    const shown = differenceRows(rows);
    paired.replaceChildren(
      el("div", {}, ["Paired differences (same resamples of the pairs for every model)"]),
      tableOf(shown, Object.keys(shown[0])),
    );
    paired.querySelectorAll("tr").forEach((tr, i) => { if (i > 0 && rows[i - 1].real) tr.classList.add("sw-real"); });
  }

  function drawMetrics() {
    const slices = model.get("slices") || {};
    const name = model.get("slice_name");
    const records = name !== "all" && slices.tables && slices.tables[name] ? slices.tables[name] : model.get("metrics");
    const columns = records.length ? Object.keys(records[0]).filter((c) => !c.endsWith("_low") && !c.endsWith("_high")) : [];
    metrics.replaceChildren(tableOf(records, columns));
    const curves = model.get("curves");
    const names = model.get("model_names");
    const series = (key) => names.filter((n) => curves[n]).map((n, k) => ({ name: n, colour: css(category(names.indexOf(n))), points: curves[n][key] }));
    plotCurves(roc, series("roc"), "false positive rate", "true positive rate", true);
    plotCurves(pr, series("pr"), "recall", "precision");
    legend.replaceChildren(...legendOf(series("roc")));
    for (const sel of [xSel, ySel]) sel.replaceChildren(...names.map((n, i) => el("option", { value: String(i) }, [n])));
    xSel.value = String(model.get("x_model"));
    ySel.value = String(model.get("y_model"));
    const ens = model.get("ensemble");
    if (ens && ens.table) {
      stacked.replaceChildren(
        el("h4", {}, [`Stacked model (${ens.kind}): ${ens.verdict || liftText(ens.lift, ens.best_single)}, cross-validated`]),
        tableOf(ens.table, Object.keys(ens.table[0])),
        el("div", {}, ["Feature importances (permutation: error increase when shuffled)"]),
        tableOf(ens.importances, Object.keys(ens.importances[0])),
      );
    }
  }

  function drawCalibration() {
    const rows = model.get("calibration") || [];
    calibrationBox.style.display = rows.length ? "" : "none";
    if (!rows.length) return;
    const names = model.get("model_names");
    const series = names.map((n, k) => ({ name: n, colour: css(category(k)), points: [] }));
    plotCurves(calibrationPlot, [], "predicted", "observed", true);
    const ctx = calibrationPlot.getContext("2d");
    const w = calibrationPlot.width, h = calibrationPlot.height;
    const X = (x) => 40 + x * (w - 50), Y = (y) => h - 36 - y * (h - 44);
    for (const r of rows) {
      const k = names.indexOf(r.model);
      if (k < 0) continue;
      ctx.fillStyle = ctx.strokeStyle = series[k].colour;
      const x = X(r.predicted), y = Y(r.observed), size = 2 + Math.min(4, Math.sqrt(r.pairs) / 4);
      if (r.kind === "calibrated") { ctx.beginPath(); ctx.arc(x, y, size, 0, 2 * Math.PI); ctx.fill(); }
      else { ctx.beginPath(); ctx.moveTo(x - size, y - size); ctx.lineTo(x + size, y + size); ctx.moveTo(x + size, y - size); ctx.lineTo(x - size, y + size); ctx.stroke(); }
    }
    const ece = (m, kind) => (rows.find((r) => r.model === m && r.kind === kind) || {}).ece;
    calibrationNote.replaceChildren(...names.filter((m) => ece(m, "raw") !== undefined).map((m) =>
      el("div", {}, [`${m}: ECE ${cellText("ece", ece(m, "raw"))} raw → ${cellText("ece", ece(m, "calibrated"))} calibrated`])));
    calibrationPlot.dataset.points = String(rows.length);
  }

  function drawScatter() {
    const s = decodeArray(model.get("scores"));
    const labels = decodeArray(model.get("labels")).data;
    const n = s.shape[1];
    const xi = model.get("x_model"), yi = model.get("y_model");
    const xs = s.data.subarray(xi * n, (xi + 1) * n), ys = s.data.subarray(yi * n, (yi + 1) * n);
    const ctx = scatter.getContext("2d");
    const w = scatter.width, h = scatter.height, pad = 30;
    ctx.clearRect(0, 0, w, h);
    ctx.strokeStyle = "#999";
    ctx.strokeRect(pad, 5, w - pad - 5, h - pad - 5);
    const range = (vs) => {
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < n; i++) if (Number.isFinite(vs[i])) { lo = Math.min(lo, vs[i]); hi = Math.max(hi, vs[i]); }
      return [lo, hi - lo || 1];
    };
    const [xlo, xspan] = range(xs), [ylo, yspan] = range(ys);
    let lmin = Infinity, lmax = -Infinity;
    for (let i = 0; i < n; i++) if (Number.isFinite(labels[i])) { lmin = Math.min(lmin, labels[i]); lmax = Math.max(lmax, labels[i]); }
    positions = [];
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) continue;
      positions.push([i, pad + ((xs[i] - xlo) / xspan) * (w - pad - 5), h - pad - ((ys[i] - ylo) / yspan) * (h - pad - 10)]);
      const t = (labels[i] - lmin) / (lmax - lmin || 1);
      ctx.fillStyle = `rgba(${Math.round(205 - 160 * t)},${Math.round(92 + 47 * t)},${Math.round(92 - 5 * t)},0.7)`;
      ctx.fillRect(pad + ((xs[i] - xlo) / xspan) * (w - pad - 5) - 1.5, h - pad - ((ys[i] - ylo) / yspan) * (h - pad - 10) - 1.5, 3, 3);
    }
    const names = model.get("model_names");
    ctx.fillStyle = "#333";
    ctx.font = "11px sans-serif";
    ctx.fillText(`${names[xi]} →`, w / 2 - 20, h - 8);
    ctx.fillText(`↑ ${names[yi]} (green: high label)`, pad + 4, 16);
    scatter.dataset.points = String(n);
    scatter.dataset.x = String(xi);
    scatter.dataset.y = String(yi);
    const rows = model.get("disagreements");
    disagree.replaceChildren(
      el("div", {}, ["Most disagreeing pairs"]),
      tableOf(rows.map((r) => ({ pair: `${r.left} ↔ ${r.right}`, [names[xi]]: r.x, [names[yi]]: r.y, label: r.label })), ["pair", names[xi], names[yi], "label"]),
    );
  }

  /** @param {MouseEvent} event */
  const onHover = (event) => {
    const box = scatter.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * scatter.width;
    const py = ((event.clientY - box.top) / box.height) * scatter.height;
    let best = null, bestD = 36;
    for (const [i, x, y] of positions) {
      const d = (x - px) ** 2 + (y - py) ** 2;
      if (d < bestD) { bestD = d; best = i; }
    }
    if (best === null) { tip.style.display = "none"; return; }
    const s = decodeArray(model.get("scores")), n = s.shape[1];
    const names = model.get("model_names"), xi = model.get("x_model"), yi = model.get("y_model");
    const text = `${model.get("left_texts")[best]} ↔ ${model.get("right_texts")[best]}: ` +
      `${names[xi]} ${fmt(s.data[xi * n + best])}, ${names[yi]} ${fmt(s.data[yi * n + best])}`;
    showTip(tip, text, event.clientX - box.left, event.clientY - box.top);
  };
  const onOut = () => { tip.style.display = "none"; };
  const onSlice = () => { model.set("slice_name", sliceSel.value); model.save_changes(); };
  const onX = () => { model.set("x_model", Number(xSel.value)); model.save_changes(); };
  const onY = () => { model.set("y_model", Number(ySel.value)); model.save_changes(); };
  const on = listeners();
  on.dom(sliceSel, "change", onSlice);
  on.dom(xSel, "change", onX);
  on.dom(ySel, "change", onY);
  on.dom(scatter, "mousemove", onHover);
  on.dom(scatter, "mouseleave", onOut);
  on.model(model, "change:disagreements", drawScatter);
  on.model(model, "change:metrics", drawMetrics);
  on.model(model, "change:slice_name", () => { sliceSel.value = model.get("slice_name"); drawMetrics(); });
  on.model(model, "change:differences", drawPaired);
  on.model(model, "change:slices", () => { drawSlices(); drawMetrics(); });
  on.model(model, "change:calibration", drawCalibration);
  drawSlices();
  drawPaired();
  drawMetrics();
  drawScatter();
  drawCalibration();
  return () => {
    on.dispose();
    container.remove();
  };
}

export default { render };
