"""The speed-quality frontier on this machine, in one run: ``sw.frontier`` over the bundled
models (MiniLM, GloVe, ULMFiT-small, TF-IDF words and characters), MiniLM on ONNX Runtime and
on OpenVINO in int8, and static models distilled from MiniLM (alone, and taught on STS-B
train's sentences, no labels read). Quality: 5-fold held-out Spearman on STS-B dev (nothing
is trained on it: the folds give each model's interval); speed: texts/s on those sentences
(``frontier.measure_speed``); hours for a billion rows of two new texts each.

    python benchmarks/bench_frontier.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import record  # noqa: E402

import simwidgets as sw  # noqa: E402
from simwidgets.evaluation.datasets import read_stsb  # noqa: E402

DATA = Path(sw.__file__).resolve().parent / "data" / "sts"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0, help="the longest time spent timing one model")
    args = parser.parse_args()
    dev = read_stsb(DATA / "stsb-en-dev.csv")
    train = read_stsb(DATA / "stsb-en-train.csv")
    log = list(dict.fromkeys(train.left.tolist() + train.right.tolist()))
    candidates = [
        "minilm",
        "minilm?backend=openvino-int8",
        "minilm?backend=onnx-int8",
        sw.distill_static("minilm", log, progress=False),
        sw.distill_static("minilm", progress=False),
        "glove-50d",
        "ulmfit-small",
        "tfidf",
        "tfidf-char",
    ]
    found = sw.frontier(candidates, dev.left, dev.right, dev.score, seconds=args.seconds, gpu=False, progress=False)
    table = found.table
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(4))
    record(
        "frontier_cpu",
        {
            "pairs": len(dev),
            "rows": found.rows,
            "table": {
                name: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
                for name, row in table.to_dict("index").items()
            },
        },
    )


if __name__ == "__main__":
    main()
