"""A search log scored end to end on the CPU with each fast model, in one run: what a billion
rows costs on this machine. ``score_file`` on the synthetic Zipf search log (queries and
results repeat as a search log's do), fresh embedding caches, the default local worker.

Models: GloVe-50d; a static model distilled from MiniLM (``distill_static("minilm")``, its
distillation not timed); MiniLM on ONNX Runtime int8 and on torch (on fewer pairs: both are
slow here). Per model: pairs/s end to end and the hours a billion pairs of this shape would
take (assuming a billion-row log repeats its texts as this one does: an assumption, as the
distinct texts of a bigger log grow with it).

    python benchmarks/bench_log_cpu.py [--pairs 1000000] [--slow-pairs 20000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import record, search_log  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--slow-pairs", type=int, default=20_000)
    args = parser.parse_args()
    import simwidgets as sw
    from simwidgets.batch import score_file

    static = sw.distill_static("minilm", progress=False)
    figures = {"pairs": args.pairs, "slow_pairs": args.slow_pairs, "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sorted({args.pairs, args.slow_pairs}):
            log = search_log(n)
            log.to_parquet(Path(tmp) / f"log-{n}.parquet", index=False, row_group_size=100_000)
            figures[f"distinct_texts_{n}"] = int(len(set(log["query"]) | set(log["result"])))
        score_file(Path(tmp) / f"log-{args.slow_pairs}.parquet", Path(tmp) / "warm", "query", "result",
                   ["glove-50d"], progress=False)  # start the process's imports once
        for label, spec, n in (("glove-50d", "glove-50d", args.pairs), ("static from minilm", static, args.pairs),
                               ("minilm onnx-int8", "minilm?backend=onnx-int8", args.slow_pairs),
                               ("minilm torch", "minilm", args.slow_pairs)):
            out = Path(tmp) / "out"
            shutil.rmtree(out, ignore_errors=True)
            from simwidgets.models.loading import _LOADED

            _LOADED.clear()  # a fresh model: an empty embedding cache
            start = time.perf_counter()
            score_file(Path(tmp) / f"log-{n}.parquet", out, "query", "result", [spec], progress=False)
            seconds = time.perf_counter() - start
            rate = n / seconds
            figures[label] = {"pairs": n, "seconds": round(seconds, 2), "pairs_per_s": round(rate),
                              "hours_per_billion": round(1e9 / rate / 3600, 1)}
            print(f"{label:22s} {n:>9,} pairs: {rate:>10,.0f} pairs/s end to end; "
                  f"a billion such pairs: {1e9 / rate / 3600:,.1f} h", flush=True)
    record("log_cpu", figures)


if __name__ == "__main__":
    main()
