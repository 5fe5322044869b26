// lib/dom.js
function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(typeof child === "string" ? document.createTextNode(child) : child);
  return node;
}
function listeners() {
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
    }
  };
}

// neighbours.js
function render({ model, el: root }) {
  const input = el("input", { type: "text", className: "sw-query", placeholder: "a word or a text", value: model.get("query") });
  const status = el("span", { className: "sw-status" });
  const body = el("div", { className: "sw-neighbours-body" });
  const container = el("div", { className: "simwidgets sw-neighbours" }, [
    el("div", { className: "sw-header" }, [input, status]),
    body
  ]);
  root.appendChild(container);
  function draw() {
    const results = model.get("results");
    body.replaceChildren();
    if (!results.length) return;
    const table = el("table", { className: "sw-columns" });
    table.append(el("tr", {}, [el("th", {}, ["#"]), ...results.map((r) => el("th", {}, [r.model]))]));
    const rows = Math.max(...results.map((r) => r.tokens.length), results.some((r) => r.error) ? 1 : 0);
    for (let i = 0; i < rows; i++) {
      const cells = results.map((r) => {
        if (r.error) return el("td", { className: "sw-error" }, [i === 0 ? r.error : ""]);
        if (i >= r.tokens.length) return el("td");
        const cell = el("td", { title: `cosine ${r.scores[i].toFixed(3)}` }, [`${r.tokens[i]} `, el("small", {}, [r.scores[i].toFixed(2)])]);
        if (r.only[i]) cell.classList.add("sw-only");
        return cell;
      });
      table.append(el("tr", {}, [el("td", {}, [String(i + 1)]), ...cells]));
    }
    body.append(table);
    const overlap = model.get("overlap");
    if (results.length > 1) {
      const grid = el("table", { className: "sw-overlap" });
      grid.append(el("tr", {}, [el("th", {}, ["Jaccard"]), ...results.map((r) => el("th", {}, [r.model]))]));
      overlap.forEach((row, i) => {
        grid.append(el("tr", {}, [el("th", {}, [results[i].model]), ...row.map((v) => el("td", {}, [v.toFixed(2)]))]));
      });
      body.append(el("p", {}, ["Highlighted: found by one model only."]), grid);
    }
  }
  const showBusy = () => {
    status.textContent = model.get("busy") ? "searching\u2026" : "";
  };
  const onKey = (event) => {
    if (event.key === "Enter") {
      model.set("query", input.value);
      model.save_changes();
    }
  };
  const onQuery = () => {
    if (input.value !== model.get("query")) input.value = model.get("query");
  };
  const on = listeners();
  on.dom(input, "keydown", onKey);
  on.model(model, "change:results", draw);
  on.model(model, "change:busy", showBusy);
  on.model(model, "change:query", onQuery);
  draw();
  return () => {
    on.dispose();
    container.remove();
  };
}
var neighbours_default = { render };
export {
  neighbours_default as default
};
