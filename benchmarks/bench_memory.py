"""Peak resident memory of `simwidgets score` on 1,000,000 and 10,000,000 pairs: it must stay flat.

Memory is bounded by the partition size and the per-worker embedding cache, not by the input.
The peak is the largest sum of resident memory over this process and all its children
(the local Dask scheduler and workers), sampled every 0.2 s.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time

import psutil
from common import DATA, record, search_log_csv


def peak_rss(fn) -> tuple[float, object]:
    me = psutil.Process()
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            peak = max(peak, total)
            time.sleep(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        result = fn()
    finally:
        done.set()
        thread.join()
    return peak / 2**20, result


def main(sizes=(1_000_000, 10_000_000), tfidf_rows: int = 200_000) -> None:
    from simwidgets.batch import score_file

    figures = {}
    # TF-IDF scores pairs on sparse rows: memory bounded by the partition, like GloVe's.
    path = search_log_csv(tfidf_rows)
    for spec in ("glove-50d", "tfidf"):
        out = DATA / f"out-memory-{spec}"
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()

        def job(path=path, out=out, spec=spec):
            return score_file(path, out, "query", "result", [spec], workers=2, progress=False)

        peak, summary = peak_rss(job)
        figures[f"{spec}_peak_rss_mib_{tfidf_rows}"] = peak
        figures[f"{spec}_seconds_{tfidf_rows}"] = time.perf_counter() - start
        shutil.rmtree(out, ignore_errors=True)
    figures["tfidf_vs_glove_seconds"] = figures[f"tfidf_seconds_{tfidf_rows}"] / figures[f"glove-50d_seconds_{tfidf_rows}"]
    figures["tfidf_vs_glove_peak_rss"] = (
        figures[f"tfidf_peak_rss_mib_{tfidf_rows}"] / figures[f"glove-50d_peak_rss_mib_{tfidf_rows}"]
    )
    print({k: round(v, 3) for k, v in figures.items()}, flush=True)
    for n in sizes:
        path = search_log_csv(n)
        out = DATA / f"out-memory-{n}"
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        def job(path=path, out=out):
            return score_file(path, out, "query", "result", ["glove-50d"], workers=2, progress=False)

        peak, summary = peak_rss(job)
        figures[f"peak_rss_mib_{n}"] = peak
        figures[f"pairs_per_s_{n}"] = summary.rows / (time.perf_counter() - start)
        shutil.rmtree(out, ignore_errors=True)
    if len(sizes) > 1:
        largest, smallest = figures[f"peak_rss_mib_{sizes[-1]}"], figures[f"peak_rss_mib_{sizes[0]}"]
        figures["peak_ratio_largest_vs_smallest"] = largest / smallest
    record("memory_flat", figures)


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or (1_000_000, 10_000_000))
