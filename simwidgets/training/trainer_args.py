"""What the sentence-transformers trainers of :mod:`simwidgets.training` share: their
arguments (no checkpoints kept, one log line and one evaluation per epoch, no reporting
services) and the per-epoch history read back from their logs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..extras import require


def require_training() -> None:
    """The packages sentence-transformers' trainers need beyond inference (extra ``[train]``)."""
    require("datasets", "fine-tuning")
    require("accelerate", "fine-tuning")


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
):
    """``cls`` (a sentence-transformers ``...TrainingArguments``) with the settings every job here uses."""
    import inspect

    from transformers import TrainingArguments

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
        save_strategy="no",
        report_to="none",
        disable_tqdm=not progress,
        use_cpu=not device.startswith("cuda"),
        fp16=False,
        bf16=False,
    )


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
