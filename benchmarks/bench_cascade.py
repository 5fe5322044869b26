"""Cascade with a cross-encoder, in one run: a cross-encoder trained from MiniLM on STS-B train
is the expensive model; the cheap one scores every pair (MiniLM itself, and a static model
distilled from MiniLM and taught on STS-B train's sentences). The band is chosen with
``choose_cascade(max_differ=...)``, or to a call budget with ``max_calls=...``, on half of STS-B
dev (5 folds inside it) and judged on the
other half against the cross-encoder everywhere: the share of pairs it is called on, and the
share of decisions that differ. ``--split random`` draws the halves at random (seed 0; ``randomN``
with seed N), as a
labelled sample is drawn from a log; ``halves`` takes the file's first and second halves, whose
genres differ (captions and forum answers, then forum answers and news): the band meets text unlike the text
it was fitted on.

    python benchmarks/bench_cascade.py --base st:/tmp/m32 --device cuda [--max-differ 0.01]
    python benchmarks/bench_cascade.py --train-pairs 1000     # on a CPU: a cross-encoder from fewer labels
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import record  # noqa: E402

import simwidgets as sw  # noqa: E402
from simwidgets.evaluation import choose_cascade  # noqa: E402
from simwidgets.evaluation.datasets import read_stsb  # noqa: E402
from simwidgets.models import load_model  # noqa: E402

DATA = Path(sw.__file__).resolve().parent / "data" / "sts"


def _scores(spec, left, right):
    frame = sw.score_pairs(left, right, load_model(spec))
    return frame[[c for c in frame.columns if c.startswith("score_")][0]].to_numpy(np.float64)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="minilm")
    parser.add_argument("--device", default=None)
    parser.add_argument("--max-differ", default="0.01,0.02")
    parser.add_argument("--max-calls", default="0.1,0.15",
                        help="call budgets to fit the band to instead (choose_cascade(max_calls=...), max_differ 0.01)")
    parser.add_argument("--epochs", default="auto")
    parser.add_argument("--split", default="random,halves", help="how dev is cut into fitting and judging halves")
    parser.add_argument("--train-pairs", type=int, default=None, help="STS-B train pairs the cross-encoder learns from (default: all)")
    args = parser.parse_args()
    from scipy.stats import spearmanr

    dev = read_stsb(DATA / "stsb-en-dev.csv")
    train = read_stsb(DATA / "stsb-en-train.csv")
    log = list(dict.fromkeys(train.left.tolist() + train.right.tolist()))
    epochs = args.epochs if args.epochs == "auto" else int(args.epochs)
    labelled = train.sample(n=args.train_pairs, random_state=0) if args.train_pairs else train
    start = time.perf_counter()
    ce = sw.train_cross_encoder(args.base, labelled.left, labelled.right, labelled.score, epochs=epochs,
                                device=args.device)
    ce_seconds = time.perf_counter() - start
    start = time.perf_counter()
    static = sw.distill_static(args.base, log, progress=False)
    static_seconds = time.perf_counter() - start
    figures = {"base": args.base, "ce_train_pairs": len(labelled), "ce_train_s": round(ce_seconds, 1), "distil_s": round(static_seconds, 1)}
    for label, spec in (("ce", ce.spec), ("minilm", args.base), ("static", static)):
        rho = spearmanr(_scores(spec, dev.left, dev.right), dev.score, nan_policy="omit")[0]
        figures[f"dev_spearman_{label}"] = round(float(rho), 4)
        print(f"{label}: STS-B dev Spearman {rho:.4f}", flush=True)
    half = len(dev) // 2
    for split in args.split.split(","):
        # "random": a seeded half of dev's pairs, as a labelled sample of a log is drawn; "halves": the
        # file's first and second halves, which hold different genres (a shift between fit and use)
        # "randomN": another seeded half (seed N), for the spread over draws
        seed = int(split[len("random"):] or 0) if split.startswith("random") else None
        order = np.random.default_rng(seed).permutation(len(dev)) if seed is not None else np.arange(len(dev))
        fit, judge = dev.iloc[np.sort(order[:half])], dev.iloc[np.sort(order[half:])]
        print(f"split {split}:", flush=True)
        cascades(args, figures, ce, static, fit, judge, prefix="" if split == "halves" else f"{split}_")
    record("cascade", figures)
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "cascade.json").write_text(json.dumps(figures, indent=1))


def cascades(args, figures: dict, ce, static: str, fit, judge, prefix: str) -> None:
    """The cascades from MiniLM and from the static model, fitted on ``fit``, judged on ``judge``."""
    expensive_full = _scores(ce.spec, judge.left, judge.right)
    expensive_fit = _scores(ce.spec, fit.left, fit.right)
    settings = [(float(x), None) for x in args.max_differ.split(",") if x]
    settings += [(0.01, float(x)) for x in args.max_calls.split(",") if x]
    for cheap_label, cheap in (("minilm", args.base), ("static", static)):
        cheap_scores = _scores(cheap, judge.left, judge.right)
        cheap_fit = _scores(cheap, fit.left, fit.right)
        for max_differ, max_calls in settings:
            cascade = choose_cascade(cheap, ce.spec, fit.left, fit.right, fit.score, max_differ=max_differ,
                                     max_calls=max_calls, scores=(cheap_fit, expensive_fit))  # fmt: skip
            sent = cascade.sends(cheap_scores)
            decided = cascade.decide(cheap_scores, np.where(sent, expensive_full, np.nan))
            everywhere = expensive_full >= cascade.threshold
            differ = float(np.mean(decided != everywhere))
            key = f"{prefix}{cheap_label}_to_ce_{max_differ}" + (f"_calls_{max_calls}" if max_calls else "")
            figures[key] = {
                "threshold": cascade.threshold,
                "band": [cascade.low, cascade.high],
                "fit_half_held_out": cascade.held_out,
                "judge_half_calls": round(float(sent.mean()), 4),
                "judge_half_differ": round(differ, 4),
            }
            print(f"{cheap_label} -> cross-encoder, max_differ {max_differ}, max_calls {max_calls}: {cascade}\n"
                  f"  unseen half ({len(judge)} pairs): cross-encoder called on {sent.mean():.1%}, "
                  f"decisions unlike it everywhere {differ:.2%}", flush=True)


if __name__ == "__main__":
    main()
