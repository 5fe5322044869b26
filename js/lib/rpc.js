// Request/response over a widget's custom messages: every request carries an id, every
// reply names it, and an error on the Python side comes back as a rejected promise.
// (The idea of anywidget's experimental `invoke` and quak's RPC, written for our models.)

/**
 * @typedef {{type: "rpc-request", id: number, method: string, params: any}} RpcRequest
 * @typedef {{type: "rpc-reply", id: number, ok: boolean, result?: any, error?: string}} RpcReply
 */

/**
 * @param {any} model  an anywidget model (`send`, `on`, `off`)
 * @param {{timeout?: number}} [options]  milliseconds before a request is given up (default 30 s)
 */
export function rpc(model, { timeout = 30_000 } = {}) {
  let next = 0;
  /** @type {Map<number, {resolve: (v: any) => void, reject: (e: Error) => void, timer: any}>} */
  const pending = new Map();
  /** @param {any} msg */
  const onMessage = (msg) => {
    if (!msg || msg.type !== "rpc-reply") return;
    const waiting = pending.get(msg.id);
    if (!waiting) return; // answered after a time-out or after dispose: nobody is waiting
    pending.delete(msg.id);
    clearTimeout(waiting.timer);
    if (msg.ok) waiting.resolve(msg.result);
    else waiting.reject(new Error(msg.error || "the Python side failed"));
  };
  model.on("msg:custom", onMessage);
  return {
    /** @param {string} method @param {any} params @returns {Promise<any>} */
    request(method, params) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${method}: no answer from Python in ${timeout / 1000} s`));
        }, timeout);
        pending.set(id, { resolve, reject, timer });
        model.send({ type: "rpc-request", id, method, params });
      });
    },
    /** The id of the latest request sent (or of the latest cancellation). */
    get latest() {
      return next;
    },
    /** Make every answer still to come stale (a click on empty space, say). */
    cancelLatest() {
      next += 1;
    },
    /** Stop listening; requests still waiting are rejected. */
    dispose() {
      model.off("msg:custom", onMessage);
      for (const [, waiting] of pending) {
        clearTimeout(waiting.timer);
        waiting.reject(new Error("the view was closed"));
      }
      pending.clear();
    },
  };
}
