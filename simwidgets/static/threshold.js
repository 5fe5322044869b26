// lib/arrays.js
var TYPES = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array
};
function decodeArray(wire) {
  if (!wire || !wire.buffer) return null;
  const Type = TYPES[wire.dtype];
  if (!Type) throw new Error(`unsupported dtype ${wire.dtype}`);
  const view = wire.buffer;
  const buffer = view instanceof ArrayBuffer ? view : view.buffer;
  const offset = view instanceof ArrayBuffer ? 0 : view.byteOffset;
  const length = view instanceof ArrayBuffer ? view.byteLength : view.byteLength;
  const count = length / Type.BYTES_PER_ELEMENT;
  let data;
  if (offset % Type.BYTES_PER_ELEMENT === 0) {
    data = new Type(buffer, offset, count);
  } else {
    data = new Type(new Uint8Array(buffer, offset, length).slice().buffer);
  }
  return { data, shape: wire.shape };
}

// lib/dom.js
function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(typeof child === "string" ? document.createTextNode(child) : child);
  return node;
}
function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  const wrapped = () => {
    const now = Date.now();
    const wait = last + ms - now;
    if (wait <= 0) {
      last = now;
      fn();
    } else if (timer === null) {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        fn();
      }, wait);
    }
  };
  wrapped.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  return wrapped;
}
function showTip(tip, text, x, y) {
  tip.textContent = text;
  tip.style.display = "block";
  tip.style.left = `${x + 12}px`;
  tip.style.top = `${y + 12}px`;
}
function listeners() {
  const undo = [];
  return {
    /** @param {EventTarget} target @param {string} type @param {any} fn @param {any} [options] */
    dom(target, type, fn, options) {
      target.addEventListener(type, fn, options);
      undo.push(() => target.removeEventListener(type, fn, options));
    },
    /** A widget model's event (`change:name`, `msg:custom`). @param {any} model @param {string} name @param {any} fn */
    model(model, name, fn) {
      model.on(name, fn);
      undo.push(() => model.off(name, fn));
    },
    /** Remove everything, last registered first. */
    dispose() {
      while (undo.length) undo.pop()();
    }
  };
}

// lib/threshold.js
function histogram(values, bins, low, high, keep) {
  const counts = new Array(bins).fill(0);
  const width = (high - low) / bins || 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v) || keep && !keep(i)) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor((v - low) / width)))]++;
  }
  return counts;
}
function countsAt(scores, labels, threshold, cut) {
  let kept = 0, tp = 0, fp = 0, fn = 0, tn = 0;
  for (let i = 0; i < scores.length; i++) {
    const keep = scores[i] >= threshold;
    if (keep) kept++;
    if (!labels) continue;
    const y = labels[i];
    if (!Number.isFinite(y)) continue;
    const positive = y >= cut;
    if (keep && positive) tp++;
    else if (keep) fp++;
    else if (positive) fn++;
    else tn++;
  }
  const precision = tp + fp ? tp / (tp + fp) : NaN;
  const recall = tp + fn ? tp / (tp + fn) : NaN;
  const f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : NaN;
  return { kept, removed: scores.length - kept, tp, fp, fn, tn, precision, recall, f1 };
}
function nearThreshold(scores, threshold, k) {
  const above = [], below = [];
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (!Number.isFinite(v)) continue;
    (v >= threshold ? above : below).push(i);
  }
  above.sort((a, b) => scores[a] - scores[b]);
  below.sort((a, b) => scores[b] - scores[a]);
  return { above: above.slice(0, k), below: below.slice(0, k) };
}
function scoreRange(row, nullRow, threshold, full) {
  if (full) return { low: -1, high: 1 };
  let low = Infinity, high = -Infinity;
  for (const values of [row, nullRow]) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) continue;
      if (v < low) low = v;
      if (v > high) high = v;
    }
  }
  if (Number.isFinite(threshold)) {
    low = Math.min(low, threshold);
    high = Math.max(high, threshold);
  }
  if (!(high >= low)) return { low: -1, high: 1 };
  const pad = Math.max(0.025, 0.05 * (high - low));
  return { low: Math.max(-1, low - pad), high: Math.min(1, high + pad) };
}

// threshold.js
var BINS = 60;
var pct = (v) => Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : "n/a";
function render({ model, el: root }) {
  const select = el("select", { className: "sw-model" });
  const slider = el("input", { type: "range", className: "sw-threshold", min: "-1", max: "1", step: "0.005" });
  const readout = el("span", { className: "sw-readout" });
  const full = el("input", { type: "checkbox", className: "sw-full-range" });
  const canvas = el("canvas", { className: "sw-hist", width: 640, height: 220 });
  const tip = el("div", { className: "sw-tip" });
  const stats = el("div", { className: "sw-stats" });
  const examples = el("div", { className: "sw-examples" });
  const container = el("div", { className: "simwidgets sw-threshold-tuner" }, [
    el("div", { className: "sw-header" }, [
      el("label", {}, ["model ", select]),
      el("label", {}, ["threshold ", slider]),
      readout,
      el("label", { className: "sw-range-toggle", title: "the histogram spans -1 to 1 instead of the scores' own range" }, [full, " full range (-1 to 1)"])
    ]),
    el("div", { className: "sw-heat-wrap" }, [canvas, tip]),
    stats,
    examples
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
  function draw(threshold) {
    const m = model.get("model_index");
    const row = scores.subarray(m * nPairs, (m + 1) * nPairs);
    const nullRow = nulls.subarray(m * nNull, (m + 1) * nNull);
    const cut = model.get("label_cut");
    axis = scoreRange(row, nullRow, threshold, full.checked);
    const { low, high } = axis;
    const series = labels ? [
      { name: "similar (label \u2265 cut)", colour: "rgba(46,139,87,0.7)", counts: histogram(row, BINS, low, high, (i) => labels[i] >= cut) },
      { name: "not similar", colour: "rgba(205,92,92,0.7)", counts: histogram(row, BINS, low, high, (i) => labels[i] < cut) }
    ] : [{ name: "pairs", colour: "rgba(70,110,170,0.7)", counts: histogram(row, BINS, low, high) }];
    const nullCounts = histogram(nullRow, BINS, low, high);
    const w = canvas.width, h = canvas.height, bw = w / BINS;
    ctx.clearRect(0, 0, w, h);
    const norm = (counts) => {
      const total = counts.reduce((a, b) => a + b, 0) || 1;
      return counts.map((c2) => c2 / total);
    };
    const shares = series.map((s) => norm(s.counts));
    const nullShare = norm(nullCounts);
    const top = Math.max(...shares.flat(), ...nullShare, 1e-9);
    shares.forEach((share, k) => {
      ctx.fillStyle = series[k].colour;
      share.forEach((v, i) => ctx.fillRect(i * bw + k * bw / series.length, h - v / top * (h - 20), bw / series.length, v / top * (h - 20)));
    });
    ctx.strokeStyle = "#555";
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    nullShare.forEach((v, i) => {
      const x = (i + 0.5) * bw, y = h - v / top * (h - 20);
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
    ctx.setLineDash([]);
    const tx = (threshold - low) / (high - low) * w;
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(tx, 0);
    ctx.lineTo(tx, h);
    ctx.stroke();
    ctx.lineWidth = 1;
    ctx.fillStyle = "#222";
    ctx.font = "11px sans-serif";
    ctx.fillText(`${series.map((s) => s.name).join(" / ")}; dashed: random pairs`, 6, 12);
    ctx.fillText(low.toFixed(2), 2, h - 3);
    ctx.fillText(high.toFixed(2), w - ctx.measureText(high.toFixed(2)).width - 2, h - 3);
    canvas.dataset.low = String(low);
    canvas.dataset.high = String(high);
    const c = countsAt(row, labels, threshold, cut);
    readout.textContent = threshold.toFixed(3);
    const items = [`kept ${c.kept} (${pct(c.kept / nPairs)})`, `removed ${c.removed}`];
    if (labels) items.push(`precision ${pct(c.precision)}`, `recall ${pct(c.recall)}`, `F1 ${Number.isFinite(c.f1) ? c.f1.toFixed(3) : "n/a"}`);
    stats.replaceChildren(...items.map((text) => el("span", { className: "sw-stat" }, [text])));
    const near = nearThreshold(row, threshold, 4);
    const left = model.get("left_texts"), right = model.get("right_texts");
    const line = (i) => el("li", {}, [`${row[i].toFixed(3)}  ${left[i]}  \u2194  ${right[i]}` + (labels ? `  (label ${labels[i]})` : "")]);
    examples.replaceChildren(
      el("div", {}, ["just kept:"]),
      el("ul", {}, near.above.map(line)),
      el("div", {}, ["just removed:"]),
      el("ul", {}, near.below.map(line))
    );
    renders += 1;
    canvas.dataset.renders = String(renders);
    canvas.dataset.threshold = String(threshold);
    canvas.dataset.kept = String(c.kept);
  }
  const onHover = (event) => {
    const box = canvas.getBoundingClientRect();
    const bin = Math.min(BINS - 1, Math.max(0, Math.floor((event.clientX - box.left) / box.width * BINS)));
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
    const text = labels ? `scores ${low.toFixed(2)} to ${high.toFixed(2)}: ${similar} similar, ${other} not similar` : `scores ${low.toFixed(2)} to ${high.toFixed(2)}: ${all} pairs`;
    showTip(tip, text, event.clientX - box.left, event.clientY - box.top);
  };
  const onOut = () => {
    tip.style.display = "none";
  };
  const send = throttle(() => {
    model.set("threshold", Number(slider.value));
    model.save_changes();
  }, 150);
  const onInput = () => {
    draw(Number(slider.value));
    send();
  };
  const onSelect = () => {
    model.set("model_index", Number(select.value));
    model.save_changes();
  };
  const onThreshold = () => {
    slider.value = String(model.get("threshold"));
    draw(model.get("threshold"));
  };
  const onIndex = () => {
    select.value = String(model.get("model_index"));
    draw(Number(slider.value));
  };
  const on = listeners();
  on.dom(slider, "input", onInput);
  on.dom(select, "change", onSelect);
  on.dom(full, "change", () => draw(Number(slider.value)));
  on.dom(canvas, "mousemove", onHover);
  on.dom(canvas, "mouseleave", onOut);
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
var threshold_default = { render };
export {
  threshold_default as default
};
