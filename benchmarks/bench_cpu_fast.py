"""CPU speed against quality, in one run: MiniLM on torch (the baseline, timed first and last,
its rate the mean of both), MiniLM on ONNX Runtime and on OpenVINO (float32 and int8), static
models distilled from MiniLM (alone, and taught on a log), GloVe; then a cascade.

Texts/s are measured on distinct STS-B train sentences no cache holds (a first pass over new
texts), on this machine's CPU; quality is Spearman on STS-B dev (1,500 pairs, never used to
distil, teach or fit anything). The "log" the static model learns from is STS-B train's
sentences (10,536 distinct; no labels read). The cascade: the static model scores every pair,
MiniLM only those in a band chosen on half of STS-B dev (5 folds inside it), judged on the
other half against MiniLM everywhere.

    python benchmarks/bench_cpu_fast.py [--learn 10536] [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import record  # noqa: E402

import simwidgets as sw  # noqa: E402
from simwidgets.evaluation import choose_cascade  # noqa: E402
from simwidgets.evaluation.datasets import read_stsb  # noqa: E402
from simwidgets.models import load_model  # noqa: E402
from simwidgets.training.frontier import measure_speed  # noqa: E402

DATA = Path(sw.__file__).resolve().parent / "data" / "sts"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learn", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    dev = read_stsb(DATA / "stsb-en-dev.csv")
    train = read_stsb(DATA / "stsb-en-train.csv")
    log = list(dict.fromkeys(train.left.tolist() + train.right.tolist()))
    timing = list(reversed(log))  # timed texts: distinct, uncached
    start = time.perf_counter()
    static_plain = sw.distill_static("minilm", progress=False)
    plain_s = time.perf_counter() - start
    start = time.perf_counter()
    static_log = sw.distill_static("minilm", log, learn=args.learn, progress=False)
    log_s = time.perf_counter() - start
    candidates = {
        "minilm (torch)": "minilm",
        "minilm onnx-int8": "minilm?backend=onnx-int8",
        "minilm onnx fp32": "minilm?backend=onnx",
        "minilm openvino-int8": "minilm?backend=openvino-int8",
        "minilm openvino fp32": "minilm?backend=openvino",
        "static from minilm": static_plain,
        "static from minilm, taught on the log": static_log,
        "glove-50d": "glove-50d",
    }
    rows = {}
    for label, spec in candidates.items():
        speed = measure_speed(spec, timing, "cpu", args.seconds)
        frame = sw.score_pairs(dev.left, dev.right, load_model(spec))
        score = frame[[c for c in frame.columns if c.startswith("score_")][0]]
        rho = float(spearmanr(score, dev.score, nan_policy="omit")[0])
        rows[label] = {"texts_per_s": round(speed, 1), "spearman": round(rho, 4)}
        print(f"{label:40s} {speed:12,.0f} texts/s   STS-B dev Spearman {rho:.4f}", flush=True)
    # torch once more at the end: the machine's speed drifts over a run, so the base is the mean of both
    again = measure_speed("minilm", timing, "cpu", args.seconds)
    first = rows["minilm (torch)"]["texts_per_s"]
    print(f"{'minilm (torch), again':40s} {again:12,.0f} texts/s", flush=True)
    rows["minilm (torch)"].update(texts_per_s=round((first + again) / 2, 1), runs=[first, round(again, 1)])
    base = rows["minilm (torch)"]
    for label, row in rows.items():
        row["speed_x_minilm"] = round(row["texts_per_s"] / base["texts_per_s"], 2)
        row["spearman_minus_minilm"] = round(row["spearman"] - base["spearman"], 4)
        print(
            f"{label:40s} {row['speed_x_minilm']:8.2f}x MiniLM's texts/s, Spearman {row['spearman_minus_minilm']:+.4f}"
        )

    # the cascade: static everywhere, MiniLM in the band; chosen on one half of dev, judged on the other
    half = len(dev) // 2
    fit, judge = dev.iloc[:half], dev.iloc[half:]
    cascade = choose_cascade(static_log, "minilm", fit.left, fit.right, fit.score, max_differ=0.01)
    cheap = sw.score_pairs(judge.left, judge.right, load_model(static_log)).filter(like="score_").iloc[:, 0]
    full = sw.score_pairs(judge.left, judge.right, "minilm")["score_minilm"].to_numpy()
    sent = cascade.sends(cheap)
    decided = cascade.decide(cheap, np.where(sent, full, np.nan))
    differ = float(np.mean(decided != (full >= cascade.threshold)))
    print(cascade)
    print(
        f"unseen half ({len(judge)} pairs): MiniLM called on {sent.mean():.1%}; decisions unlike MiniLM everywhere: {differ:.2%}"
    )
    figures = {
        "machine_cores": os.cpu_count(),
        "distil_seconds": {"plain": round(plain_s, 1), "taught_on_log": round(log_s, 1)},
        "learn_texts": args.learn,
        "models": rows,
        "cascade": {
            "cheap": "static taught on the log",
            "expensive": "minilm",
            "threshold": cascade.threshold,
            "band": [cascade.low, cascade.high],
            "held_out_fit_half": cascade.held_out,
            "unseen_half_calls": round(float(sent.mean()), 4),
            "unseen_half_differ": round(differ, 4),
        },
    }
    record("cpu_fast", figures)


if __name__ == "__main__":
    main()
