// The labeller's pure helpers: the progress line and which action a key asks for.

/** What the progress line says (pure: unit-tested). @param {any} p */
export function progressText(p) {
  if (!p || p.total === undefined) return "";
  const parts = [`${p.labelled} labelled (${p.random} in the random stratum) of ${p.total}`];
  const level = `${Math.round(p.confidence * 100)}%`;
  if (p.margin !== null && p.margin !== undefined && p.similar_share !== null) {
    parts.push(`similar share ${(p.similar_share * 100).toFixed(1)}% ± ${(p.margin * 100).toFixed(1)}% at ${level}`);
  }
  parts.push(
    p.more_needed > 0
      ? `${p.more_needed} more random labels for ± ${(p.target_margin * 100).toFixed(1)}%`
      : `± ${(p.target_margin * 100).toFixed(1)}% reached`,
  );
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
