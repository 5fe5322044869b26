"""A marimo app wrapping each widget with mo.ui.anywidget, for tests/browser/test_marimo.py."""

import marimo

app = marimo.App(width="full")


@app.cell
def _():
    import marimo as mo
    import numpy as np
    import pandas as pd

    import simwidgets as sw

    XSS = '<img src=x onerror="window.__xss=1">'
    df = pd.DataFrame(
        {
            "q": [XSS, "a dog", "stock prices", "music", "a car", "rain"] * 3,
            "r": ["a cat", "a puppy", "a banana", "a band", "a truck", "snow"] * 3,
            "y": [0, 1, 0, 1, 1, 0] * 3,
        }
    )
    heat = mo.ui.anywidget(sw.SimilarityHeatmap([XSS, "a cat", "a kitten", "stock prices"], model="glove-50d"))
    labels = [XSS, "cat", "dog"]
    emap = mo.ui.anywidget(sw.EmbeddingMap(np.eye(3, dtype=np.float32), labels=labels, method="pca"))
    nbrs = mo.ui.anywidget(sw.NeighbourExplorer(["glove-50d"], query="frog", k=5))
    tuner = mo.ui.anywidget(sw.ThresholdTuner(df, "q", "r", label="y", models=["glove-50d"], n_null=50))
    comp = mo.ui.anywidget(sw.ModelComparison(df, "q", "r", "y", models=["glove-50d", "tfidf-char"], ensemble=None))
    heat_widget = heat.widget  # for the cell below: referring to `heat` would re-run it on every page change
    return comp, emap, heat, heat_widget, mo, nbrs, tuner


@app.cell
def _(mo):
    number = mo.ui.number(start=0, stop=1, step=0.05, value=0, label="set the heatmap threshold from Python")
    number  # noqa: B018 (marimo shows a cell's last expression)
    return (number,)


@app.cell
def _(heat_widget, number):
    if number.value:
        heat_widget.threshold = float(number.value)  # Python -> page
    return


@app.cell
def _(heat, mo):
    seen = (heat.value or {}).get("threshold")  # page -> Python: this cell re-runs on a change
    mo.md(f"python sees threshold {(heat.widget.threshold if seen is None else seen) or 0:.3f}")
    return


@app.cell
def _(comp, emap, heat, mo, nbrs, tuner):
    mo.vstack([heat, nbrs, tuner, emap, comp])
    return


if __name__ == "__main__":
    app.run()
