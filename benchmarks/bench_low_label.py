"""Few labels, much unlabelled text: does the log make the labels go further?

STS-B train's sentences are the unlabelled corpus (the log); N labelled pairs are drawn from
STS-B train (a new draw per seed); every candidate is judged on STS-B dev (1,500 pairs it
never saw), in the same run:

* ``off the shelf``: the base (MiniLM);
* ``fine-tuned``: ``fine_tune(base, labels)`` with the defaults (epochs scaled to the labels,
  best epoch on a 10% validation split);
* ``<method> + fine-tuned``: ``adapt(base, corpus, method)`` then the same fine-tune, for each
  method (adapted once, on the corpus alone);
* ``<method> (no labels)``: the adapted model itself;
* ``silver N + fine-tuned``: N unlabelled STS-B train pairs labelled by a warm-started
  cross-encoder fitted on the labels, added to them (Augmented SBERT; kind ``silver``);
* ``cross-encoder (cold)``: the labels alone from a new head (the old default) and
  ``cross-encoder (warm)``: first trained to give the base's cosine on the labelled pairs, as
  many random pairings and ``--log-pairs`` unlabelled STS-B train pairs (the new default).

For each size, the dev Spearman of each candidate (mean and spread over seeds) and, pooled over
seeds, the paired difference of the best log-using candidate against plain fine-tuning and the
base, with its 95% interval (a paired bootstrap of the dev pairs, per seed).

Usage: python benchmarks/bench_low_label.py [--sizes 250,500,1000] [--seeds 3]
       [--methods tsdae,simcse,mlm] [--base minilm|st:PATH] [--device cuda] [--corpus N]
       [--log-pairs 5000] [--kinds ft,adapt,ce,silver] [--silver 2000]
(on these 2 CPU cores: --sizes 100 --seeds 1 --methods simcse --corpus 500 --kinds ft,adapt)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from common import record  # noqa: E402

from simwidgets.errors import SimwidgetsWarning  # noqa: E402
from simwidgets.evaluation import compare_models, read_stsb  # noqa: E402
from simwidgets.similarity import score_pairs  # noqa: E402
from simwidgets.training import adapt, fine_tune, train_cross_encoder  # noqa: E402

DATA = HERE.parent / "simwidgets" / "data" / "sts"


def spearman(scores: pd.DataFrame, gold) -> dict[str, float]:
    from scipy.stats import spearmanr

    columns = [c for c in scores.columns if c.startswith("score_")]
    return {c[len("score_") :]: float(spearmanr(scores[c], gold, nan_policy="omit")[0]) for c in columns}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="250,500,1000")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--methods", default="tsdae,simcse,mlm")
    parser.add_argument("--base", default="minilm")
    parser.add_argument("--device", default=None)
    parser.add_argument("--corpus", type=int, default=100_000, help="distinct sentences of the corpus at most")
    parser.add_argument("--log-pairs", type=int, default=5000)
    parser.add_argument("--kinds", default="ft,adapt,ce")
    parser.add_argument("--adapt-epochs", type=int, default=1)
    parser.add_argument("--silver", type=int, default=2000, help="silver pairs (kind 'silver')")
    args = parser.parse_args()
    kinds = set(args.kinds.split(","))
    methods = [m for m in args.methods.split(",") if m] if "adapt" in kinds else []
    train = read_stsb(DATA / "stsb-en-train.csv")
    dev = read_stsb(DATA / "stsb-en-dev.csv")
    corpus = list(dict.fromkeys(train.left.tolist() + train.right.tolist()))[: args.corpus]
    work = Path(tempfile.mkdtemp(prefix="low-label-"))
    options = {"progress": False, "device": args.device, "cache_dir": work}
    warnings.simplefilter("ignore", SimwidgetsWarning)  # a worse model is in the table, said there

    adapted, seconds = {}, {}
    for method in methods:
        start = time.perf_counter()
        adapted[method] = adapt(args.base, corpus, method=method, epochs=args.adapt_epochs, **options).spec
        seconds[f"adapt_{method}_s"] = round(time.perf_counter() - start, 1)
        print(f"adapted with {method} on {len(corpus):,} sentences in {seconds[f'adapt_{method}_s']} s", flush=True)

    rows, comparisons = [], []
    for size in [int(s) for s in args.sizes.split(",")]:
        for seed in range(args.seeds):
            labelled = train.sample(n=size, random_state=seed)
            rest = train.drop(labelled.index).sample(n=min(args.log_pairs, len(train) - size), random_state=seed)
            specs = {"off the shelf": args.base}
            fit = dict(validation=0.1, seed=seed, **options)
            if "ft" in kinds:
                specs["fine-tuned"] = fine_tune(args.base, labelled.left, labelled.right, labelled.score, **fit).spec
            for method, spec in adapted.items():
                specs[f"{method} (no labels)"] = spec
                specs[f"{method} + fine-tuned"] = fine_tune(
                    spec, labelled.left, labelled.right, labelled.score, **fit
                ).spec
            if "ce" in kinds:
                specs["cross-encoder (cold)"] = train_cross_encoder(
                    args.base, labelled.left, labelled.right, labelled.score, warm_start=False, **fit
                ).spec
                specs["cross-encoder (warm)"] = train_cross_encoder(
                    args.base, labelled.left, labelled.right, labelled.score, log_pairs=(rest.left, rest.right),
                    **fit,
                ).spec  # fmt: skip
            if "silver" in kinds:
                from simwidgets.trainers import FineTune

                trainer = FineTune(args.base, silver=args.silver, silver_from=(rest.left.tolist(), rest.right.tolist()),
                                   device=args.device, cache_dir=work)  # fmt: skip
                specs[f"silver {args.silver} + fine-tuned"] = trainer.fit(
                    labelled.left.tolist(), labelled.right.tolist(), labelled.score.to_numpy(), seed=seed,
                    gold_range=(0.0, 5.0),
                )  # fmt: skip
            from simwidgets import load_model

            models = []
            for label, spec in specs.items():
                model = load_model(spec, device=args.device) if args.device else load_model(spec)
                model.name = label
                models.append(model)
            scores = score_pairs(dev.left, dev.right, models, progress=False)
            for label, value in spearman(scores, dev.score).items():
                rows.append({"labels": size, "seed": seed, "candidate": label, "spearman": value})
            paired = compare_models(scores, dev.score, n_boot=1000, seed=seed)
            paired = paired[paired["metric"] == "spearman"]
            comparisons.append(paired.assign(labels=size, seed=seed))
            print(pd.DataFrame(rows).query("labels == @size and seed == @seed").to_string(index=False), flush=True)

    table = pd.DataFrame(rows)
    summary = table.groupby(["labels", "candidate"], sort=False)["spearman"].agg(["mean", "std", "count"])
    print(summary.round(4).to_string())
    diffs = pd.concat(comparisons)
    figures = {**seconds, "base": args.base, "corpus_sentences": len(corpus), "seeds": args.seeds}
    for size, part in summary.groupby(level=0):
        means = part.droplevel(0)["mean"]
        for name, value in means.items():
            figures[f"n{size}_{name}"] = round(float(value), 4)
        users = [n for n in means.index if "+ fine-tuned" in n or "warm" in n or "silver" in n]
        if users:
            best = max(users, key=lambda n: means[n])
            figures[f"n{size}_best_log_using"] = best
            for against in ("fine-tuned", "off the shelf"):
                if against not in means.index:
                    continue
                rows_ = diffs[(diffs.labels == size) & diffs.model_a.isin([best, against])
                              & diffs.model_b.isin([best, against])]  # fmt: skip
                sign = np.where(rows_.model_a == best, 1.0, -1.0)
                lows = np.minimum(sign * rows_.diff_low, sign * rows_.diff_high)
                highs = np.maximum(sign * rows_.diff_low, sign * rows_.diff_high)
                key = f"n{size}_best_minus_{against.replace(' ', '_')}"
                figures[key] = round(float(np.mean(sign * rows_["diff"])), 4)
                figures[f"{key}_interval_per_seed"] = [
                    f"{lo:+.3f}..{hi:+.3f}" for lo, hi in zip(lows.tolist(), highs.tolist())
                ]
    record("low_label", figures)


if __name__ == "__main__":
    main()
