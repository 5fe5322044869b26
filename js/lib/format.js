// How numbers read in the widgets' tables: counts as whole numbers, figures with three decimals.

/** Columns that count pairs or models: shown as whole numbers, never "0.000". */
export const COUNT_COLUMNS = new Set(["pairs", "scored", "gold_missing", "trained_on", "folds", "pairs_used", "rows", "texts_per_s_cpu", "texts_per_s_gpu"]);

/**
 * The text of one table cell (pure: unit-tested).
 * @param {string} column @param {unknown} value @returns {string}
 */
export function cellText(column, value) {
  if (typeof value !== "number") return value === null || value === undefined ? "" : String(value);
  if (!Number.isFinite(value)) return "";
  if (COUNT_COLUMNS.has(column) || (Number.isInteger(value) && Math.abs(value) >= 100)) return Math.round(value).toLocaleString("en");
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(3);
}

/** Tick positions on a [0, 1] axis and their labels. @returns {[number, string][]} */
export function unitTicks() {
  return [0, 0.25, 0.5, 0.75, 1].map((t) => [t, t === 0 || t === 1 ? String(t) : t.toFixed(2)]);
}

/** A label value as written (float32 noise removed: 0.800000011920929 reads 0.8). @param {number} v */
export function labelText(v) {
  return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : "none";
}
