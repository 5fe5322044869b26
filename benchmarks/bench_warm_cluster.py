"""Start-up paid once: a scoring job on a fresh local cluster against the same job on a
cluster that is already running with its model loaded (``simwidgets cluster``).

    python benchmarks/bench_warm_cluster.py [--pairs 1000000] [--model glove-50d] [--device cuda] [--workers N]

Same search log (CSV), same output format; each job writes a new output folder. Reports the
cold job's time (cluster start, imports and model loads included), the cluster's own start-up,
and the first and second job on the warm cluster (the second also finds its texts in the
workers' embedding caches), with their ratios to the cold job.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from common import record, search_log, search_log_csv  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--model", default="glove-50d")
    parser.add_argument("--device", default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--words", default=None, help="a file of words to build the log from (no GloVe needed)")
    opts = parser.parse_args()
    from simwidgets.batch import score_file
    from simwidgets.batch.cluster import start_cluster

    if opts.words:
        words = [w.strip() for w in open(opts.words, encoding="utf-8") if w.strip()]
        source = Path(tempfile.mkdtemp()) / "log.csv"
        search_log(opts.pairs, words=words).to_csv(source, index=False)
    else:
        source = search_log_csv(opts.pairs)
    figures = {"pairs": opts.pairs, "model": opts.model, "device": opts.device or "cpu", "workers": opts.workers}

    def job(out, **kwargs):
        start = time.perf_counter()
        summary = score_file(source, out, "query", "result", [opts.model], progress=False, **kwargs)
        assert summary.rows == opts.pairs
        return time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        figures["cold_job_seconds"] = job(Path(tmp) / "cold", device=opts.device, workers=opts.workers)
        start = time.perf_counter()
        cluster, client = start_cluster(device=opts.device, workers=opts.workers, port=0, preload=[opts.model])
        figures["cluster_start_seconds"] = time.perf_counter() - start
        address = client.scheduler.address
        try:
            figures["warm_first_job_seconds"] = job(Path(tmp) / "warm1", device=opts.device, scheduler=address)
            figures["warm_second_job_seconds"] = job(Path(tmp) / "warm2", device=opts.device, scheduler=address)
        finally:
            client.close()
            cluster.close()
    for key in ("cold_job", "warm_first_job", "warm_second_job"):
        figures[f"{key}_pairs_per_s"] = opts.pairs / figures[f"{key}_seconds"]
    figures["warm_first_vs_cold_time"] = figures["warm_first_job_seconds"] / figures["cold_job_seconds"]
    figures["warm_second_vs_cold_time"] = figures["warm_second_job_seconds"] / figures["cold_job_seconds"]
    record("warm_cluster", figures)


if __name__ == "__main__":
    main()
