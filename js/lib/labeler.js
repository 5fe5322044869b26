// The labeller's pure helpers: the progress line and which action a key asks for.

/** What the progress line says (pure: unit-tested). @param {any} p */
export function progressText(p) {
  if (!p || p.total === undefined) return "";
  const parts = [`${p.labelled} labelled (${p.random} in the random stratum) of ${p.total}`];
  if (p.in_file > p.labelled) parts.push(`${p.in_file - p.labelled} more in the file, of pairs not in this table`);
  const level = `${Math.round(p.confidence * 100)}%`;
  const pct = (v) => `${(v * 100).toFixed(1)}%`;
  const similar = p.label_cut !== undefined && p.label_cut !== null ? `similar (label ≥ ${p.label_cut})` : "similar";
  if (p.interval && p.similar_share !== null) {
    parts.push(`${similar} share ${pct(p.similar_share)} [${pct(p.interval[0])}, ${pct(p.interval[1])}] at ${level}`);
  } else if (p.margin !== null && p.margin !== undefined && p.similar_share !== null) {
    parts.push(`${similar} share ${pct(p.similar_share)} ± ${pct(p.margin)} at ${level}`);
  }
  const reached = p.reached !== undefined ? p.reached : !(p.more_needed > 0);
  parts.push(
    reached
      ? `± ${pct(p.target_margin)} reached`
      : `${p.more_needed} more random labels for ± ${pct(p.target_margin)}`,
  );
  const curve = p.learning_curve;
  if (curve && curve.trainers) {
    for (const tr of curve.trainers) {
      const pts = tr.points.map(([n, v]) => `${v.toFixed(3)} at ${n}`).join(", ");
      const next = tr.next === null || tr.next === undefined ? "the next +0.01: not yet known" : `the next +0.01 at about ${tr.next} labels`;
      parts.push(`${tr.name} ${curve.metric}: ${pts}; ${next}`);
    }
  }
  return parts.join(" · ");
}

/** Which action a key press asks for, or null (pure: unit-tested).
 * @param {string} key @param {{value: number, name: string, key: string}[]} choices @param {string} skipKey @param {string[]} undoKeys */
export function actionOf(key, choices, skipKey, undoKeys) {
  const choice = choices.find((c) => c.key === key);
  if (choice) return { method: "label", params: { value: choice.value } };
  if (key === skipKey) return { method: "skip", params: {} };
  if (undoKeys.includes(key)) return { method: "undo", params: {} };
  return null;
}
