"""What a stacked model adds to batch scoring (``simwidgets score --ensemble``), per million rows.

On the first 300,000 rows of the 1,000,000-pair Zipf search log, one core: the pair features
(lengths, token overlap, OOV shares; each distinct text tokenized once and each distinct pair
compared once) as computed before and after that change, and the stacked model's prediction
(a 300-tree forest, and the linear model), beside GloVe-50d's own scoring of the same rows.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from common import record, search_log_csv


def per_million(seconds: float, rows: int) -> float:
    return seconds / rows * 1e6


def per_row_features(left, right, vocabulary) -> pd.DataFrame:
    """The former pair features: every row tokenized and compared on its own (the baseline)."""
    import re

    word = re.compile(r"\w+")

    def tokens(text):
        return word.findall(text.lower()) if isinstance(text, str) else []

    lt, rt = [tokens(t) for t in left], [tokens(t) for t in right]
    out = {
        "len_left": [len(t) for t in lt],
        "len_right": [len(t) for t in rt],
        "len_diff": [abs(len(a) - len(b)) for a, b in zip(lt, rt)],
        "overlap": [len(set(a) & set(b)) / len(set(a) | set(b)) if (a or b) else 0.0 for a, b in zip(lt, rt)],
    }
    out["oov_left"] = [sum(vocabulary.lookup(t) is None for t in x) / len(x) if x else 1.0 for x in lt]
    out["oov_right"] = [sum(vocabulary.lookup(t) is None for t in x) / len(x) if x else 1.0 for x in rt]
    return pd.DataFrame(out, dtype=np.float64)


def main(rows: int = 300_000) -> None:
    import simwidgets as sw
    from simwidgets.evaluation.features import pair_features

    frame = pd.read_csv(search_log_csv(1_000_000), nrows=rows, keep_default_na=False)
    left, right = frame["query"].tolist(), frame["result"].tolist()
    vocabulary = sw.load_model("glove-50d").vocabulary()
    start = time.perf_counter()
    scored = sw.score_pairs(left, right, ["glove-50d"], progress=False)
    glove = time.perf_counter() - start
    start = time.perf_counter()
    before = per_row_features(left, right, vocabulary)
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    after = pair_features(left, right, vocabulary)
    features = time.perf_counter() - start
    pd.testing.assert_frame_equal(before, after)  # the same features, computed once per distinct text and pair
    rng = np.random.default_rng(0)
    train = scored.iloc[:600]
    gold = (train["score_glove-50d"].fillna(0) + rng.normal(0, 0.2, 600) > 0.5).astype(float)
    figures = {"rows": rows, "glove_scoring_s_per_million": per_million(glove, rows)}
    figures["features_per_row_s_per_million"] = per_million(baseline, rows)
    figures["features_distinct_s_per_million"] = per_million(features, rows)
    figures["features_speedup"] = baseline / features
    for kind in ("forest", "linear"):
        result = sw.fit_ensemble(train, gold, kind=kind, cv=3, vocabulary=vocabulary)
        head = result.model[-1]
        if hasattr(head, "n_jobs"):
            head.n_jobs = 1  # as a batch worker runs it
        X = pd.concat([scored[result.score_columns].reset_index(drop=True), after], axis=1)[result.features]
        start = time.perf_counter()
        result.model.predict_proba(X)
        figures[f"{kind}_prediction_s_per_million"] = per_million(time.perf_counter() - start, rows)
    record("ensemble_cost", figures)


if __name__ == "__main__":
    main()
