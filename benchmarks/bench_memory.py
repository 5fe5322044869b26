"""Peak resident memory of `simwidgets score` on 1,000,000 and 10,000,000 pairs: it must stay flat.

Memory is bounded by the partition size and the per-worker embedding cache, not by the input.
The peak is the largest sum of resident memory over this process and all its children
(the local Dask scheduler and workers), sampled every 0.2 s.

    python benchmarks/bench_memory.py [SIZES...]

``--trace`` instead follows the memory through one job, partition by partition: the search
log of the given sizes written as Parquet in row groups of 125,000 (one partition each),
scored by ``score_file`` with a local worker of ``--workers`` threads, the resident memory
sampled every second beside the partitions written so far; it says whether memory grows with
the log or only with the work in flight, for any model and device:

    python benchmarks/bench_memory.py --trace 10000000,30000000 --spec glove-50d --workers 8
    python benchmarks/bench_memory.py --trace 20000000 --spec minilm --workers 8 --queries 1000 --results 10000
    python benchmarks/bench_memory.py --trace 10000000,30000000 --spec minilm --device cuda   # on a GPU
"""

from __future__ import annotations

import shutil
import threading
import time

import numpy as np
import psutil
from common import DATA, record, search_log_csv


def peak_rss(fn) -> tuple[float, object]:
    """Run ``fn``; the peak resident memory (MiB) of this process and its children, sampled every 0.2 s."""
    trace, result = rss_trace(fn, every=0.2)
    return max((gib for _, gib, _ in trace), default=0.0) * 1024, result


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


def rss_trace(fn, every: float = 1.0, parts_in=None) -> tuple[list, object]:
    """Run ``fn`` while sampling, every ``every`` seconds, the resident memory of this process
    and its children (GiB) and how many partition files ``parts_in`` holds."""
    me = psutil.Process()
    trace: list = []
    done = threading.Event()
    start = time.perf_counter()

    def sample():
        while not done.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            parts = len(list(parts_in.glob("**/*.parquet"))) if parts_in is not None and parts_in.exists() else 0
            trace.append((round(time.perf_counter() - start, 1), round(total / 2**30, 3), parts))
            time.sleep(every)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        result = fn()
    finally:
        done.set()
        thread.join()
    return trace, result


def trace_job(sizes, spec: str, workers: int, device, queries: int, results: int) -> None:
    """Memory through one ``score_file`` job per log size, partition by partition."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from common import search_log

    from simwidgets.batch import score_file

    figures = {"spec": spec, "workers": workers, "device": device or "cpu", "queries": queries, "results": results}
    for n in sizes:
        source = DATA / f"memory-trace-{n}-{queries}-{results}.parquet"
        if not source.exists():
            DATA.mkdir(parents=True, exist_ok=True)
            writer = None
            for start in range(0, n, 5_000_000):  # one 5M-row frame at a time, over the same texts
                log = search_log(min(5_000_000, n - start), n_queries=queries, n_results=results)
                table = pa.Table.from_pandas(log, preserve_index=False)
                writer = writer or pq.ParquetWriter(source.with_suffix(".tmp"), table.schema)
                writer.write_table(table, row_group_size=125_000)
            writer.close()
            source.with_suffix(".tmp").rename(source)
        out = DATA / f"out-memory-trace-{n}"
        shutil.rmtree(out, ignore_errors=True)
        trace, summary = rss_trace(
            lambda source=source, out=out: score_file(
                source, out, "query", "result", [spec], workers=workers, device=device, progress=False
            ),
            parts_in=out,
        )
        shutil.rmtree(out, ignore_errors=True)
        seconds = trace[-1][0] if trace else 0.0
        peak = max(trace, key=lambda t: t[1])
        print(f"{n:,} pairs, {spec}: {seconds:.0f} s, peak {peak[1]:.2f} GiB at {peak[2]} partitions written")
        for t, gib, parts in trace[:: max(1, len(trace) // 20)]:
            print(f"  {t:6.0f} s  {gib:5.2f} GiB  {parts:4d} partitions")
        figures[f"peak_gib_{n}"] = peak[1]
        figures[f"peak_at_partitions_{n}"] = peak[2]
        figures[f"partitions_{n}"] = summary.partitions
        figures[f"pairs_per_s_{n}"] = summary.rows / max(seconds, 1e-9)
        # memory while the second half of the partitions is written against the first half's
        # (loading and embedding before any partition is written left out): above 1 when it grows with the log
        half = summary.partitions / 2
        early = [g for _, g, parts in trace if 0 < parts <= half]
        late = [g for _, g, parts in trace if parts > half]
        if early and late:
            figures[f"late_vs_early_mean_{n}"] = float(np.mean(late) / np.mean(early))
    record("memory_trace", figures)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int)
    parser.add_argument("--trace", default="", help="log sizes to follow through one job each (comma-separated)")
    parser.add_argument("--spec", default="glove-50d")
    parser.add_argument("--workers", type=int, default=8, help="threads of the local worker (--trace)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--queries", type=int, default=20_000, help="distinct queries of the search log (--trace)")
    parser.add_argument("--results", type=int, default=200_000, help="distinct results of the search log (--trace)")
    args = parser.parse_args()
    if args.trace:
        trace_job([int(x) for x in args.trace.split(",")], args.spec, args.workers, args.device, args.queries,
                  args.results)  # fmt: skip
    else:
        main(tuple(args.sizes) or (1_000_000, 10_000_000))
