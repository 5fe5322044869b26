"""Each widget's render(), with a fake model in a bare page: it draws, and its cleanup
function removes every model listener and its DOM (no JupyterLab needed)."""

import json

import pytest

from simwidgets.widgets.base import STATIC

FAKE_MODEL = """
window.makeModel = (state) => {
  const listeners = new Map();
  const toView = (v) => (v && v.__bytes) ? {...v, buffer: new DataView(new Float32Array(v.__bytes).buffer)} : v;
  const u8 = (v) => (v && v.__u8) ? {...v, buffer: new DataView(new Uint8Array(v.__u8).buffer)} : v;
  const data = Object.fromEntries(Object.entries(state).map(([k, v]) => [k, u8(toView(v))]));
  return {
    get: (k) => data[k],
    set: (k, v) => { data[k] = v; },
    save_changes: () => {},
    send: () => {},
    on: (e, cb) => { listeners.set(e, [...(listeners.get(e) || []), cb]); },
    off: (e, cb) => { listeners.set(e, (listeners.get(e) || []).filter((f) => f !== cb)); },
    count: () => [...listeners.values()].reduce((n, l) => n + l.length, 0),
  };
};
"""

F = lambda values, shape: {"__bytes": values, "dtype": "float32", "shape": shape}  # noqa: E731
STATES = {
    "heatmap": {
        "matrix": F([1, 0.5, 0.5, 1], [2, 2]),
        "detail_a": None,
        "detail_b": None,
        "row_labels": ["a", "b"],
        "col_labels": ["a", "b"],
        "model_names": ["m"],
        "threshold": None,
        "value_range": [0, 1],
        "diverging": False,
        "selected": [],
    },
    "neighbours": {
        "query": "frog",
        "k": 2,
        "model_names": ["m"],
        "overlap": [[1]],
        "busy": False,
        "results": [
            {"model": "m", "tokens": ["toad", "newt"], "scores": [0.9, 0.8], "only": [False, False], "error": None}
        ],
    },
    "threshold": {
        "model_names": ["m"],
        "model_index": 0,
        "scores": F([0.1, 0.9], [1, 2]),
        "null_scores": F([0.2, 0.3], [1, 2]),
        "labels": F([0, 1], [2]),
        "label_cut": 0.5,
        "left_texts": ["a", "b"],
        "right_texts": ["c", "d"],
        "threshold": 0.5,
    },
    "map": {
        "coords": F([0, 0, 1, 1, 2, 0], [3, 2]),
        "colors": {"__u8": [0, 1, 1], "dtype": "uint8", "shape": [3]},
        "color_mode": "category",
        "legend": ["x", "y"],
        "labels": ["p", "q", "r"],
        "method_shown": "pca",
        "status": "",
        "search": "",
        "selected_indices": [],
        "force_canvas2d": False,
    },
    "comparison": {
        "model_names": ["m", "n"],
        "metrics": [{"model": "m", "spearman": 0.5}],
        "curves": {"m": {"roc": [[0, 0], [1, 1]], "pr": [[0, 1], [1, 0.5]]}},
        "scores": F([0.1, 0.9, 0.2, 0.8], [2, 2]),
        "labels": F([0, 1], [2]),
        "x_model": 0,
        "y_model": 1,
        "disagreements": [{"left": "a", "right": "b", "x": 0.1, "y": 0.2, "label": 1}],
        "ensemble": {},
    },
}


@pytest.mark.parametrize("name", sorted(STATES))
def test_render_draws_and_cleanup_removes_listeners_and_dom(chromium, name):
    page = chromium.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content("<div id='root'></div>")
    page.add_script_tag(content=FAKE_MODEL)
    source = (STATIC / f"{name}.js").read_text()
    result = page.evaluate(
        """async ([source, state]) => {
          const url = URL.createObjectURL(new Blob([source], {type: 'text/javascript'}));
          const widget = (await import(url)).default;
          const model = window.makeModel(state);
          const root = document.getElementById('root');
          const cleanup = widget.render({model, el: root});
          const during = {listeners: model.count(), children: root.children.length};
          cleanup();
          return {during, after: {listeners: model.count(), children: root.children.length},
                  kind: typeof cleanup};
        }""",
        [source, json.loads(json.dumps(STATES[name]))],
    )
    page.close()
    assert not errors, errors
    assert result["kind"] == "function"
    assert result["during"]["listeners"] > 0 and result["during"]["children"] == 1
    assert result["after"] == {"listeners": 0, "children": 0}
