"""fine_tune against plain sentence-transformers: same data, same settings, same run.

STS-B train -> dev (the open copies in simwidgets/data), MiniLM, CoSENT, lr 2e-5, batch 16, 10%
warm-up, seed 0. Both sides train with sentence-transformers' trainer; ours goes through
``simwidgets.fine_tune`` (data checks, the cached/atomic save, the validation report switched
off so the two do the same work). Each side's wall time runs from the call to the saved model;
both are then scored on STS-B dev with the same ``evaluate_pairs``.

Usage: python benchmarks/bench_finetune.py [--epochs 1] [--train-pairs N] [--base minilm|st:PATH] [--rounds 1]
(on these 2 CPU cores: --train-pairs 400; on a GPU: the whole train set)
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

from common import record  # noqa: E402

from simwidgets import evaluate_pairs, fine_tune  # noqa: E402
from simwidgets.evaluation import read_stsb  # noqa: E402
from simwidgets.models.transformer import SentenceTransformerModel  # noqa: E402
from simwidgets.training.encoder import _st_modules, base_source  # noqa: E402

DATA = HERE.parent / "simwidgets" / "data" / "sts"


def plain(source: str, train, epochs: int, out: Path, device: str) -> float:
    """sentence-transformers alone, as its documentation trains STS-B."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers import SentenceTransformerTrainingArguments as Arguments

    losses, _ = _st_modules()
    start = time.perf_counter()
    model = SentenceTransformer(source, device=device)
    data = Dataset.from_dict(
        {"sentence1": train.left.tolist(), "sentence2": train.right.tolist(), "score": (train.score / 5.0).tolist()}
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
    SentenceTransformerTrainer(model=model, args=args, train_dataset=data, loss=losses.CoSENTLoss(model)).train()
    model.save(str(out / "model"))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-pairs", type=int, default=None)
    parser.add_argument("--base", default="minilm")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--device", default=None)
    opts = parser.parse_args()
    import torch

    device = opts.device or ("cuda" if torch.cuda.is_available() else "cpu")
    train = read_stsb(DATA / "stsb-en-train.csv")
    if opts.train_pairs:
        train = train.iloc[: opts.train_pairs]
    dev = read_stsb(DATA / "stsb-en-dev.csv")
    _, source = base_source(opts.base)
    figures = {"epochs": opts.epochs, "train_pairs": len(train), "device": device}
    base = SentenceTransformerModel(source, name="base", device=device)
    figures["spearman_off_the_shelf"] = float(
        evaluate_pairs(dev.left, dev.right, dev.score, [base], n_boot=0).loc["base", "spearman"]
    )
    plain_s, ours_s = [], []
    for round_ in range(opts.rounds):  # interleaved: plain, ours, plain, ours...
        with tempfile.TemporaryDirectory() as tmp:
            plain_s.append(plain(source, train, opts.epochs, Path(tmp), device))
            theirs = SentenceTransformerModel(str(Path(tmp) / "model"), name="plain", device=device)
            plain_rho = float(
                evaluate_pairs(dev.left, dev.right, dev.score, [theirs], n_boot=0).loc["plain", "spearman"]
            )
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            trained = fine_tune(
                opts.base,
                train.left,
                train.right,
                train.score,
                epochs=opts.epochs,
                validation=0,
                gold_range=(0, 5),
                output_dir=Path(tmp) / "ours",
                progress=False,
                device=device,
            )
            ours_s.append(time.perf_counter() - start)
            ours = SentenceTransformerModel(str(trained.path), name="ours", device=device)
            ours_rho = float(evaluate_pairs(dev.left, dev.right, dev.score, [ours], n_boot=0).loc["ours", "spearman"])
        print(
            f"round {round_ + 1}: plain {plain_s[-1]:.1f} s rho {plain_rho:.4f}; ours {ours_s[-1]:.1f} s rho {ours_rho:.4f}"
        )
    figures.update(
        spearman_plain=plain_rho,
        spearman_ours=ours_rho,
        spearman_difference=ours_rho - plain_rho,
        seconds_plain=min(plain_s),
        seconds_ours=min(ours_s),
        time_ratio=min(ours_s) / min(plain_s),
        seconds_plain_rounds=[round(x, 2) for x in plain_s],
        seconds_ours_rounds=[round(x, 2) for x in ours_s],
    )
    record("finetune_vs_sentence_transformers", figures)


if __name__ == "__main__":
    main()
