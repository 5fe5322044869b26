"""Pair scoring with static vectors (GloVe-50d, mean pooling) on a 1,000,000-pair Zipf log.

Baselines, in the same run: the plain Python loop over pairs with numpy that a user writes
first (whose rate swings with the machine's Python), and a vectorized pandas + scipy pipeline
(``vectorized_baseline``: read the CSV, factorize the texts, a sparse token-count matrix times the
GloVe table, one row-wise dot product), the strongest plain-library baseline on one core. Also: the same job with 1 and with 2 threads of the default local worker (scaling),
with 2 worker processes (``processes=True``, the default before threads), on an
already-running 2-process cluster whose workers hold the model, and the 10,000,000-pair log
end to end (the same distinct texts ten times over: start-up and the cold embedding cache
weigh ten times less). A 2,000-pair job runs first, so every timed job starts from the same
warm process; each threaded job starts with an empty embedding cache.
"""

from __future__ import annotations

import shutil
import sys
import time

import numpy as np
import pandas as pd
from common import DATA, record, search_log_csv


def loop_baseline(frame: pd.DataFrame, n: int = 50_000) -> float:
    """Pairs per second of the obvious loop: split, look up, average, cosine, pair by pair."""
    from simwidgets import load_model

    kv = load_model("glove-50d").kv
    start = time.perf_counter()
    scores = []
    for q, r in zip(frame["query"][:n], frame["result"][:n]):
        vq = [kv[w] for w in q.lower().split() if w in kv.key_to_index]
        vr = [kv[w] for w in r.lower().split() if w in kv.key_to_index]
        if not vq or not vr:
            scores.append(np.nan)
            continue
        a, b = np.mean(vq, axis=0), np.mean(vr, axis=0)
        scores.append(float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))))
    return n / (time.perf_counter() - start)


def vectorized_baseline(path) -> tuple[float, int]:
    """Pairs per second of a vectorized pipeline over the whole file, end to end: pandas reads
    it, the texts are factorized, each distinct text is a row of a sparse token-count matrix,
    times the GloVe table gives mean vectors, and every pair is one row-wise dot product."""
    from scipy import sparse

    from simwidgets import load_model
    from simwidgets.models.wordvectors import word_tokens  # the same words simwidgets looks up

    kv = load_model("glove-50d").kv
    start = time.perf_counter()
    frame = pd.read_csv(path, usecols=["query", "result"], dtype=str, keep_default_na=False)
    codes, uniques = pd.factorize(pd.concat([frame["query"], frame["result"]], ignore_index=True))
    index = kv.key_to_index
    rows, cols = [], []
    for i, text in enumerate(uniques):
        for word in word_tokens(text.lower()):
            j = index.get(word)
            if j is not None:
                rows.append(i)
                cols.append(j)
    counts = sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(uniques), len(kv.vectors)))
    vectors = counts @ kv.vectors.astype(np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = vectors / norms
    n = len(frame)
    scores = np.einsum("ij,ij->i", unit[codes[:n]], unit[codes[n:]])
    assert len(scores) == n
    return n / (time.perf_counter() - start), n


def simwidgets_run(path, workers: int, client=None, label: str = "", processes=None) -> tuple[float, int]:
    """Pairs per second of one job: its own local cluster of ``workers``, or ``client``'s."""
    from simwidgets import load_model
    from simwidgets.batch import score_file

    load_model("glove-50d")._caches.clear()  # every job starts with a cold embedding cache
    out = DATA / f"out-static{label}-{workers}"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    summary = score_file(path, out, "query", "result", ["glove-50d"], workers=workers, progress=False,
                         blocksize=8_000_000, client=client, processes=processes)
    return summary.rows / (time.perf_counter() - start), summary.rows


def warm_up(path) -> None:
    """A 2,000-pair job, so the timed jobs all start from the same, warm process."""
    small = DATA / "search-log-warm-up.csv"
    pd.read_csv(path, nrows=2_000, keep_default_na=False).to_csv(small, index=False)
    simwidgets_run(small, 1, label="-warm-up")


def running_cluster_run(path, workers: int) -> float:
    """Pairs per second on an already-running cluster whose workers hold GloVe (as after a
    first job, or with ``--scheduler``): the steady rate of a long job, without start-up."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=":0", silence_logs=40) as cluster,
        Client(cluster) as client,
    ):
        client.run(_load_glove)
        return simwidgets_run(path, workers, client, label="-running")[0]


def _load_glove():
    from simwidgets import load_model

    load_model("glove-50d")


def main(n_pairs: int = 1_000_000, at_scale: int = 10_000_000) -> None:
    path = search_log_csv(n_pairs)
    frame = pd.read_csv(path, nrows=50_000, keep_default_na=False)
    print(f"static pair scoring, {n_pairs:,} pairs ({path})")
    loop = loop_baseline(frame)
    vectorized, _ = vectorized_baseline(path)
    print(f"baselines: Python loop {loop:,.0f} pairs/s, vectorized pandas + scipy {vectorized:,.0f} pairs/s")
    warm_up(path)  # one-time imports of the first job in a process, paid before any timed job
    one, rows = simwidgets_run(path, 1)
    two, _ = simwidgets_run(path, 2)
    two_processes, _ = simwidgets_run(path, 2, label="-processes", processes=True)
    running = running_cluster_run(path, 2)
    large_one = large = large_processes = None
    large_rows = 0
    if at_scale:
        large_one, large_rows = simwidgets_run(search_log_csv(at_scale), 1, label="-large")
        large, _ = simwidgets_run(search_log_csv(at_scale), 2, label="-large")
        large_processes, _ = simwidgets_run(search_log_csv(at_scale), 2, label="-large-processes", processes=True)
    record("pairs_static", {
        "pairs": rows,
        "loop_pairs_per_s": loop,
        "simwidgets_1_worker_pairs_per_s": one,
        "simwidgets_2_workers_pairs_per_s": two,
        "ratio_vs_loop": two / loop,
        "vectorized_pairs_per_s": vectorized,
        "ratio_vs_vectorized": two / vectorized,
        "speedup_2_vs_1_workers": two / one,
        "simwidgets_2_processes_pairs_per_s": two_processes,
        "processes_ratio_vs_loop": two_processes / loop,
        "running_cluster_2_workers_pairs_per_s": running,
        "running_cluster_ratio_vs_loop": running / loop,
        "large_pairs": large_rows,
        "large_1_worker_pairs_per_s": large_one,
        "large_2_workers_pairs_per_s": large,
        "large_speedup_2_vs_1_workers": large / large_one if large else None,
        "large_ratio_vs_loop": large / loop if large else None,
        "large_ratio_vs_vectorized_1m": large / vectorized if large else None,
        "large_2_processes_pairs_per_s": large_processes,
        "large_processes_ratio_vs_loop": large_processes / loop if large else None,
    })


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
