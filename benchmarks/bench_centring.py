"""Centring ("all-but-the-top") on STS-B dev: cosine Spearman of each model with and without
it, the spread of its scores (5th to 95th percentile), same run. ``centre=None`` is the
model's raw vectors; ``D`` removes the mean and the top D principal directions.

Needs ../shared/data/sts/stsb-en-dev.csv (or SIMWIDGETS_DATA): skipped with a message otherwise.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from common import record

# ulmfit-small fits its centring on its own training corpus (gensim's Lee paragraphs); the
# transformer fits it on the texts compared (the dev sentences), as a user's own folder does.
CANDIDATES = {
    "ulmfit-small": [None, 0, 1, 2, 4, 8],
    "ulmfit-small?pooling=concat": [None, 1, 4],
    "minilm": [None, 0, 1, 3],
}


def main() -> None:
    import simwidgets as sw

    root = Path(os.environ.get("SIMWIDGETS_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    dev = root / "sts" / "stsb-en-dev.csv"
    if not dev.is_file():
        print(f"skipped: {dev} not found (set SIMWIDGETS_DATA to the data folder)")
        return
    pairs = sw.readers.read_stsb(dev)
    figures = {"pairs": len(pairs)}
    for spec, options in CANDIDATES.items():
        for centre in options:
            extra = {"centre": centre}  # None: the raw vectors
            name = f"{spec.replace('?pooling=', '-')}-centre{'none' if centre is None else centre}"
            model = sw.load_model(spec, name=name, **extra)
            scores = sw.score_pairs(pairs.left, pairs.right, [model])[f"score_{name}"]
            table = sw.evaluate_pairs(pairs.left, pairs.right, pairs.score, [model], n_boot=0)
            figures[f"{name}_spearman"] = float(table["spearman"].iloc[0])
            low, high = np.nanpercentile(scores, [5, 95])
            figures[f"{name}_p5"], figures[f"{name}_p95"] = float(low), float(high)
            print(name, round(figures[f"{name}_spearman"], 4), round(low, 3), round(high, 3), flush=True)
    record("centring_stsb_dev", figures)


if __name__ == "__main__":
    sys.exit(main())
