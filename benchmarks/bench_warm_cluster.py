"""Start-up paid once: a scoring job in a fresh process against the same job on a cluster
that is already running with its model loaded (``simwidgets cluster``).

    python benchmarks/bench_warm_cluster.py [--pairs 1000000] [--model glove-50d] [--device cuda] [--workers N]

Same search log (CSV), same output format; each job writes a new output folder. Every job is
``simwidgets score`` in a fresh Python, timed from outside; the cluster is ``simwidgets
cluster`` in a process of its own (its worker is threads of that process by default). Reports
the fresh job's time (imports and model loads included), the cluster's start-up (until it
prints its address), and the first and second job on it (the second also finds its texts in
the worker's embedding cache), with their ratios to the fresh job.
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
    import os
    import subprocess

    if opts.words:
        words = [w.strip() for w in open(opts.words, encoding="utf-8") if w.strip()]
        source = Path(tempfile.mkdtemp()) / "log.csv"
        search_log(opts.pairs, words=words).to_csv(source, index=False)
    else:
        source = search_log_csv(opts.pairs)
    figures = {"pairs": opts.pairs, "model": opts.model, "device": opts.device or "cpu", "workers": opts.workers}
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    common = [*(["--device", opts.device] if opts.device else []), *(["--workers", str(opts.workers)] if opts.workers else [])]

    def job(out, *extra):
        argv = [sys.executable, "-m", "simwidgets", "score", str(source), "-o", str(out), "--left", "query",
                "--right", "result", "-m", opts.model, "-q", *extra]
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env=env)
        if done.returncode:
            raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])
        return time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        figures["cold_job_seconds"] = job(Path(tmp) / "cold", *common)
        start = time.perf_counter()
        cluster = subprocess.Popen(
            [sys.executable, "-m", "simwidgets", "cluster", "--port", "0", "--preload", opts.model, *common],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
        )
        try:
            line = ""
            while not line.startswith("scheduler: "):
                line = cluster.stdout.readline()
                if not line and cluster.poll() is not None:
                    raise RuntimeError("simwidgets cluster stopped before printing its address")
            figures["cluster_start_seconds"] = time.perf_counter() - start
            address = line.split()[-1]
            extra = [*(["--device", opts.device] if opts.device else []), "--scheduler", address]
            figures["warm_first_job_seconds"] = job(Path(tmp) / "warm1", *extra)
            figures["warm_second_job_seconds"] = job(Path(tmp) / "warm2", *extra)
        finally:
            cluster.terminate()
            cluster.wait(timeout=60)
    for key in ("cold_job", "warm_first_job", "warm_second_job"):
        figures[f"{key}_pairs_per_s"] = opts.pairs / figures[f"{key}_seconds"]
    figures["warm_first_vs_cold_time"] = figures["warm_first_job_seconds"] / figures["cold_job_seconds"]
    figures["warm_second_vs_cold_time"] = figures["warm_second_job_seconds"] / figures["cold_job_seconds"]
    record("warm_cluster", figures)


if __name__ == "__main__":
    main()
