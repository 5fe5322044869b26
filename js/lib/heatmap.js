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
