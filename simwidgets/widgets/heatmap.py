"""SimilarityHeatmap: the cosine matrix of texts as a heatmap with a live threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import traitlets as t

from ..columns import score_column
from ..errors import InputError
from ..models import load_model
from ..similarity import similarity_matrix
from ..texts import as_text_list
from .base import ARRAY, STYLE, Widget, bundle


def cluster_order(matrix: np.ndarray) -> np.ndarray:
    """Leaf order of average-linkage clustering of the rows' similarity profiles."""
    from scipy.cluster.hierarchy import leaves_list, linkage

    if len(matrix) < 3:
        return np.arange(len(matrix))
    profile = np.nan_to_num(matrix.astype(np.float64))
    return leaves_list(linkage(profile, method="average", metric="cosine"))


class SimilarityHeatmap(Widget):
    """Cosine similarity of texts as a heatmap.

    Hover shows both texts and the score; the threshold slider greys out cells below it in
    the browser (no kernel round trip); clicking a cell pins the pair into
    :attr:`selected_pairs`.

    Parameters
    ----------
    texts, texts_b
        Rows and (default: the same texts) columns.
    model
        Any spec :func:`~simwidgets.load_model` takes.
    threshold
        Initial threshold (None: nothing masked).
    order
        ``"input"`` or ``"cluster"`` (hierarchical clustering of rows and columns).
    compare
        Two models: the heatmap shows the first minus the second.

    Examples
    --------
    >>> w = SimilarityHeatmap(["a cat", "a kitten", "stock prices"], model="glove-50d")  # doctest: +SKIP
    >>> w.threshold = 0.8          # masks cells in the browser                            # doctest: +SKIP
    >>> w.selected_pairs           # pairs clicked in the browser                          # doctest: +SKIP
    """

    _esm = bundle("heatmap")
    _css = STYLE

    matrix = t.Any(None, help="float32 (rows, cols) matrix drawn, sent as a binary buffer").tag(sync=True, **ARRAY)
    detail_a = t.Any(None, allow_none=True, help="compare mode: first model's matrix").tag(sync=True, **ARRAY)
    detail_b = t.Any(None, allow_none=True, help="compare mode: second model's matrix").tag(sync=True, **ARRAY)
    row_labels = t.List(t.Unicode(), help="row texts, in drawing order").tag(sync=True)
    col_labels = t.List(t.Unicode(), help="column texts, in drawing order").tag(sync=True)
    model_names = t.List(t.Unicode(), help="model name(s) shown in the title and tooltips").tag(sync=True)
    threshold = t.Float(None, allow_none=True, help="cells below it are greyed out (None: none)").tag(sync=True)
    value_range = t.List(t.Float(), default_value=[-1.0, 1.0], help="colour scale [low, high]").tag(sync=True)
    diverging = t.Bool(False, help="diverging colours around 0 (difference of two models)").tag(sync=True)
    selected = t.List(t.List(t.Int()), help="[row, col] cells pinned by clicking, in input order").tag(sync=True)
    order = t.Enum(("input", "cluster"), "input", help="row and column order: as given, or clustered")

    def __init__(self, texts, texts_b=None, model="minilm", threshold=None, order="input", compare=None, **kwargs):
        if order not in ("input", "cluster"):
            raise InputError(f"order must be 'input' or 'cluster', got {order!r}")
        rows = as_text_list(texts, "texts")
        cols = rows if texts_b is None else as_text_list(texts_b, "texts_b")
        if not rows or not cols:
            raise InputError("SimilarityHeatmap needs at least one text on each side")
        if compare is not None:
            if len(compare) != 2:
                raise InputError("compare takes two models: (first, second); the map shows first - second")
            models = [load_model(m) for m in compare]
            a, b = (similarity_matrix(rows, None if texts_b is None else cols, model=m) for m in models)
            drawn, diverging, value_range = a - b, True, [-1.0, 1.0]
        else:
            models = [load_model(model)]
            drawn = similarity_matrix(rows, None if texts_b is None else cols, model=models[0])
            a = b = None
            diverging = False
            finite = drawn[np.isfinite(drawn)]
            value_range = [float(min(0.0, finite.min())) if finite.size else 0.0, 1.0]
        self._rows, self._cols, self._square = rows, cols, texts_b is None
        self._drawn, self._a = drawn, a
        self._matrices = {m.name: (mat if mat is not None else drawn) for m, mat in zip(models, (a, b))}
        arranged = self._arranged(order, drawn, a, b)
        super().__init__(
            **arranged,
            model_names=[m.name for m in models],
            threshold=threshold,
            value_range=kwargs.pop("value_range", value_range),
            diverging=diverging,
            order=order,
            **kwargs,
        )
        self.observe(self._reorder, names=["order"])

    def _arranged(self, order: str, drawn, a, b) -> dict:
        """The drawn matrices and labels in ``order`` (and the orders kept for selected_pairs)."""
        base = drawn if a is None else a
        n_rows, n_cols = base.shape
        row_order = cluster_order(base) if order == "cluster" else np.arange(n_rows)
        if self._square:
            col_order = row_order
        else:
            col_order = cluster_order(base.T) if order == "cluster" else np.arange(n_cols)
        self._row_order, self._col_order = row_order, col_order

        def arrange(m):
            return None if m is None else np.ascontiguousarray(m[np.ix_(row_order, col_order)], dtype=np.float32)

        return {
            "matrix": arrange(drawn),
            "detail_a": arrange(a),
            "detail_b": arrange(b),
            "row_labels": [_label(self._rows[i]) for i in row_order],
            "col_labels": [_label(self._cols[j]) for j in col_order],
        }

    def _reorder(self, change) -> None:
        names = list(self._matrices)
        b = self._matrices[names[1]] if len(names) > 1 else None
        arranged = self._arranged(change["new"], self._drawn, self._a, b)
        with self.hold_sync():
            for name, value in arranged.items():
                setattr(self, name, value)
            self.selected = []  # pinned cells were positions in the old order

    # -- values checked on every assignment, as at construction ---------------------------
    @t.validate("threshold")
    def _check_threshold(self, proposal):
        value = proposal["value"]
        if value is None:
            return value
        limit = 2.0 if self.diverging else 1.0  # a difference of two cosines lies in [-2, 2]
        if not np.isfinite(value) or not -limit <= value <= limit:
            raise t.TraitError(f"threshold must be from {-limit:g} to {limit:g} (a cosine) or None, got {value}")
        return value

    @t.validate("value_range")
    def _check_value_range(self, proposal):
        value = proposal["value"]
        if len(value) != 2 or not all(np.isfinite(v) for v in value) or not value[0] < value[1]:
            raise t.TraitError(f"value_range must be [low, high] with low < high, got {list(value)}")
        return value

    def to_html(self, path) -> Path:
        """A self-contained HTML file (Bokeh, offline) with hover and a working threshold slider."""
        from ..export import heatmap_html

        return heatmap_html(
            self.matrix,
            self.row_labels,
            self.col_labels,
            path,
            threshold=self.threshold,
            title=" - ".join(self.model_names),
            value_range=tuple(self.value_range),
            diverging=self.diverging,
        )

    def to_png(self, path) -> Path:
        """The heatmap as the widget shows it (threshold applied), as a PNG."""
        from ..export import heatmap_png

        return heatmap_png(
            self.matrix,
            path,
            threshold=self.threshold,
            value_range=tuple(self.value_range),
            diverging=self.diverging,
            title=" - ".join(self.model_names),
        )

    @property
    def selected_pairs(self) -> pd.DataFrame:
        """Pairs pinned by clicking: ``left``, ``right`` and a score column per model."""
        records = []
        for row, col in self.selected:
            i, j = int(self._row_order[row]), int(self._col_order[col])
            record = {"left": self._rows[i], "right": self._cols[j]}
            for name, matrix in self._matrices.items():
                record[score_column(name)] = float(matrix[i, j])
            records.append(record)
        columns = ["left", "right", *[score_column(n) for n in self._matrices]]
        return pd.DataFrame(records, columns=columns)


def _label(value) -> str:
    return value if isinstance(value, str) else repr(value)
