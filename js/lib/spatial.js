// A uniform grid over 2-D points: the nearest point to the mouse among hundreds of thousands.

/**
 * @param {Float32Array} xy interleaved x, y
 * @param {number} cells cells per side
 */
export function buildGrid(xy, cells = 256) {
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
  // counting sort of the points by cell
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

/**
 * Nearest point to (x, y) within `radius` (data units), or -1.
 * @param {ReturnType<typeof buildGrid>} grid @param {Float32Array} xy
 * @param {number} x @param {number} y @param {number} radius
 */
export function nearest(grid, xy, x, y, radius) {
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
        if (d <= bestD) { bestD = d; best = i; }
      }
    }
  }
  return best;
}

/** Indices of points inside a box (data units). */
export function inBox(xy, x0, y0, x1, y1) {
  const [lx, hx] = x0 < x1 ? [x0, x1] : [x1, x0];
  const [ly, hy] = y0 < y1 ? [y0, y1] : [y1, y0];
  const out = [];
  for (let i = 0; i < xy.length / 2; i++) {
    const x = xy[2 * i], y = xy[2 * i + 1];
    if (x >= lx && x <= hx && y >= ly && y <= hy) out.push(i);
  }
  return out;
}
