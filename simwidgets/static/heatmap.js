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

// lib/colors.js
var VIRIDIS = [
  [68, 1, 84],
  [72, 35, 116],
  [64, 67, 135],
  [52, 94, 141],
  [41, 120, 142],
  [32, 144, 140],
  [34, 167, 132],
  [68, 190, 112],
  [121, 209, 81],
  [189, 222, 38],
  [253, 231, 37]
];
var DIVERGING = [
  [5, 48, 97],
  [33, 102, 172],
  [67, 147, 195],
  [146, 197, 222],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [244, 165, 130],
  [214, 96, 77],
  [178, 24, 43],
  [103, 0, 31]
];
function interpolate(stops, t) {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i], b = stops[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f));
}
var viridis = (t) => interpolate(VIRIDIS, t);
var diverging = (t) => interpolate(DIVERGING, (t + 1) / 2);

// lib/heatmap.js
var MASK_RGB = [230, 230, 230];
function paint(values, threshold, scale, out) {
  const n = values.length;
  const pixels = out && out.length === n * 4 ? out : new Uint8ClampedArray(n * 4);
  const span = scale.high - scale.low || 1;
  const colour = scale.diverging ? diverging : viridis;
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = scale.diverging ? i / 255 * 2 - 1 : i / 255;
    const rgb = colour(t);
    lut[i * 3] = rgb[0];
    lut[i * 3 + 1] = rgb[1];
    lut[i * 3 + 2] = rgb[2];
  }
  let masked = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const o = i * 4;
    if (!(v >= threshold)) {
      pixels[o] = MASK_RGB[0];
      pixels[o + 1] = MASK_RGB[1];
      pixels[o + 2] = MASK_RGB[2];
      masked++;
    } else {
      const k = Math.max(0, Math.min(255, Math.round((v - scale.low) / span * 255))) * 3;
      pixels[o] = lut[k];
      pixels[o + 1] = lut[k + 1];
      pixels[o + 2] = lut[k + 2];
    }
    pixels[o + 3] = 255;
  }
  return { pixels, masked };
}
function cellColours(values, scale) {
  const { pixels } = paint(values, -Infinity, scale);
  return new Uint32Array(pixels.buffer);
}
var MASK32 = new Uint32Array(new Uint8ClampedArray([...MASK_RGB, 255]).buffer)[0];
function mask(values, colours, threshold, out) {
  let masked = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] >= threshold) out[i] = colours[i];
    else {
      out[i] = MASK32;
      masked++;
    }
  }
  return masked;
}
function maskUpdater(values, colours, out, buckets = 65536) {
  const n = values.length;
  let low = Infinity, high = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v < low) low = v;
    if (v > high) high = v;
  }
  const span = high > low ? high - low : 1;
  const B = buckets;
  const bucketOf = (v) => Math.min(B - 1, Math.max(0, Math.floor((v - low) / span * B)));
  const start = new Uint32Array(B + 1);
  const ids = new Int32Array(n);
  let nans = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (Number.isNaN(v)) {
      ids[i] = -1;
      nans++;
      continue;
    }
    ids[i] = bucketOf(v);
    start[ids[i] + 1]++;
  }
  for (let b = 0; b < B; b++) start[b + 1] += start[b];
  const order = new Uint32Array(n - nans);
  const fill = start.slice(0, B);
  for (let i = 0; i < n; i++) if (ids[i] >= 0) order[fill[ids[i]]++] = i;
  mask(values, colours, -Infinity, out);
  let cut = 0;
  let edge = -1;
  const paintBucket = (b, masked) => {
    for (let k = start[b]; k < start[b + 1]; k++) {
      const i = order[k];
      out[i] = masked ? MASK32 : colours[i];
    }
  };
  return {
    /** @param {number} threshold @returns {number} cells masked */
    set(threshold) {
      let target, inside = -1;
      if (threshold === -Infinity || threshold <= low) target = 0;
      else if (threshold > high) target = B;
      else {
        inside = bucketOf(threshold);
        target = inside;
      }
      if (edge >= 0) {
        paintBucket(edge, edge < cut);
        edge = -1;
      }
      for (let b = cut; b < target; b++) paintBucket(b, true);
      for (let b = target; b < cut; b++) paintBucket(b, false);
      cut = target;
      let masked = nans + start[cut];
      if (inside >= 0) {
        for (let k = start[inside]; k < start[inside + 1]; k++) {
          const i = order[k];
          if (values[i] >= threshold) out[i] = colours[i];
          else {
            out[i] = MASK32;
            masked++;
          }
        }
        edge = inside;
      }
      return masked;
    }
  };
}
function cellAt(x, y, width, height, rows, cols) {
  const col = Math.floor(x / width * cols);
  const row = Math.floor(y / height * rows);
  if (row < 0 || col < 0 || row >= rows || col >= cols) return null;
  return { row, col };
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

// heatmap.js
var fmt = (v) => Number.isFinite(v) ? v.toFixed(3) : "n/a";
function render({ model, el: root }) {
  const canvas = el("canvas", { className: "sw-heat-canvas" });
  const slider = el("input", { type: "range", className: "sw-threshold", step: "0.01" });
  const readout = el("span", { className: "sw-readout" });
  const title = el("span", { className: "sw-title" });
  const pinned = el("span", { className: "sw-pinned" });
  const tip = el("div", { className: "sw-tip" });
  const wrap = el("div", { className: "sw-heat-wrap" }, [canvas, tip]);
  const header = el("div", { className: "sw-header" }, [title, el("label", {}, ["threshold ", slider]), readout, pinned]);
  const container = el("div", { className: "simwidgets sw-heatmap" }, [header, wrap]);
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
    canvas.style.width = `${Math.round(side * cols / Math.max(rows, cols))}px`;
    canvas.style.height = `${Math.round(side * rows / Math.max(rows, cols))}px`;
    image = ctx.createImageData(Math.max(cols, 1), Math.max(rows, 1));
    const [low, high] = model.get("value_range");
    const colours = cellColours(matrix, { low, high, diverging: model.get("diverging") });
    updater = maskUpdater(matrix, colours, new Uint32Array(image.data.buffer));
    slider.min = String(low);
    slider.max = String(high);
    const names = model.get("model_names");
    title.textContent = names.length === 2 ? `${names[0]} \u2212 ${names[1]}` : names[0] || "";
    draw(currentThreshold());
  }
  function currentThreshold() {
    const value = model.get("threshold");
    slider.value = value === null ? slider.min : String(value);
    return value === null ? -Infinity : value;
  }
  function draw(threshold) {
    if (!rows || !cols) return;
    const masked = updater.set(threshold);
    ctx.putImageData(image, 0, 0);
    renders += 1;
    canvas.dataset.renders = String(renders);
    canvas.dataset.threshold = Number.isFinite(threshold) ? String(threshold) : "";
    canvas.dataset.masked = String(masked);
    readout.textContent = Number.isFinite(threshold) ? `\u2265 ${threshold.toFixed(2)}: ${rows * cols - masked} of ${rows * cols} cells` : `${rows * cols} cells`;
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
    draw(Number(slider.value));
    sendThreshold();
  }
  function cellOf(event) {
    const box = canvas.getBoundingClientRect();
    return cellAt(event.clientX - box.left, event.clientY - box.top, box.width, box.height, rows, cols);
  }
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
    showTip(tip, `${rowText} \xD7 ${colText}: ${scores}`, event.clientX - box.left, event.clientY - box.top);
  }
  function onLeave() {
    tip.style.display = "none";
  }
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
var heatmap_default = { render };
export {
  heatmap_default as default
};
