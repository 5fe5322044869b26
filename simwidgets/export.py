"""Standalone HTML (Bokeh, resources inlined: opens offline, can be mailed) and PNG export.

The exported heatmap keeps hover (both texts and the score) and a threshold slider that
greys out cells below it, both working without a kernel (Bokeh's own JS callbacks); the
exported map keeps hover and a search box. Texts are shown as text, never HTML.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .errors import InputError, OptionError
from .files import write_atomic


def _bokeh() -> None:
    from .extras import require

    require("bokeh", "HTML export")


def _matplotlib():
    from .extras import require

    matplotlib = require("matplotlib", "PNG export")
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(layout, path, title: str) -> Path:
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    return write_atomic(Path(path), file_html(layout, INLINE, title))


def heatmap_html(
    matrix,
    row_labels,
    col_labels,
    path: str | os.PathLike,
    *,
    threshold: float | None = None,
    title: str = "similarity",
    value_range=(0.0, 1.0),
    diverging: bool = False,
) -> Path:
    """Write a heatmap with hover and a live threshold slider to a self-contained HTML file."""
    _bokeh()
    from bokeh.layouts import column
    from bokeh.models import CustomJS, CustomJSHover, HoverTool, LinearColorMapper, Slider
    from bokeh.palettes import RdBu11, Viridis256
    from bokeh.plotting import figure

    matrix = np.asarray(matrix, dtype=np.float32)
    rows, cols = matrix.shape
    if len(row_labels) != rows or len(col_labels) != cols:
        raise InputError(f"{len(row_labels)} x {len(col_labels)} labels for a {rows} x {cols} matrix")
    low, high = value_range
    palette = list(reversed(RdBu11)) if diverging else Viridis256
    mapper = LinearColorMapper(
        palette=palette,
        low=low if threshold is None else threshold,
        high=high,
        low_color="#e6e6e6",
        nan_color="#e6e6e6",
    )
    side = min(720, max(300, 12 * max(rows, cols)))
    fig = figure(
        title=title,
        width=side,
        height=side,
        x_range=(0, cols),
        y_range=(rows, 0),
        tools="pan,wheel_zoom,reset,save",
        toolbar_location="above",
    )
    # y_range runs from rows (bottom) to 0 (top), so array row r fills y in [r, r + 1]: from the
    # top down, as in the widget. Bokeh anchors the image at its bottom-left data corner, y=0.
    fig.image(image=[matrix], x=0, y=0, dw=cols, dh=rows, color_mapper=mapper)
    pair = CustomJSHover(
        args={"rows": list(row_labels), "cols": list(col_labels)},
        code="""
        const c = Math.floor(special_vars.x), r = Math.floor(special_vars.y);
        if (r < 0 || c < 0 || r >= rows.length || c >= cols.length) return '';
        return rows[r] + ' \\u00d7 ' + cols[c];""",
    )
    fig.add_tools(HoverTool(tooltips=[("pair", "$x{pair}"), ("score", "@image{0.000}")], formatters={"$x": pair}))
    fig.xaxis.visible = fig.yaxis.visible = False
    slider = Slider(
        start=low,
        end=high,
        step=0.01,
        value=low if threshold is None else threshold,
        title="threshold (cells below it are grey)",
        width=side,
    )
    slider.js_on_change("value", CustomJS(args={"mapper": mapper}, code="mapper.low = cb_obj.value;"))
    return _save(column(slider, fig), path, title)


def map_html(coords, labels, path: str | os.PathLike, *, colors=None, title: str = "embedding map") -> Path:
    """Write a scatter map with hover and a search box to a self-contained HTML file."""
    _bokeh()
    from bokeh.layouts import column
    from bokeh.models import ColumnDataSource, CustomJS, HoverTool, TextInput
    from bokeh.plotting import figure

    coords = np.asarray(coords, dtype=np.float32)
    if len(labels) != len(coords):
        raise InputError(f"{len(labels)} labels for {len(coords)} points")
    palette = [
        "#4e79a7",
        "#f28e2b",
        "#e15759",
        "#76b7b2",
        "#59a14f",
        "#edc948",
        "#b07aa1",
        "#ff9da7",
        "#9c755f",
        "#bab0ac",
    ]
    codes = np.zeros(len(coords), dtype=int) if colors is None else np.asarray(colors, dtype=int)
    source = ColumnDataSource(
        {
            "x": coords[:, 0],
            "y": coords[:, 1],
            "label": [str(v) for v in labels],
            "colour": [palette[c % len(palette)] for c in codes],
        }
    )
    found = ColumnDataSource({"x": [], "y": [], "label": []})
    fig = figure(
        title=title,
        width=760,
        height=520,
        output_backend="webgl",
        tools="pan,wheel_zoom,box_zoom,reset,save",
        toolbar_location="above",
    )
    points = fig.scatter("x", "y", source=source, size=3, color="colour", alpha=0.7)
    fig.scatter("x", "y", source=found, size=10, fill_alpha=0, line_color="#d62728", line_width=2)
    fig.add_tools(HoverTool(renderers=[points], tooltips=[("", "@label")]))
    search = TextInput(title="search labels", width=300)
    search.js_on_change(
        "value",
        CustomJS(
            args={"source": source, "found": found},
            code="""
        const q = cb_obj.value.trim().toLowerCase();
        const d = source.data, x = [], y = [], label = [];
        if (q) for (let i = 0; i < d.label.length; i++) if (d.label[i].toLowerCase().includes(q)) {
          x.push(d.x[i]); y.push(d.y[i]); label.push(d.label[i]); }
        found.data = {x, y, label};""",
        ),
    )
    return _save(column(search, fig), path, title)


def export_html(obj, path: str | os.PathLike, **options) -> Path:
    """Standalone HTML of a widget or of library results.

    ``obj`` may be anything with a ``to_html(path, **options)`` method (the
    :class:`~simwidgets.SimilarityHeatmap` and :class:`~simwidgets.EmbeddingMap` widgets), a
    square or rectangular similarity matrix (give ``row_labels`` and ``col_labels``), or an
    ``(n, 2)`` array of map coordinates (give ``labels``).
    """
    to_html = getattr(obj, "to_html", None)
    if callable(to_html):  # a widget (or anything else) that knows how to draw itself
        return to_html(path, **options)
    array = np.asarray(obj)
    if array.ndim == 2 and array.shape[1] == 2 and "labels" in options:
        return map_html(array, options.pop("labels"), path, **options)
    if array.ndim == 2:
        return heatmap_html(array, options.pop("row_labels"), options.pop("col_labels"), path, **options)
    raise OptionError(f"cannot export {type(obj).__name__}: give a widget, a matrix or (n, 2) coordinates")


def heatmap_png(matrix, path, *, threshold=None, value_range=(0.0, 1.0), diverging=False, title="") -> Path:
    """The heatmap as drawn (cells below the threshold grey), saved with matplotlib."""
    plt = _matplotlib()

    values = np.asarray(matrix, dtype=np.float32)
    cmap = plt.get_cmap("RdBu_r" if diverging else "viridis").with_extremes(bad="#e6e6e6")
    shown = np.ma.masked_where(~(values >= (threshold if threshold is not None else -np.inf)), values)
    fig, ax = plt.subplots(figsize=(6, 6), dpi=110)
    ax.imshow(shown, cmap=cmap, vmin=value_range[0], vmax=value_range[1], interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


def map_png(coords, path, *, colors=None, title="") -> Path:
    """The map's points saved with matplotlib."""
    plt = _matplotlib()

    coords = np.asarray(coords, dtype=np.float32)
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
    ax.scatter(
        coords[:, 0], coords[:, 1], s=1, c=None if colors is None else np.asarray(colors), cmap="tab10", linewidths=0
    )
    ax.set_axis_off()
    ax.set_title(title)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return Path(path)
