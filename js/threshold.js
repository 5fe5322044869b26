// ThresholdTuner: histograms by label, a null distribution, and live counts at a threshold.
import { decodeArray } from "./lib/arrays.js";
import { el, listeners, showTip, throttle } from "./lib/dom.js";
import { labelText } from "./lib/format.js";
import { choiceText, countsAt, histogram, logText, nearThreshold, scoreRange } from "./lib/threshold.js";

/**
 * The model contract (Python: simwidgets.widgets.threshold.ThresholdTuner).
 * @typedef {Object} ThresholdModel
 * @property {string[]} model_names
 * @property {number} model_index
 * @property {import("./lib/arrays.js").WireArray} scores       float32 (models, pairs)
 * @property {import("./lib/arrays.js").WireArray} null_scores  float32 (models, n_null)
 * @property {import("./lib/arrays.js").WireArray | null} labels float32 (pairs)
 * @property {number} label_cut
 * @property {string[]} left_texts
 * @property {string[]} right_texts
 * @property {number} threshold
 * @property {any[]} choices  per model: thresholds in and out of sample (empty without labels)
 */

const BINS = 60;
const pct = (v) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : "n/a");

/** @param {{model: any, el: HTMLElement}} ctx */
function render({ model, el: root }) {
  const select = el("select", { className: "sw-model" });
  const slider = el("input", { type: "range", className: "sw-threshold", min: "-1", max: "1", step: "0.005" });
  const readout = el("span", { className: "sw-readout" });
  const full = el("input", { type: "checkbox", className: "sw-full-range" });
  const canvas = el("canvas", { className: "sw-hist", width: 640, height: 220 });
  const tip = el("div", { className: "sw-tip" });
  const stats = el("div", { className: "sw-stats" });
  const examples = el("div", { className: "sw-examples" });
  const chosen = el("span", { className: "sw-choice-text" });
  const useChosen = el("button", { className: "sw-use-choice" }, ["use the out-of-sample threshold"]);
  const choice = el("div", { className: "sw-choice" }, [chosen, " ", useChosen]);
  const onLog = el("div", { className: "sw-status sw-log-estimate" });
  const container = el("div", { className: "simwidgets sw-threshold-tuner" }, [
    el("div", { className: "sw-header" }, [el("label", {}, ["model ", select]), el("label", {}, ["threshold ", slider]), readout,
      el("label", { className: "sw-range-toggle", title: "the histogram spans -1 to 1 instead of the scores' own range" }, [full, " full range (-1 to 1)"])]),
    el("div", { className: "sw-heat-wrap" }, [canvas, tip]), stats, onLog, choice, examples,
  ]);
  root.appendChild(container);
  const ctx = canvas.getContext("2d");
  let scores, nulls, labels, nPairs = 0, nNull = 0, renders = 0;
  let axis = { low: -1, high: 1 };

  function load() {
    const s = decodeArray(model.get("scores"));
    const z = decodeArray(model.get("null_scores"));
    const l = decodeArray(model.get("labels"));
    scores = s.data;
    nPairs = s.shape[1];
    nulls = z.data;
    nNull = z.shape[1];
    labels = l ? l.data : null;
    select.replaceChildren(...model.get("model_names").map((name, i) => el("option", { value: String(i) }, [name])));
    select.value = String(model.get("model_index"));
    slider.value = String(model.get("threshold"));
    draw(model.get("threshold"));
  }

  /** @param {number} threshold */
  function draw(threshold) {
    const m = model.get("model_index");
    const row = scores.subarray(m * nPairs, (m + 1) * nPairs);
    const nullRow = nulls.subarray(m * nNull, (m + 1) * nNull);
    const cut = model.get("label_cut");
    axis = scoreRange(row, nullRow, threshold, full.checked);
    const { low, high } = axis;
    const series = labels
      ? [
          { name: `similar (label ≥ ${labelText(cut)})`, colour: "rgba(46,139,87,0.7)", counts: histogram(row, BINS, low, high, (i) => labels[i] >= cut) },
          { name: `not similar (label < ${labelText(cut)})`, colour: "rgba(205,92,92,0.7)", counts: histogram(row, BINS, low, high, (i) => labels[i] < cut) },
        ]
      : [{ name: "pairs", colour: "rgba(70,110,170,0.7)", counts: histogram(row, BINS, low, high) }];
    const nullCounts = histogram(nullRow, BINS, low, high);
    const w = canvas.width, h = canvas.height, bw = w / BINS;
    ctx.clearRect(0, 0, w, h);
    const norm = (counts) => { const total = counts.reduce((a, b) => a + b, 0) || 1; return counts.map((c) => c / total); };
    const shares = series.map((s) => norm(s.counts));
    const nullShare = norm(nullCounts);
    const top = Math.max(...shares.flat(), ...nullShare, 1e-9);
    shares.forEach((share, k) => {
      ctx.fillStyle = series[k].colour;
      share.forEach((v, i) => ctx.fillRect(i * bw + (k * bw) / series.length, h - (v / top) * (h - 20), bw / series.length, (v / top) * (h - 20)));
    });
    ctx.strokeStyle = "#555";
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    nullShare.forEach((v, i) => { const x = (i + 0.5) * bw, y = h - (v / top) * (h - 20); i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
    ctx.stroke();
    ctx.setLineDash([]);
    const tx = ((threshold - low) / (high - low)) * w;
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(tx, 0); ctx.lineTo(tx, h); ctx.stroke();
    ctx.lineWidth = 1;
    ctx.fillStyle = "#222";
    ctx.font = "11px sans-serif";
    const legendText = `${series.map((s) => s.name).join(" / ")}; dashed: random pairs`;
    ctx.fillText(legendText, 6, 12);
    canvas.dataset.legend = legendText;
    ctx.fillText(low.toFixed(2), 2, h - 3);  // the score axis' ends
    ctx.fillText(high.toFixed(2), w - ctx.measureText(high.toFixed(2)).width - 2, h - 3);
    canvas.dataset.low = String(low);
    canvas.dataset.high = String(high);

    const c = countsAt(row, labels, threshold, cut);
    readout.textContent = threshold.toFixed(3);
    const items = [`kept ${c.kept} (${pct(c.kept / nPairs)})`, `removed ${c.removed}`];
    if (labels) items.push(`precision ${pct(c.precision)}`, `recall ${pct(c.recall)}`, `F1 ${Number.isFinite(c.f1) ? c.f1.toFixed(3) : "n/a"}`);
    stats.replaceChildren(...items.map((text) => el("span", { className: "sw-stat" }, [text])));
    const modelChoice = (model.get("choices") || [])[m];
    chosen.textContent = choiceText(modelChoice);
    onLog.textContent = m === 0 ? logText(model.get("log_estimates"), threshold) : "";
    choice.style.display = modelChoice ? "" : "none";
    useChosen.style.display = modelChoice && !modelChoice.why ? "" : "none";
    const near = nearThreshold(row, threshold, 4);
    const left = model.get("left_texts"), right = model.get("right_texts");
    const line = (i) => el("li", {}, [`${row[i].toFixed(3)}  ${left[i]}  ↔  ${right[i]}` + (labels ? `  (label ${labelText(labels[i])})` : "")]);
    examples.replaceChildren(
      el("div", {}, ["just kept:"]), el("ul", {}, near.above.map(line)),
      el("div", {}, ["just removed:"]), el("ul", {}, near.below.map(line)),
    );
    renders += 1;
    canvas.dataset.renders = String(renders);
    canvas.dataset.threshold = String(threshold);
    canvas.dataset.kept = String(c.kept);
  }

  /** @param {MouseEvent} event */
  const onHover = (event) => {
    const box = canvas.getBoundingClientRect();
    const bin = Math.min(BINS - 1, Math.max(0, Math.floor(((event.clientX - box.left) / box.width) * BINS)));
    const width = (axis.high - axis.low) / BINS;
    const low = axis.low + bin * width, high = low + width;
    const m = model.get("model_index");
    const row = scores.subarray(m * nPairs, (m + 1) * nPairs);
    const cut = model.get("label_cut");
    let similar = 0, other = 0, all = 0;
    for (let i = 0; i < row.length; i++) {
      if (!(row[i] >= low && row[i] < high)) continue;
      all++;
      if (labels && labels[i] >= cut) similar++;
      else if (labels && labels[i] < cut) other++;
    }
    const text = labels
      ? `scores ${low.toFixed(2)} to ${high.toFixed(2)}: ${similar} similar, ${other} not similar`
      : `scores ${low.toFixed(2)} to ${high.toFixed(2)}: ${all} pairs`;
    showTip(tip, text, event.clientX - box.left, event.clientY - box.top);
  };
  const onOut = () => { tip.style.display = "none"; };
  const onUseChosen = () => {
    const c = (model.get("choices") || [])[model.get("model_index")];
    if (!c || c.why) return;
    model.set("threshold", c.threshold);
    model.save_changes();
    onThreshold();
  };
  const send = throttle(() => {
    model.set("threshold", Number(slider.value));
    model.save_changes();
  }, 150);
  const onInput = () => { draw(Number(slider.value)); send(); };
  const onSelect = () => { model.set("model_index", Number(select.value)); model.save_changes(); };
  const onThreshold = () => { slider.value = String(model.get("threshold")); draw(model.get("threshold")); };
  const onIndex = () => { select.value = String(model.get("model_index")); draw(Number(slider.value)); };
  const on = listeners();
  on.dom(slider, "input", onInput);
  on.dom(select, "change", onSelect);
  on.dom(full, "change", () => draw(Number(slider.value)));
  on.dom(canvas, "mousemove", onHover);
  on.dom(canvas, "mouseleave", onOut);
  on.dom(useChosen, "click", onUseChosen);
  on.model(model, "change:threshold", onThreshold);
  on.model(model, "change:model_index", onIndex);
  on.model(model, "change:scores", load);
  load();
  return () => {
    on.dispose();
    send.cancel();
    container.remove();
  };
}

export default { render };
