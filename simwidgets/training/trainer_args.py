"""What the sentence-transformers trainers of :mod:`simwidgets.training` share: their
arguments (no checkpoints kept, one log line and one evaluation per epoch, no reporting
services) and the per-epoch history read back from their logs."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..extras import require


def require_training() -> None:
    """The packages sentence-transformers' trainers need beyond inference (extra ``[train]``)."""
    require("datasets", "fine-tuning")
    require("accelerate", "fine-tuning")


#: ``epochs="auto"``: at least this many optimizer steps (epochs scaled to the label count) ...
MIN_STEPS = 200
#: ... in at most this many epochs, and at least one.
MAX_EPOCHS = 20
#: A sentence encoder's ``epochs="auto"`` is at least this many epochs (sentence-transformers'
#: STS-B recipe): on all 5,749 STS-B train pairs one epoch left MiniLM below its base on STS-B dev
#: (0.864 against 0.867) where four gave 0.882 (same run, docs/benchmarks.md).
ENCODER_MIN_EPOCHS = 4
#: Early stopping: epochs without a better validation metric before training stops.
PATIENCE = 3


def resolve_epochs(epochs, pairs: int, batch_size: int, *, least: int = 1) -> int:
    """``epochs`` as given, or for ``"auto"`` the epochs that make at least :data:`MIN_STEPS`
    optimizer steps over ``pairs`` training pairs, and at least ``least`` epochs (at most
    :data:`MAX_EPOCHS`): a few hundred labels get as many updates as a few thousand, where one
    epoch barely moves a model.

    >>> resolve_epochs("auto", 500, 16), resolve_epochs("auto", 5749, 16), resolve_epochs(3, 500, 16)
    (7, 1, 3)
    >>> resolve_epochs("auto", 5749, 16, least=ENCODER_MIN_EPOCHS)
    4
    """
    if epochs == "auto":
        per_epoch = max(1, math.ceil(pairs / batch_size))
        return int(min(MAX_EPOCHS, max(1, least, math.ceil(MIN_STEPS / per_epoch))))
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise InputError(f"epochs must be 'auto' or a whole number >= 1, got {epochs!r}")
    return epochs


def arguments(
    cls,
    folder: Path,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    warmup_ratio: float,
    seed: int,
    evaluate: bool,
    progress: bool,
    device: str,
    best: str | None = None,
):
    """``cls`` (a sentence-transformers ``...TrainingArguments``) with the settings every job
    here uses. With ``best`` (a logged validation metric, higher is better) and ``evaluate``,
    each epoch's model is kept until a better one comes, and the best epoch's weights are the
    ones saved at the end (with :func:`early_stopping`)."""
    import inspect

    from transformers import TrainingArguments

    keep_best = bool(evaluate and best)
    # transformers 5 takes the warm-up share as a float warmup_steps; 4 as warmup_ratio
    if "warmup_ratio" in inspect.signature(TrainingArguments).parameters:
        warmup = {"warmup_ratio": warmup_ratio}
    else:
        warmup = {"warmup_steps": float(warmup_ratio)}
    return cls(
        output_dir=str(Path(folder) / "checkpoints"),
        num_train_epochs=epochs,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=max(batch_size, 64),
        learning_rate=learning_rate,
        **warmup,
        seed=seed,
        data_seed=seed,
        eval_strategy="epoch" if evaluate else "no",
        logging_strategy="epoch",
        save_strategy="epoch" if keep_best else "no",
        save_total_limit=2 if keep_best else None,
        load_best_model_at_end=keep_best,
        metric_for_best_model=best if keep_best else None,
        greater_is_better=True if keep_best else None,
        report_to="none",
        disable_tqdm=not progress,
        use_cpu=not device.startswith("cuda"),
        fp16=False,
        bf16=False,
    )


def early_stopping(trainer, args) -> None:
    """Stop after :data:`PATIENCE` epochs without a better validation metric (when the best
    epoch is kept: see :func:`arguments`)."""
    if getattr(args, "load_best_model_at_end", False):
        from transformers import EarlyStoppingCallback

        trainer.add_callback(EarlyStoppingCallback(early_stopping_patience=PATIENCE))


def best_epoch(log_history: list[dict], metric: str | None) -> int | None:
    """The epoch whose validation metric was best (the one kept), or None."""
    if metric is None:
        return None
    key = f"eval_validation_{metric}"
    best = None
    for entry in log_history:  # the first epoch to reach the best value (a tie is no better)
        if key in entry and "epoch" in entry and (best is None or entry[key] > best[0]):
            best = (entry[key], int(round(entry["epoch"])))
    return None if best is None else best[1]


def quiet(trainer, progress: bool) -> None:
    """Without ``progress``, no per-epoch log lines printed either (the history keeps them)."""
    if not progress:
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)


def history(log_history: list[dict], metric: str | None) -> pd.DataFrame:
    """One row per epoch from a trainer's log: training loss and the validation metric."""
    rows: dict[int, dict] = {}
    for entry in log_history:
        epoch = entry.get("epoch")
        if epoch is None:
            continue
        row = rows.setdefault(int(round(epoch)), {"epoch": int(round(epoch))})
        if "loss" in entry:
            row["train_loss"] = float(entry["loss"])
        if metric is not None:
            key = f"eval_validation_{metric}"
            if key in entry:
                row[f"validation_{metric}"] = float(entry[key])
    return pd.DataFrame(sorted(rows.values(), key=lambda r: r["epoch"]))


def no_widget_examples(model) -> None:
    """Skip the Hub model card's widget examples (a "Computing widget examples" bar when the
    trainer starts): a model trained here is kept locally, where no widget shows them."""
    card = getattr(model, "model_card_data", None)
    if card is not None and hasattr(card, "set_widget_examples"):
        card.set_widget_examples = lambda dataset: None
