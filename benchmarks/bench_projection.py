"""UMAP of the 30,522 MiniLM word pieces: seconds and trustworthiness@10 on a fixed sample.

Baseline, in the same run: umap-learn's default ``UMAP(metric="cosine").fit_transform``.
Each method runs in a fresh process, so both pay umap-learn's numba compilation once.
"""

from __future__ import annotations

import json
import subprocess
import sys

from common import record

RUN = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np
from simwidgets import load_model
from simwidgets.projection import trustworthiness
vectors = load_model("minilm").vocabulary().vectors
method = sys.argv[1]
start = time.perf_counter()
if method == "umap-learn default":
    import umap
    coords = umap.UMAP(metric="cosine").fit_transform(vectors)
else:
    from simwidgets.projection import umap_2d
    coords = umap_2d(vectors, n_epochs=int(sys.argv[2]) if len(sys.argv) > 2 else None)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "trust": trustworthiness(vectors, coords, k=10, sample=5000, seed=0)}))
"""


def run(*args) -> dict:
    out = subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    baseline = run("umap-learn default")
    ours = run("simwidgets")
    fewer = run("simwidgets", "100")
    record("projection_minilm_30522", {
        "umap_default_s": baseline["seconds"],
        "umap_default_trust10": baseline["trust"],
        "simwidgets_s": ours["seconds"],
        "simwidgets_trust10": ours["trust"],
        "time_ratio": ours["seconds"] / baseline["seconds"],
        "trust_difference": ours["trust"] - baseline["trust"],
        "simwidgets_100_epochs_s": fewer["seconds"],
        "simwidgets_100_epochs_trust10": fewer["trust"],
    })


if __name__ == "__main__":
    main()
