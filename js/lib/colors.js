// Colour scales: sequential (viridis) and diverging (blue-white-red), as RGB byte triples.

const VIRIDIS = [
  [68, 1, 84], [72, 35, 116], [64, 67, 135], [52, 94, 141], [41, 120, 142],
  [32, 144, 140], [34, 167, 132], [68, 190, 112], [121, 209, 81], [189, 222, 38], [253, 231, 37],
];
const DIVERGING = [
  [5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240], [247, 247, 247],
  [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31],
];

/** @param {number[][]} stops @param {number} t in [0, 1] @returns {number[]} */
function interpolate(stops, t) {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i], b = stops[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f));
}

/** Sequential scale. @param {number} t in [0, 1] */
export const viridis = (t) => interpolate(VIRIDIS, t);
/** Diverging scale. @param {number} t in [-1, 1]; 0 is white */
export const diverging = (t) => interpolate(DIVERGING, (t + 1) / 2);

/** A categorical palette (Tableau 10), cycled. @param {number} i */
export function category(i) {
  const palette = [
    [78, 121, 167], [242, 142, 43], [225, 87, 89], [118, 183, 178], [89, 161, 79],
    [237, 201, 72], [176, 122, 161], [255, 157, 167], [156, 117, 95], [186, 176, 172],
  ];
  return palette[((i % palette.length) + palette.length) % palette.length];
}

/** CSS colour of an RGB triple. @param {number[]} rgb */
export const css = (rgb) => `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;
