// Pure helpers of the heatmap: painting with a threshold mask, locating the cell under the mouse.
import { diverging, viridis } from "./colors.js";

export const MASK_RGB = [230, 230, 230];

/**
 * Paint a row-major matrix into RGBA pixels, one pixel per cell. Cells below the threshold
 * (or NaN) are grey, so moving the threshold needs no kernel round trip.
 * @param {ArrayLike<number>} values
 * @param {number} threshold cells with value < threshold are masked (-Infinity: none)
 * @param {{low: number, high: number, diverging?: boolean}} scale
 * @param {Uint8ClampedArray} [out] reused output buffer
 * @returns {{pixels: Uint8ClampedArray, masked: number}}
 */
export function paint(values, threshold, scale, out) {
  const n = values.length;
  const pixels = out && out.length === n * 4 ? out : new Uint8ClampedArray(n * 4);
  const span = scale.high - scale.low || 1;
  const colour = scale.diverging ? diverging : viridis;
  // a 256-entry lookup table keeps the loop free of function calls
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = scale.diverging ? (i / 255) * 2 - 1 : i / 255;
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
      const k = Math.max(0, Math.min(255, Math.round(((v - scale.low) / span) * 255))) * 3;
      pixels[o] = lut[k];
      pixels[o + 1] = lut[k + 1];
      pixels[o + 2] = lut[k + 2];
    }
    pixels[o + 3] = 255;
  }
  return { pixels, masked };
}

/**
 * Colour of every cell, packed as little-endian RGBA in a Uint32Array (computed once per
 * matrix and scale, so that a threshold change only has to choose colour or grey per cell).
 * @param {ArrayLike<number>} values
 * @param {{low: number, high: number, diverging?: boolean}} scale
 * @returns {Uint32Array}
 */
export function cellColours(values, scale) {
  const { pixels } = paint(values, -Infinity, scale);
  return new Uint32Array(pixels.buffer);
}

const MASK32 = new Uint32Array(new Uint8ClampedArray([...MASK_RGB, 255]).buffer)[0];

/**
 * Write the masked picture into `out`: a cell's colour where value >= threshold, else grey.
 * One 32-bit write per cell: fast enough to follow a slider over millions of cells.
 * @param {ArrayLike<number>} values @param {Uint32Array} colours @param {number} threshold
 * @param {Uint32Array} out
 * @returns {number} cells masked
 */
export function mask(values, colours, threshold, out) {
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

/**
 * Incremental masking: cells grouped once into value buckets (a counting sort, O(n)), so
 * moving the threshold only rewrites the cells of the buckets it crosses, plus the cells of
 * the bucket it lands in, checked one by one. The masked count comes with it.
 * @param {ArrayLike<number>} values
 * @param {Uint32Array} colours  from cellColours
 * @param {Uint32Array} out      the picture, updated in place
 * @param {number} [buckets]
 */
export function maskUpdater(values, colours, out, buckets = 65536) {
  const n = values.length;
  let low = Infinity, high = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v < low) low = v;
    if (v > high) high = v;
  }
  const span = high > low ? high - low : 1;
  const B = buckets;
  const bucketOf = (v) => Math.min(B - 1, Math.max(0, Math.floor(((v - low) / span) * B)));
  const start = new Uint32Array(B + 1);
  const ids = new Int32Array(n);
  let nans = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (Number.isNaN(v)) { ids[i] = -1; nans++; continue; }
    ids[i] = bucketOf(v);
    start[ids[i] + 1]++;
  }
  for (let b = 0; b < B; b++) start[b + 1] += start[b];
  const order = new Uint32Array(n - nans);
  const fill = start.slice(0, B);
  for (let i = 0; i < n; i++) if (ids[i] >= 0) order[fill[ids[i]]++] = i;
  mask(values, colours, -Infinity, out); // NaN cells grey, the rest coloured
  let cut = 0; // buckets [0, cut) are wholly masked
  let edge = -1; // the bucket whose cells were last checked one by one
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
      else { inside = bucketOf(threshold); target = inside; }
      if (edge >= 0) { paintBucket(edge, edge < cut); edge = -1; }
      for (let b = cut; b < target; b++) paintBucket(b, true);
      for (let b = target; b < cut; b++) paintBucket(b, false);
      cut = target;
      let masked = nans + start[cut];
      if (inside >= 0) {
        for (let k = start[inside]; k < start[inside + 1]; k++) {
          const i = order[k];
          if (values[i] >= threshold) out[i] = colours[i];
          else { out[i] = MASK32; masked++; }
        }
        edge = inside;
      }
      return masked;
    },
  };
}

/**
 * Cell (row, col) under a point of a canvas drawn at any CSS size, or null outside it.
 * @param {number} x @param {number} y offsets inside the element, CSS pixels
 * @param {number} width @param {number} height CSS size of the element
 * @param {number} rows @param {number} cols
 */
export function cellAt(x, y, width, height, rows, cols) {
  const col = Math.floor((x / width) * cols);
  const row = Math.floor((y / height) * rows);
  if (row < 0 || col < 0 || row >= rows || col >= cols) return null;
  return { row, col };
}

/**
 * Where the labels of one axis go: at most one label per 9 pixels of the axis (every k-th
 * label when there are more), each centred on its cell, cut to 24 characters (pure: unit-tested).
 * @param {string[]} names @param {number} length the axis' length in pixels
 * @returns {{text: string, at: number, size: number}[]}
 */
export function axisLabels(names, length) {
  const n = names.length;
  if (!n || !(length > 0)) return [];
  const cell = length / n;
  const step = Math.max(1, Math.ceil(9 / cell));
  const size = Math.max(8, Math.min(11, Math.floor(cell * step) - 1));
  const out = [];
  for (let i = 0; i < n; i += step) {
    const text = String(names[i] ?? "");
    out.push({ text: text.length > 24 ? `${text.slice(0, 23)}…` : text, at: (i + 0.5) * cell - size / 2, size });
  }
  return out;
}
