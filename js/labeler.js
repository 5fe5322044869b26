// PairLabeler: one pair at a time, labelled by key or click; the next pair comes from Python.
import { el, listeners } from "./lib/dom.js";
import { actionOf, progressText } from "./lib/labeler.js";
import { rpc } from "./lib/rpc.js";

/**
 * The model contract (Python: simwidgets.widgets.labeler.PairLabeler).
 * @typedef {Object} LabelerModel
 * @property {string[]} model_names
 * @property {{value: number, name: string, key: string}[]} choices
 * @property {string} skip_key
 * @property {string[]} undo_keys
 * @property {{row?: number, left?: string, right?: string, scores?: (number|null)[], strategy?: string}} pair
 * @property {{labelled: number, random: number, total: number, remaining: number, similar_share: number|null,
 *   in_file: number, margin: number|null, interval: number[]|null, confidence: number, target_margin: number, reached: boolean, more_needed: number, label_cut: number, path: string}} progress
 * @property {{left?: string, right?: string, label?: string}} last
 */

/** @param {{model: any, el: HTMLElement}} ctx */
function render({ model, el: root }) {
  const left = el("div", { className: "sw-label-text" });
  const right = el("div", { className: "sw-label-text" });
  const scores = el("div", { className: "sw-label-scores" });
  const buttons = el("div", { className: "sw-label-buttons" });
  const status = el("div", { className: "sw-status sw-label-progress" });
  const message = el("div", { className: "sw-error" });
  const last = el("div", { className: "sw-status" });
  const why = el("span", { className: "sw-status" });
  const container = el("div", { className: "simwidgets sw-labeler", tabIndex: 0 }, [
    el("div", { className: "sw-header" }, [el("span", { className: "sw-title" }, ["Label this pair"]), why]),
    el("div", { className: "sw-label-pair" }, [left, right]),
    scores,
    buttons,
    status,
    last,
    message,
  ]);
  root.appendChild(container);
  const calls = rpc(model);
  let busy = false;

  /** @param {string} method @param {any} params */
  const act = async (method, params) => {
    if (busy) return; // a key pressed before the next pair arrives would label a pair not yet seen
    busy = true;
    container.dataset.busy = "true";
    message.textContent = "";
    try {
      await calls.request(method, params);
    } catch (error) {
      message.textContent = String(/** @type {any} */ (error).message || error);
    } finally {
      busy = false;
      delete container.dataset.busy;
    }
  };

  function drawButtons() {
    buttons.replaceChildren(
      ...model.get("choices").map((c) =>
        el("button", { className: "sw-label-button", onclick: () => act("label", { value: c.value }) }, [`${c.name}  [${c.key}]`]),
      ),
      el("button", { className: "sw-label-skip", onclick: () => act("skip", {}) }, [`skip [${model.get("skip_key")}]`]),
      el("button", { className: "sw-label-undo", onclick: () => act("undo", {}) }, [`undo [${model.get("undo_keys")[0]}]`]),
    );
  }

  function drawPair() {
    const pair = model.get("pair");
    if (pair.row === undefined) {
      left.textContent = "Every pair is labelled or skipped.";
      right.textContent = "";
      scores.replaceChildren();
      why.textContent = "";
    } else {
      left.textContent = pair.left; // text, never HTML
      right.textContent = pair.right;
      const names = model.get("model_names");
      scores.replaceChildren(
        ...names.map((n, i) => {
          const s = pair.scores[i];
          return el("span", { className: "sw-label-score" }, [`${n}: ${s === null ? "no score" : s.toFixed(3)}`]);
        }),
      );
      why.textContent = `chosen: ${pair.strategy}`;
    }
    status.textContent = progressText(model.get("progress"));
    const l = model.get("last");
    last.textContent = l && l.label !== undefined ? `last: ${l.label} for “${l.left}” / “${l.right}”` : "";
  }

  /** @param {KeyboardEvent} event */
  const onKey = (event) => {
    if (event.target instanceof HTMLInputElement || event.metaKey || event.ctrlKey || event.altKey) return;
    const action = actionOf(event.key, model.get("choices"), model.get("skip_key"), model.get("undo_keys"));
    if (!action) return;
    event.preventDefault();
    event.stopPropagation(); // the notebook must not read "0" or "u" as its own shortcuts
    act(action.method, action.params);
  };
  const on = listeners();
  on.dom(container, "keydown", onKey);
  on.model(model, "change:pair", drawPair);
  on.model(model, "change:progress", drawPair);
  on.model(model, "change:last", drawPair);
  on.model(model, "change:choices", drawButtons);
  drawButtons();
  drawPair();
  return () => {
    on.dispose();
    calls.dispose();
    container.remove();
  };
}

export default { render };
