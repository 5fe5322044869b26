// Pure helpers of the threshold tuner: histograms and the counts at a threshold.

/**
 * Counts per bin of the finite values, optionally only where `keep(i)` is true.
 * @param {ArrayLike<number>} values
 * @param {number} bins @param {number} low @param {number} high
 * @param {(i: number) => boolean} [keep]
 * @returns {number[]}
 */
export function histogram(values, bins, low, high, keep) {
  const counts = new Array(bins).fill(0);
  const width = (high - low) / bins || 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v) || (keep && !keep(i))) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor((v - low) / width)))]++;
  }
  return counts;
}

/**
 * What a threshold does: pairs kept (score >= threshold) and removed, and, with labels,
 * precision, recall and F1 of "kept" against "label >= cut". NaN scores count as removed;
 * NaN labels are left out of precision and recall.
 * @param {ArrayLike<number>} scores
 * @param {ArrayLike<number> | null} labels
 * @param {number} threshold
 * @param {number} cut
 */
export function countsAt(scores, labels, threshold, cut) {
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
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : NaN;
  return { kept, removed: scores.length - kept, tp, fp, fn, tn, precision, recall, f1 };
}

/**
 * Indices of the `k` scores just at or above the threshold and the `k` just below it.
 * @param {ArrayLike<number>} scores @param {number} threshold @param {number} k
 */
export function nearThreshold(scores, threshold, k) {
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

/**
 * The histogram's score axis: fitted to the finite scores of the pairs and of the random
 * pairs, with the threshold inside it and 5% padding each side, within [-1, 1]; or the
 * whole [-1, 1] when `full` (the user's "full range" box).
 * @param {ArrayLike<number>} row
 * @param {ArrayLike<number>} nullRow
 * @param {number} threshold
 * @param {boolean} full
 * @returns {{low: number, high: number}}
 */
export function scoreRange(row, nullRow, threshold, full) {
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
  if (Number.isFinite(threshold)) { low = Math.min(low, threshold); high = Math.max(high, threshold); }
  if (!(high >= low)) return { low: -1, high: 1 };
  const pad = Math.max(0.025, 0.05 * (high - low));
  return { low: Math.max(-1, low - pad), high: Math.min(1, high + pad) };
}

/**
 * How the stacked model compares with the best single model, in words that stay true when
 * it is worse: "13.0% less error than minilm" or "13.0% more error than minilm (worse than
 * the best single model)".
 * @param {number} lift  1 - ensemble error / best single error
 * @param {string} best
 */
export function liftText(lift, best) {
  const pct = (100 * Math.abs(lift)).toFixed(1);
  return lift >= 0 ? `${pct}% less error than ${best}` : `${pct}% more error than ${best} (worse than the best single model)`;
}

/**
 * The out-of-sample line of a model's threshold choice (the Python side's `choices[i]`).
 * @param {any} choice
 * @returns {string}
 */
export function choiceText(choice) {
  if (!choice) return "";
  if (choice.why) return `no out-of-sample threshold: ${choice.why}`;
  const f = (v) => (Number.isFinite(v) ? v.toFixed(3) : "n/a");
  const ci = ([v, lo, hi]) => `${f(v)} [${f(lo)}, ${f(hi)}]`;
  return (
    `in sample (flatters): best F1 ${f(choice.in_sample_f1)} at ${f(choice.in_sample_threshold)} · ` +
    `out of sample (${choice.objective}, chosen on ${choice.folds - 1} of ${choice.folds} folds): ` +
    `F1 ${ci(choice.f1)}, precision ${ci(choice.precision)}, recall ${ci(choice.recall)}, ` +
    `kept ${ci(choice.kept_share)} at ${f(choice.threshold)}` +
    (choice.target ? ` · ${choice.target}` : "")
  );
}

/**
 * What the threshold does to the whole log, from the audit's estimates at the nearest grid
 * threshold (pure: unit-tested). @param {any[]} estimates @param {number} threshold
 */
export function logText(estimates, threshold) {
  if (!estimates || !estimates.length) return "";
  let best = estimates[0];
  for (const e of estimates) if (Math.abs(e.threshold - threshold) < Math.abs(best.threshold - threshold)) best = e;
  const f = (v) => (Number.isFinite(v) ? v.toFixed(3) : "n/a");
  const ci = (name) => `${f(best[name])} [${f(best[`${name}_low`])}, ${f(best[`${name}_high`])}]`;
  const lost = Number.isFinite(best.good_lost) ? Math.round(best.good_lost).toLocaleString("en") : "n/a";
  return (
    `on the whole log at ${f(best.threshold)}: keeps ${best.kept.toLocaleString("en")} rows ` +
    `(${(100 * best.kept_share).toFixed(1)}%), precision ${ci("precision")}, recall ${ci("recall")}, ` +
    `good pairs lost about ${lost} (estimated from the audit)`
  );
}
