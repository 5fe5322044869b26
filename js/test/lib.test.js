// Unit tests of the pure helpers (node's own test runner: `node --test js/test/`).
import assert from "node:assert/strict";
import { test } from "node:test";

import { decodeArray } from "../lib/arrays.js";
import { category, diverging, viridis } from "../lib/colors.js";
import { MASK_RGB, cellAt, paint } from "../lib/heatmap.js";
import { listeners, throttle } from "../lib/dom.js";
import { liftText, scoreRange } from "../lib/threshold.js";

test("decodeArray honours the DataView's byte offset and length", () => {
  const backing = new ArrayBuffer(4 + 4 * 6);
  const floats = new Float32Array(backing, 4, 6);
  floats.set([0, 1, 2, 3, 4, 5]);
  const view = new DataView(backing, 4, 24);
  const { data, shape } = decodeArray({ buffer: view, dtype: "float32", shape: [2, 3] });
  assert.deepEqual(Array.from(data), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(shape, [2, 3]);
});

test("decodeArray copies unaligned buffers and knows every wire dtype", () => {
  const backing = new Uint8Array(1 + 8);
  new DataView(backing.buffer).setInt32(1, -7, true);
  new DataView(backing.buffer).setInt32(5, 9, true);
  const view = new DataView(backing.buffer, 1, 8);
  assert.deepEqual(Array.from(decodeArray({ buffer: view, dtype: "int32", shape: [2] }).data), [-7, 9]);
  for (const dtype of ["float32", "float64", "int32", "uint32", "int16", "uint16", "int8", "uint8"]) {
    assert.ok(decodeArray({ buffer: new DataView(new ArrayBuffer(8)), dtype, shape: [1] }));
  }
  assert.throws(() => decodeArray({ buffer: new DataView(new ArrayBuffer(8)), dtype: "int64", shape: [1] }));
  assert.equal(decodeArray(null), null);
});

test("colour scales run from end to end", () => {
  assert.deepEqual(viridis(0), [68, 1, 84]);
  assert.deepEqual(viridis(1), [253, 231, 37]);
  assert.deepEqual(diverging(0), [247, 247, 247]);
  assert.deepEqual(viridis(Number.NaN), viridis(0));
  assert.deepEqual(category(10), category(0));
});

test("paint masks cells below the threshold and NaN", () => {
  const values = new Float32Array([0.1, 0.5, 0.9, Number.NaN]);
  const { pixels, masked } = paint(values, 0.5, { low: 0, high: 1 });
  assert.equal(masked, 2);
  assert.deepEqual(Array.from(pixels.slice(0, 3)), MASK_RGB);
  assert.deepEqual(Array.from(pixels.slice(12, 15)), MASK_RGB);
  assert.notDeepEqual(Array.from(pixels.slice(4, 7)), MASK_RGB);
  assert.equal(paint(values, -Infinity, { low: 0, high: 1 }).masked, 1);
});

test("cellAt maps CSS coordinates to cells", () => {
  assert.deepEqual(cellAt(15, 5, 100, 50, 5, 10), { row: 0, col: 1 });
  assert.equal(cellAt(100, 5, 100, 50, 5, 10), null);
  assert.equal(cellAt(-1, 5, 100, 50, 5, 10), null);
});

test("throttle calls at once, then once more with the latest call", async () => {
  let calls = 0;
  const fn = throttle(() => calls++, 30);
  fn();
  fn();
  fn();
  assert.equal(calls, 1);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(calls, 2);
  fn.cancel();
});

import { countsAt, histogram, nearThreshold } from "../lib/threshold.js";

test("histogram counts finite values into bins, with an optional filter", () => {
  const v = [0, 0.1, 0.5, 0.99, 1, Number.NaN];
  assert.deepEqual(histogram(v, 2, 0, 1), [2, 3]);
  assert.deepEqual(histogram(v, 2, 0, 1, (i) => i < 2), [2, 0]);
});

test("countsAt gives kept, removed, precision, recall and F1", () => {
  const scores = [0.9, 0.8, 0.7, 0.4, 0.3, Number.NaN];
  const labels = [1, 1, 0, 1, 0, 1];
  const c = countsAt(scores, labels, 0.5, 0.5);
  assert.equal(c.kept, 3);
  assert.equal(c.removed, 3);
  assert.equal(c.tp, 2);
  assert.equal(c.fp, 1);
  assert.equal(c.fn, 2); // 0.4 and the NaN score are removed positives
  assert.ok(Math.abs(c.precision - 2 / 3) < 1e-12);
  assert.ok(Math.abs(c.recall - 0.5) < 1e-12);
  assert.ok(Math.abs(c.f1 - 4 / 7) < 1e-12);
  assert.ok(Number.isNaN(countsAt(scores, null, 0.5, 0.5).precision));
});

test("nearThreshold lists the closest pairs on each side", () => {
  const near = nearThreshold([0.9, 0.55, 0.45, 0.1, 0.5], 0.5, 2);
  assert.deepEqual(near.above, [4, 1]);
  assert.deepEqual(near.below, [2, 3]);
});

import { buildGrid, inBox, nearest } from "../lib/spatial.js";

test("the grid finds the nearest point and boxes select points", () => {
  const xy = new Float32Array([0, 0, 1, 1, 2, 2, 10, 10, 10.2, 10]);
  const grid = buildGrid(xy, 8);
  assert.equal(nearest(grid, xy, 1.1, 0.9, 0.5), 1);
  assert.equal(nearest(grid, xy, 10.15, 10, 0.5), 4);
  assert.equal(nearest(grid, xy, 5, 5, 0.5), -1);
  assert.deepEqual(inBox(xy, 2.5, 2.5, -1, -1), [0, 1, 2]);
});

import { cellColours, mask } from "../lib/heatmap.js";

test("mask picks the cell colour or grey, like paint", () => {
  const values = new Float32Array([0.1, 0.5, 0.9, Number.NaN]);
  const colours = cellColours(values, { low: 0, high: 1 });
  const out = new Uint32Array(4);
  assert.equal(mask(values, colours, 0.5, out), 2);
  const expected = new Uint32Array(paint(values, 0.5, { low: 0, high: 1 }).pixels.buffer);
  assert.deepEqual(Array.from(out), Array.from(expected));
});

import { maskUpdater } from "../lib/heatmap.js";

test("the incremental mask equals a full repaint at every threshold, NaN always masked", () => {
  const values = new Float32Array([0.1, 0.9, Number.NaN, 0.5, 0.5, 0.3, 0.7]);
  const colours = cellColours(values, { low: 0, high: 1 });
  const out = new Uint32Array(values.length);
  const updater = maskUpdater(values, colours, out);
  for (const t of [0.5, 0.2, 0.95, -Infinity, 0.5, 0.3, 0.31, 0]) {
    const expected = new Uint32Array(values.length);
    const count = mask(values, colours, t, expected);
    assert.equal(updater.set(t), count, `count at ${t}`);
    assert.deepEqual(Array.from(out), Array.from(expected), `pixels at ${t}`);
  }
});

test("the Canvas 2D renderer draws before the canvas is attached to the page", async () => {
  const { pointRenderer } = await import("../lib/points.js");
  const rects = [];
  const ctx = { clearRect() {}, fillRect(x, y) { rects.push([x, y]); }, set fillStyle(_) {} };
  // a detached canvas: no layout yet (clientWidth 0), CSS size set by the widget
  const canvas = { width: 200, height: 100, clientWidth: 0, clientHeight: 0, style: { width: "100px", height: "50px" },
                   getContext: (kind) => (kind === "2d" ? ctx : null) };
  const renderer = pointRenderer(canvas, { forceCanvas2d: true });
  renderer.setData(new Float32Array([0, 0, 10, 5]), new Uint8Array([1, 2, 3, 4, 5, 6]));
  renderer.draw({ cx: 0, cy: 0, scale: 2 }, 2);
  assert.equal(rects.length, 2);
  // device-pixel ratio 2: data (10, 5) lands at CSS (70, 15), device (140, 30), minus half the 4-px point
  assert.deepEqual(rects[1], [138, 28]);
});

test("listeners removes every DOM and model listener it registered", () => {
  const target = new EventTarget();
  const calls = [];
  const handlers = new Map();
  const model = {
    on: (name, fn) => handlers.set(name, fn),
    off: (name, fn) => {
      if (handlers.get(name) === fn) handlers.delete(name);
    },
  };
  const on = listeners();
  const onPing = () => calls.push("ping");
  on.dom(target, "ping", onPing, { passive: true });
  on.model(model, "change:x", onPing);
  target.dispatchEvent(new Event("ping"));
  assert.deepEqual(calls, ["ping"]);
  assert.equal(handlers.size, 1);
  on.dispose();
  target.dispatchEvent(new Event("ping"));
  assert.deepEqual(calls, ["ping"]); // the DOM listener is gone
  assert.equal(handlers.size, 0);
  on.dispose(); // a second dispose does nothing
  assert.equal(handlers.size, 0);
});

test("scoreRange fits the scores, the random pairs and the threshold, or spans -1 to 1", () => {
  const row = new Float32Array([0.91, 0.95, NaN, 0.99]);
  const nulls = new Float32Array([0.9, 0.97]);
  const { low, high } = scoreRange(row, nulls, 0.93, false);
  assert.ok(low < 0.9 && low > 0.85 && high > 0.99 && high <= 1, `${low} ${high}`);
  assert.ok(scoreRange(row, nulls, 0.2, false).low < 0.2);  // the threshold stays inside
  assert.deepEqual(scoreRange(row, nulls, 0.93, true), { low: -1, high: 1 });
  assert.deepEqual(scoreRange(new Float32Array([NaN]), new Float32Array(0), NaN, false), { low: -1, high: 1 });
});

test("liftText says more error when the stacked model is worse", () => {
  assert.equal(liftText(0.15, "minilm"), "15.0% less error than minilm");
  assert.equal(liftText(-0.13, "minilm"), "13.0% more error than minilm (worse than the best single model)");
});

test("rpc pairs replies with requests by id, rejects errors and stale answers find nobody", async () => {
  const { rpc } = await import("../lib/rpc.js");
  const handlers = new Set();
  const sent = [];
  const model = {
    send: (m) => sent.push(m),
    on: (name, fn) => name === "msg:custom" && handlers.add(fn),
    off: (name, fn) => handlers.delete(fn),
  };
  const reply = (m) => handlers.forEach((fn) => fn(m));
  const calls = rpc(model, { timeout: 200 });
  const first = calls.request("neighbours", { index: 1 });
  const second = calls.request("neighbours", { index: 2 });
  assert.deepEqual(sent.map((m) => [m.type, m.id, m.method, m.params.index]), [
    ["rpc-request", 1, "neighbours", 1],
    ["rpc-request", 2, "neighbours", 2],
  ]);
  assert.equal(calls.latest, 2);
  reply({ type: "rpc-reply", id: 2, ok: false, error: "IndexError: no such point" }); // answers arrive out of order
  reply({ type: "rpc-reply", id: 1, ok: true, result: { index: 1, neighbours: [4, 5] } });
  assert.deepEqual(await first, { index: 1, neighbours: [4, 5] });
  await assert.rejects(second, /IndexError: no such point/);
  reply({ type: "rpc-reply", id: 1, ok: true, result: "late duplicate" }); // nobody waits: ignored
  calls.cancelLatest();
  assert.equal(calls.latest, 3);
  await assert.rejects(calls.request("neighbours", {}), /no answer from Python in 0.2 s/);
  const open = calls.request("neighbours", {});
  calls.dispose();
  await assert.rejects(open, /closed/);
  assert.equal(handlers.size, 0);
});

test("the labeller's keys map to labels, skip and undo; other keys do nothing", async () => {
  const { actionOf } = await import("../lib/labeler.js");
  const choices = [
    { value: 0, name: "0", key: "0" },
    { value: 0.5, name: "0.5", key: "5" },
    { value: 1, name: "1", key: "1" },
  ];
  assert.deepEqual(actionOf("5", choices, "s", ["u", "Backspace"]), { method: "label", params: { value: 0.5 } });
  assert.deepEqual(actionOf("s", choices, "s", ["u", "Backspace"]), { method: "skip", params: {} });
  assert.deepEqual(actionOf("Backspace", choices, "s", ["u", "Backspace"]), { method: "undo", params: {} });
  assert.equal(actionOf("x", choices, "s", ["u", "Backspace"]), null);
});

test("the labeller's progress line gives the margin and the labels still needed", async () => {
  const { progressText } = await import("../lib/labeler.js");
  const line = progressText({
    labelled: 40, random: 20, total: 376, remaining: 336, similar_share: 0.25, margin: 0.19,
    confidence: 0.95, target_margin: 0.03, more_needed: 780, path: "labels.csv",
  });
  assert.equal(line, "40 labelled (20 in the random stratum) of 376 · similar share 25.0% ± 19.0% at 95% · 780 more random labels for ± 3.0%");
  assert.match(progressText({ labelled: 0, random: 0, total: 5, similar_share: null, margin: null, confidence: 0.99, target_margin: 0.05, more_needed: 0 }), /± 5.0% reached/);
  // what counts as similar, the Wilson interval, and "reached" only when Python says so
  const one = progressText({
    labelled: 1, random: 1, total: 300, similar_share: 1, interval: [0.2066, 1], margin: 0.793, confidence: 0.95,
    target_margin: 0.03, reached: false, more_needed: 29, label_cut: 0.5,
  });
  assert.match(progressText({ ...{ labelled: 0, random: 0, total: 300, in_file: 5, similar_share: null, margin: null,
    confidence: 0.95, target_margin: 0.03, reached: false, more_needed: 30 } }), /^0 labelled \(0 in the random stratum\) of 300 · 5 more in the file, of pairs not in this table · /);
  assert.equal(one, "1 labelled (1 in the random stratum) of 300 · similar (label ≥ 0.5) share 100.0% [20.7%, 100.0%] at 95% · 29 more random labels for ± 3.0%");
});

test("the labeller's progress line shows a learning curve when there is one", async () => {
  const { progressText } = await import("../lib/labeler.js");
  const base = { labelled: 40, random: 20, total: 376, similar_share: 0.25, margin: 0.19, confidence: 0.95,
    target_margin: 0.03, more_needed: 780 };
  const line = progressText({ ...base, learning_curve: { metric: "spearman", trainers: [
    { name: "minilm-ft", points: [[10, 0.7], [20, 0.75]], next: 55 },
    { name: "minilm-ft-simcse", points: [[10, 0.72]], next: null }] } });
  assert.match(line, / · minilm-ft spearman: 0\.700 at 10, 0\.750 at 20; the next \+0\.01 at about 55 labels · /);
  assert.match(line, /minilm-ft-simcse spearman: 0\.720 at 10; the next \+0\.01: not yet known$/);
  assert.equal(progressText(base).includes("spearman"), false);
});

test("the tuner's out-of-sample line shows both thresholds and the intervals", async () => {
  const { choiceText } = await import("../lib/threshold.js");
  const line = choiceText({
    objective: "f1", threshold: 0.61, in_sample_threshold: 0.61, in_sample_f1: 0.72, folds: 5,
    f1: [0.68, 0.62, 0.74], precision: [0.7, 0.6, 0.8], recall: [0.66, 0.55, 0.77], kept_share: [0.4, 0.35, 0.45],
  });
  assert.match(line, /^in sample \(flatters\): best F1 0.720 at 0.610 · out of sample \(f1, chosen on 4 of 5 folds\): F1 0.680 \[0.620, 0.740\]/);
  assert.equal(choiceText({ why: "too few" }), "no out-of-sample threshold: too few");
  const missed = choiceText({
    objective: "precision>=0.9", threshold: 0.7, in_sample_threshold: 0.6, in_sample_f1: 0.7, folds: 5,
    f1: [0.6, 0.5, 0.7], precision: [0.85, 0.67, 1], recall: [0.5, 0.4, 0.6], kept_share: [0.3, 0.25, 0.35],
    target: "target precision>=0.9 missed: out of sample precision 0.850",
  });
  assert.match(missed, / · target precision>=0.9 missed: out of sample precision 0.850$/);
});

test("the comparison marks a paired difference real only when its interval excludes zero", async () => {
  const { differenceRows } = await import("../comparison.js");
  const rows = differenceRows([
    { model_a: "a", model_b: "b", metric: "spearman", diff: 0.05, diff_low: 0.01, diff_high: 0.09, p_a_better: 0.99, real: true },
    { model_a: "a", model_b: "c", metric: "spearman", diff: 0.01, diff_low: -0.02, diff_high: 0.04, p_a_better: 0.7, real: false },
  ]);
  assert.equal(rows[0].difference, "real");
  assert.equal(rows[1].difference, "not shown (interval includes 0)");
  assert.equal(rows[0]["95% interval"], "[0.010, 0.090]");
});

test("table cells: counts as whole numbers, figures with three decimals, labels without float32 noise", async () => {
  const { cellText, labelText, unitTicks } = await import("../lib/format.js");
  assert.equal(cellText("gold_missing", 0), "0");
  assert.equal(cellText("pairs", 1500), "1,500");
  assert.equal(cellText("spearman", 1), "1.000");
  assert.equal(cellText("roc_auc", 0.81234), "0.812");
  assert.equal(cellText("spearman", NaN), "");
  assert.equal(cellText("model", "minilm"), "minilm");
  assert.equal(cellText("spearman", null), "");
  assert.equal(labelText(Math.fround(0.8)), "0.8");
  assert.deepEqual(unitTicks().map(([t]) => t), [0, 0.25, 0.5, 0.75, 1]);
});

test("heatmap axis labels: one per cell when they fit, every k-th when they do not", async () => {
  const { axisLabels } = await import("../lib/heatmap.js");
  const few = axisLabels(["a", "b", "c", "d"], 240);
  assert.equal(few.length, 4);
  assert.equal(few[0].text, "a");
  assert.ok(few[1].at > few[0].at);
  const many = axisLabels(Array.from({ length: 400 }, (_, i) => `word${i}`), 400);
  assert.ok(many.length <= 45 && many.length >= 40, String(many.length));
  assert.equal(axisLabels(["x".repeat(40)], 100)[0].text.length, 24);
  assert.deepEqual(axisLabels([], 100), []);
});

test("the log-level line reads the estimates at the nearest grid threshold", async () => {
  const { logText } = await import("../lib/threshold.js");
  const grid = [0.5, 0.6].map((t) => ({ threshold: t, kept: 1000 * t, kept_share: t, precision: t, precision_low: t - 0.1,
    precision_high: t + 0.1, recall: 0.9, recall_low: 0.8, recall_high: 1, good_lost: 12.4 }));
  const text = logText(grid, 0.58);
  assert.ok(text.startsWith("on the whole log at 0.600: keeps 600 rows (60.0%), precision 0.600 [0.500, 0.700]"), text);
  assert.ok(text.includes("good pairs lost about 12"));
  assert.equal(logText([], 0.5), "");
});
