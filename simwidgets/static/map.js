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
function interpolate(stops, t) {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i], b = stops[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f));
}
var viridis = (t) => interpolate(VIRIDIS, t);
function category(i) {
  const palette = [
    [78, 121, 167],
    [242, 142, 43],
    [225, 87, 89],
    [118, 183, 178],
    [89, 161, 79],
    [237, 201, 72],
    [176, 122, 161],
    [255, 157, 167],
    [156, 117, 95],
    [186, 176, 172]
  ];
  return palette[(i % palette.length + palette.length) % palette.length];
}
var css = (rgb) => `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;

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

// lib/points.js
var VERTEX = `
attribute vec2 a_pos; attribute vec3 a_col;
uniform vec2 u_center; uniform vec2 u_scale; uniform float u_size;
varying vec3 v_col;
void main() { gl_Position = vec4((a_pos - u_center) * u_scale, 0.0, 1.0); gl_PointSize = u_size; v_col = a_col; }`;
var FRAGMENT = `
precision mediump float; varying vec3 v_col;
void main() { gl_FragColor = vec4(v_col, 0.85); }`;
function pointRenderer(canvas, options = {}) {
  const cssWidth = () => parseFloat(canvas.style.width) || canvas.clientWidth || canvas.width;
  const cssHeight = () => parseFloat(canvas.style.height) || canvas.clientHeight || canvas.height;
  const gl = options.forceCanvas2d ? null : canvas.getContext("webgl", { antialias: false, preserveDrawingBuffer: true });
  let n = 0, xy = null, rgb = null;
  if (!gl) {
    const ctx = canvas.getContext("2d");
    return {
      kind: "canvas2d",
      setData(points, colours) {
        xy = points;
        rgb = colours;
        n = points.length / 2;
      },
      draw(view, size, stride = 1) {
        const { width, height } = canvas;
        const ratio = width / cssWidth();
        ctx.clearRect(0, 0, width, height);
        const s = Math.max(1, Math.round(size * ratio));
        for (let i = 0; i < n; i += stride) {
          const px = (xy[2 * i] - view.cx) * view.scale * ratio + width / 2;
          const py = height / 2 - (xy[2 * i + 1] - view.cy) * view.scale * ratio;
          if (px < -s || py < -s || px > width || py > height) continue;
          ctx.fillStyle = `rgb(${rgb[3 * i]},${rgb[3 * i + 1]},${rgb[3 * i + 2]})`;
          ctx.fillRect(px - s / 2, py - s / 2, s, s);
        }
      },
      destroy() {
      }
    };
  }
  const compile = (type, source) => {
    const shader = gl.createShader(type);
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    return shader;
  };
  const program = gl.createProgram();
  gl.attachShader(program, compile(gl.VERTEX_SHADER, VERTEX));
  gl.attachShader(program, compile(gl.FRAGMENT_SHADER, FRAGMENT));
  gl.linkProgram(program);
  gl.useProgram(program);
  const posBuffer = gl.createBuffer(), colBuffer = gl.createBuffer();
  const aPos = gl.getAttribLocation(program, "a_pos"), aCol = gl.getAttribLocation(program, "a_col");
  const uCenter = gl.getUniformLocation(program, "u_center");
  const uScale = gl.getUniformLocation(program, "u_scale");
  const uSize = gl.getUniformLocation(program, "u_size");
  gl.enable(gl.BLEND);
  gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
  return {
    kind: "webgl",
    setData(points, colours) {
      n = points.length / 2;
      gl.bindBuffer(gl.ARRAY_BUFFER, posBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, points, gl.STATIC_DRAW);
      gl.enableVertexAttribArray(aPos);
      gl.vertexAttribPointer(aPos, 2, gl.FLOAT, false, 0, 0);
      gl.bindBuffer(gl.ARRAY_BUFFER, colBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, colours, gl.STATIC_DRAW);
      gl.enableVertexAttribArray(aCol);
      gl.vertexAttribPointer(aCol, 3, gl.UNSIGNED_BYTE, true, 0, 0);
    },
    draw(view, size, stride = 1) {
      gl.viewport(0, 0, canvas.width, canvas.height);
      gl.clearColor(1, 1, 1, 1);
      gl.clear(gl.COLOR_BUFFER_BIT);
      gl.uniform2f(uCenter, view.cx, view.cy);
      gl.uniform2f(uScale, 2 * view.scale / cssWidth(), 2 * view.scale / cssHeight());
      gl.uniform1f(uSize, size * (canvas.width / cssWidth()));
      if (stride > 1) {
        gl.bindBuffer(gl.ARRAY_BUFFER, posBuffer);
        gl.vertexAttribPointer(aPos, 2, gl.FLOAT, false, 8 * stride, 0);
        gl.bindBuffer(gl.ARRAY_BUFFER, colBuffer);
        gl.vertexAttribPointer(aCol, 3, gl.UNSIGNED_BYTE, true, 3 * stride, 0);
        gl.drawArrays(gl.POINTS, 0, Math.floor(n / stride));
        gl.bindBuffer(gl.ARRAY_BUFFER, posBuffer);
        gl.vertexAttribPointer(aPos, 2, gl.FLOAT, false, 0, 0);
        gl.bindBuffer(gl.ARRAY_BUFFER, colBuffer);
        gl.vertexAttribPointer(aCol, 3, gl.UNSIGNED_BYTE, true, 0, 0);
      } else {
        gl.drawArrays(gl.POINTS, 0, n);
      }
    },
    destroy() {
      gl.deleteBuffer(posBuffer);
      gl.deleteBuffer(colBuffer);
      gl.deleteProgram(program);
    }
  };
}

// lib/spatial.js
function buildGrid(xy, cells = 256) {
  const n = xy.length / 2;
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i], y = xy[2 * i + 1];
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const w = (maxX - minX) / cells || 1, h = (maxY - minY) / cells || 1;
  const cellOf = (x, y) => {
    const cx = Math.min(cells - 1, Math.max(0, Math.floor((x - minX) / w)));
    const cy = Math.min(cells - 1, Math.max(0, Math.floor((y - minY) / h)));
    return cy * cells + cx;
  };
  const start = new Int32Array(cells * cells + 1);
  const cellIds = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    cellIds[i] = cellOf(xy[2 * i], xy[2 * i + 1]);
    start[cellIds[i] + 1]++;
  }
  for (let c = 0; c < cells * cells; c++) start[c + 1] += start[c];
  const order = new Int32Array(n);
  const fill = start.slice(0, cells * cells);
  for (let i = 0; i < n; i++) order[fill[cellIds[i]]++] = i;
  return { minX, minY, maxX, maxY, w, h, cells, start, order };
}
function nearest(grid, xy, x, y, radius) {
  const { minX, minY, w, h, cells, start, order } = grid;
  const x0 = Math.max(0, Math.floor((x - radius - minX) / w)), x1 = Math.min(cells - 1, Math.floor((x + radius - minX) / w));
  const y0 = Math.max(0, Math.floor((y - radius - minY) / h)), y1 = Math.min(cells - 1, Math.floor((y + radius - minY) / h));
  let best = -1, bestD = radius * radius;
  for (let cy = y0; cy <= y1; cy++) {
    for (let cx = x0; cx <= x1; cx++) {
      const c = cy * cells + cx;
      for (let k = start[c]; k < start[c + 1]; k++) {
        const i = order[k];
        const dx = xy[2 * i] - x, dy = xy[2 * i + 1] - y;
        const d = dx * dx + dy * dy;
        if (d <= bestD) {
          bestD = d;
          best = i;
        }
      }
    }
  }
  return best;
}
function inBox(xy, x0, y0, x1, y1) {
  const [lx, hx] = x0 < x1 ? [x0, x1] : [x1, x0];
  const [ly, hy] = y0 < y1 ? [y0, y1] : [y1, y0];
  const out = [];
  for (let i = 0; i < xy.length / 2; i++) {
    const x = xy[2 * i], y = xy[2 * i + 1];
    if (x >= lx && x <= hx && y >= ly && y <= hy) out.push(i);
  }
  return out;
}

// map.js
var WIDTH = 760;
var HEIGHT = 520;
var POINT = 3;
var LOD_POINTS = 25e3;
function render({ model, el: root }) {
  const search = el("input", { type: "search", className: "sw-search", placeholder: "search labels", value: model.get("search") });
  const status = el("span", { className: "sw-status" });
  const legend = el("div", { className: "sw-legend" });
  const base = el("canvas", { className: "sw-map-points" });
  const overlay = el("canvas", { className: "sw-map-overlay" });
  const tip = el("div", { className: "sw-tip" });
  const stage = el("div", { className: "sw-map-stage" }, [base, overlay, tip]);
  const container = el("div", { className: "simwidgets sw-map" }, [el("div", { className: "sw-header" }, [search, status]), stage, legend]);
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
    const table = Array.from({ length: 256 }, (_, k) => continuous ? viridis(k / 255) : category(k));
    for (let i = 0; i < codes.length; i++) rgb.set(table[codes[i]], 3 * i);
    const names = model.get("legend");
    legend.replaceChildren(
      ...continuous ? [el("span", {}, [`low ${names[0] ?? ""} `]), el("span", { className: "sw-swatch", style: `background: linear-gradient(90deg, ${css(viridis(0))}, ${css(viridis(0.5))}, ${css(viridis(1))})` }), el("span", {}, [` high ${names[1] ?? ""}`])] : names.map((name, k) => el("span", { className: "sw-legend-item" }, [el("span", { className: "sw-swatch", style: `background: ${css(category(k))}` }), name]))
    );
    return rgb;
  }
  function load(fit) {
    xy = decodeArray(model.get("coords")).data;
    renderer.setData(xy, colours());
    grid = buildGrid(xy);
    if (fit) {
      view = {
        cx: (grid.minX + grid.maxX) / 2,
        cy: (grid.minY + grid.maxY) / 2,
        scale: 0.92 * Math.min(WIDTH / (grid.maxX - grid.minX || 1), HEIGHT / (grid.maxY - grid.minY || 1))
      };
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
    for (const i of matches.slice(0, 2e3)) {
      const [px, py] = toPixel(i);
      octx.beginPath();
      octx.arc(px, py, 5, 0, 2 * Math.PI);
      octx.stroke();
    }
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
    status.textContent = `${xy.length / 2} points \xB7 ${model.get("method_shown").toUpperCase()} \xB7 ${model.get("status")}`;
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
  let drag = null;
  const local = (e) => {
    const r = overlay.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };
  const onDown = (e) => {
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
        draw(void 0, true);
      }
      return;
    }
    const p = toData(x, y);
    const i = grid ? nearest(grid, xy, p.x, p.y, 6 / view.scale) : -1;
    if (i < 0) {
      tip.style.display = "none";
      return;
    }
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
      if (i >= 0) model.send({ type: "neighbours", index: i, k: 10 });
      else {
        lines = null;
        draw();
      }
    }
    drag = null;
  };
  const onWheel = (e) => {
    e.preventDefault();
    const [x, y] = local(e);
    const before = toData(x, y);
    view.scale *= Math.exp(-e.deltaY * 15e-4);
    const after = toData(x, y);
    view.cx += before.x - after.x;
    view.cy += before.y - after.y;
    draw(void 0, true);
  };
  const onLeave = () => {
    tip.style.display = "none";
  };
  const onSearch = () => {
    findMatches();
    draw();
    model.set("search", search.value);
    sendSearch();
  };
  const sendSearch = throttle(() => model.save_changes(), 300);
  const onMessage = (msg) => {
    if (msg && msg.type === "neighbours") {
      lines = { index: msg.index, neighbours: msg.neighbours };
      overlay.dataset.lines = String(msg.neighbours.length);
      draw();
    }
  };
  const onCoords = () => load(true);
  const onColors = () => {
    renderer.setData(xy, colours());
    draw();
  };
  const on = listeners();
  on.dom(overlay, "mousedown", onDown);
  on.dom(overlay, "mousemove", onMove);
  on.dom(overlay, "mouseup", onUp);
  on.dom(overlay, "wheel", onWheel, { passive: false });
  on.dom(overlay, "mouseleave", onLeave);
  on.dom(search, "input", onSearch);
  on.model(model, "msg:custom", onMessage);
  on.model(model, "change:coords", onCoords);
  on.model(model, "change:colors", onColors);
  on.model(model, "change:status", draw);
  load(true);
  return () => {
    on.dispose();
    sendSelection.cancel();
    sendSearch.cancel();
    clearTimeout(settle);
    renderer.destroy();
    container.remove();
  };
}
var map_default = { render };
export {
  map_default as default
};
