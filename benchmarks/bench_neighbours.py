"""Neighbour queries over the 400,000-word GloVe table: latency (p50, p99) and recall@10.

Baseline, in the same run: gensim's KeyedVectors.most_similar on the same vectors.
"""

from __future__ import annotations

import time

import numpy as np
from common import DATA, record


def latencies(fn, queries) -> np.ndarray:
    out = []
    for q in queries:
        start = time.perf_counter()
        fn(q)
        out.append(time.perf_counter() - start)
    return np.array(out) * 1e3


def main() -> None:
    from simwidgets import load_model
    from simwidgets.index import NeighbourIndex, recall_at_k

    model = load_model("glove-50d")
    kv = model.kv
    vocab = model.vocabulary()
    rng = np.random.default_rng(0)
    words = [vocab.tokens[i] for i in rng.choice(50_000, 300, replace=False)]
    rows = np.array([vocab.index[w] for w in words])
    unit = vocab.unit_vectors()

    gensim_ms = latencies(lambda w: kv.most_similar(w, topn=10), words)
    exact = NeighbourIndex(vocab.vectors, "exact")
    exact_ms = latencies(lambda r: exact.search(unit[r], 11), rows)
    _, truth = exact.search(unit[rows], 11)

    start = time.perf_counter()
    ivf = NeighbourIndex(vocab.vectors, "ivf", target_recall=0.95, cache_dir=DATA / "index-cache-bench")
    build_s = time.perf_counter() - start
    ivf_ms = latencies(lambda r: ivf.search(unit[r], 11), rows)
    _, found = ivf.search(unit[rows], 11)
    # recall@10 of the neighbours other than the query word itself, as most_similar returns
    recall = recall_at_k(found[:, 1:], truth[:, 1:], 10)
    gensim_top = [[w for w, _ in kv.most_similar(word, topn=10)] for word in words[:100]]
    exact_top = [[vocab.tokens[i] for i in t[1:]] for t in truth[:100]]
    agree = np.mean([a == b for a, b in zip(gensim_top, exact_top)])
    record("neighbours_glove_400k", {
        "gensim_most_similar_p50_ms": float(np.percentile(gensim_ms, 50)),
        "gensim_most_similar_p99_ms": float(np.percentile(gensim_ms, 99)),
        "exact_faiss_p50_ms": float(np.percentile(exact_ms, 50)),
        "exact_faiss_p99_ms": float(np.percentile(exact_ms, 99)),
        "exact_same_top10_as_gensim": float(agree),
        "ivf_build_s": build_s,
        "ivf_nprobe": ivf.nprobe,
        "ivf_recall_at_10_build_sample": ivf.recall,
        "ivf_recall_at_10_queries": recall,
        "ivf_p50_ms": float(np.percentile(ivf_ms, 50)),
        "ivf_p99_ms": float(np.percentile(ivf_ms, 99)),
        "ivf_speedup_vs_gensim_p50": float(np.percentile(gensim_ms, 50) / np.percentile(ivf_ms, 50)),
    })


if __name__ == "__main__":
    main()
