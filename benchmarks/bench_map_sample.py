"""EmbeddingMap's default for a large vocabulary: UMAP of the most frequent words, the rest
placed beside their nearest laid-out words, against UMAP of every word, on the first 100,000
GloVe words: seconds and trustworthiness@10 (a fixed sample of 5,000 points, cosine).

Baseline, in the same run: ``umap_2d`` of all 100,000 words. Each runs in a fresh process
(both pay umap-learn's numba compilation once). Usage: python benchmarks/bench_map_sample.py [n] [sample]
"""

from __future__ import annotations

import json
import subprocess
import sys

from common import record

RUN = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
from simwidgets import load_model
from simwidgets.projection import trustworthiness, umap_2d
n, sample = int(sys.argv[1]), int(sys.argv[2])
vectors = load_model("glove-50d").vocabulary().vectors[:n]
start = time.perf_counter()
coords = umap_2d(vectors, sample=sample if sample else None)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "trust": trustworthiness(vectors, coords, k=10, sample=5000, seed=0)}))
"""


def run(n: int, sample: int) -> dict:
    out = subprocess.run([sys.executable, "-c", RUN, str(n), str(sample)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    sample = int(sys.argv[2]) if len(sys.argv) > 2 else n // 8
    every = run(n, 0)
    sampled = run(n, sample)
    record(f"map_sample_glove_{n}", {
        "points": n,
        "sample": sample,
        "every_point_s": every["seconds"],
        "every_point_trust10": every["trust"],
        "sampled_s": sampled["seconds"],
        "sampled_trust10": sampled["trust"],
        "speedup": every["seconds"] / sampled["seconds"],
        "trust_difference": sampled["trust"] - every["trust"],
    })  # fmt: skip


if __name__ == "__main__":
    main()
