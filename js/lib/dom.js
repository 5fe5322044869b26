// Small DOM helpers: elements built with properties (never innerHTML), and throttling.

/**
 * Create an element; children that are strings become text nodes (never parsed as HTML).
 * @param {string} tag
 * @param {Record<string, any>} [props]
 * @param {(Node | string)[]} [children]
 * @returns {any}
 */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(typeof child === "string" ? document.createTextNode(child) : child);
  return node;
}

/**
 * Call fn at most once per `ms`, always ending with the latest call.
 * @param {() => void} fn
 * @param {number} ms
 */
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  const wrapped = () => {
    const now = Date.now();
    const wait = last + ms - now;
    if (wait <= 0) {
      last = now;
      fn();
    } else if (timer === null) {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        fn();
      }, wait);
    }
  };
  wrapped.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  return wrapped;
}

/**
 * Show a tooltip with `text` (set as text, never parsed as HTML) next to a point given in
 * pixels inside the tooltip's positioned parent.
 * @param {HTMLElement} tip @param {string} text @param {number} x @param {number} y
 */
export function showTip(tip, text, x, y) {
  tip.textContent = text;
  tip.style.display = "block";
  tip.style.left = `${x + 12}px`;
  tip.style.top = `${y + 12}px`;
}

/**
 * Listeners registered through one registry and removed together, so a widget's cleanup is
 * derived from what it registered instead of written out a second time.
 */
export function listeners() {
  /** @type {(() => void)[]} */
  const undo = [];
  return {
    /** @param {EventTarget} target @param {string} type @param {any} fn @param {any} [options] */
    dom(target, type, fn, options) {
      target.addEventListener(type, fn, options);
      undo.push(() => target.removeEventListener(type, fn, options));
    },
    /** A widget model's event (`change:name`, `msg:custom`). @param {any} model @param {string} name @param {any} fn */
    model(model, name, fn) {
      model.on(name, fn);
      undo.push(() => model.off(name, fn));
    },
    /** Remove everything, last registered first. */
    dispose() {
      while (undo.length) undo.pop()();
    },
  };
}
