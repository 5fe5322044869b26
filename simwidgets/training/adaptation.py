"""Adapt a sentence encoder to the user's own text before any label: the log's unlabelled
queries and results teach it the domain's words and phrasing (ULMFiT's premise, done the
sentence-transformers way).

Methods (all with sentence-transformers' or transformers' own losses and trainers):

* ``"simcse"`` - each text against itself through two dropout masks, the other texts of the
  batch as negatives (``MultipleNegativesRankingLoss`` on duplicated texts; unsupervised SimCSE);
* ``"tsdae"`` - rebuild each text from a copy with 60% of its words deleted, through a decoder
  tied to the encoder (``DenoisingAutoEncoderLoss``; TSDAE);
* ``"mlm"`` - masked-language modelling on the texts (transformers' ``DataCollatorForLanguageModeling``),
  then the encoder's weights back into the sentence encoder;
* ``"lm"`` - for a ULMFiT base (``"ulmfit-small"``, ``"ulmfit:PATH"``): an AWD-LSTM language
  model trained on the texts with fastai (:func:`~simwidgets.train_ulmfit`), ULMFiT's first
  step; ``FineTune("ulmfit-small", adapt_on=log)`` then trains it as a siamese model on the
  labels, so "a language model built on my data, then similarity" is one cross-validated row.

>>> adapted = adapt("minilm", "log/", column=["query", "result"], method="simcse")  # doctest: +SKIP
>>> fine_tune(adapted.spec, df.query, df.result, df.grade)                      # doctest: +SKIP
>>> sw.cross_validate(["minilm", FineTune("minilm", adapt_on="log/", adapt_column="query")], ...)  # doctest: +SKIP
"""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

from ..errors import InputError
from .corpus import corpus_sample
from .encoder import encoder_source
from .job import Recipe, parse_base, run_job
from .result import TrainedModel
from .store import job_key
from .trainer_args import arguments, no_widget_examples, quiet, require_training
from .trainer_args import history as read_history

#: Each method's default batch size and learning rate (SimCSE's, TSDAE's and BERT's MLM papers').
METHODS = {"simcse": (64, 3e-5), "tsdae": (8, 3e-5), "mlm": (32, 5e-5)}
#: The share of words TSDAE deletes from each text.
DELETION = 0.6


def delete_words(text: str, rng: random.Random, share: float = DELETION) -> str:
    """``text`` with each word deleted with probability ``share`` (one word always kept)."""
    words = text.split()
    if not words:
        return text
    kept = [w for w in words if rng.random() >= share]
    return " ".join(kept or [rng.choice(words)])


class LanguageModelRecipe(Recipe):
    """An AWD-LSTM language model trained on the texts with fastai, saved in the safe format."""

    kind, made_by, method = "ulmfit", "lm", "lm"

    def __init__(self, base, *, epochs, seed, progress):
        self.label = self.identity = base.spec
        self.epochs, self.seed, self.progress = epochs, seed, progress
        self.batch_size = 32

    def spec(self, folder: Path) -> str:
        return f"ulmfit:{folder}"

    def settings(self) -> dict:
        return {"objective": "lm", "epochs": self.epochs, "seed": self.seed}

    def adapt(self, folder: Path, texts: list[str]) -> list[dict]:
        from ..models.ulmfit import train_ulmfit

        model = train_ulmfit(texts, epochs=self.epochs, seed=self.seed, progress=self.progress, save_to=folder)
        return [{"epoch": self.epochs, "texts": len(texts), "vocabulary": len(model.vocab)}]


class AdaptRecipe(Recipe):
    """A sentence encoder trained on unlabelled texts with one of :data:`METHODS`."""

    kind = "st"

    def __init__(self, base, *, method, epochs, batch_size, learning_rate, seed, device, progress):
        if method not in METHODS:
            raise InputError(f"method must be one of {sorted(METHODS)}, got {method!r}")
        self.label, self.source = encoder_source(base)
        self.identity = f"{self.label}|{self.source}"
        self.method, self.made_by = method, method
        self.epochs, self.seed, self.device, self.progress = epochs, seed, device, progress
        default_batch, default_rate = METHODS[method]
        self.batch_size = default_batch if batch_size is None else batch_size
        self.learning_rate = default_rate if learning_rate is None else learning_rate

    def spec(self, folder: Path) -> str:
        return f"st:{folder}"

    def settings(self) -> dict:
        return {
            "objective": self.method,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "seed": self.seed,
        }

    def _arguments(self, cls, folder: Path):
        return arguments(
            cls, folder, epochs=self.epochs, batch_size=self.batch_size, learning_rate=self.learning_rate,
            warmup_ratio=0.1, seed=self.seed, evaluate=False, progress=self.progress, device=self.device,
        )  # fmt: skip

    def adapt(self, folder: Path, texts: list[str]) -> list[dict]:
        """Train on ``texts``, save the sentence encoder into ``folder``, return the history."""
        require_training()
        import torch
        from sentence_transformers import SentenceTransformer

        from ..models.sources import quiet_loading
        from ..models.transformer import pick_device

        self.device = pick_device(self.device)
        torch.manual_seed(self.seed)
        with quiet_loading():
            model = SentenceTransformer(self.source, device=self.device)
        model.float()  # weights stored in half precision train in full precision
        history = self._masked_lm(model, folder, texts) if self.method == "mlm" else self._st(model, folder, texts)
        model.save(str(folder))
        shutil.rmtree(folder / "checkpoints", ignore_errors=True)
        return history

    def _st(self, model, folder: Path, texts: list[str]) -> list[dict]:
        from datasets import Dataset
        from sentence_transformers import SentenceTransformerTrainer
        from sentence_transformers import SentenceTransformerTrainingArguments as Arguments

        from .encoder import _st_modules

        losses, _ = _st_modules()
        if self.method == "simcse":
            loss = losses.MultipleNegativesRankingLoss(model)
            data = Dataset.from_dict({"anchor": texts, "positive": texts})
        else:
            from ..models.sources import quiet_loading

            with quiet_loading():
                loss = losses.DenoisingAutoEncoderLoss(
                    model, decoder_name_or_path=self.source, tie_encoder_decoder=True
                )
            rng = random.Random(self.seed)
            data = Dataset.from_dict({"damaged": [delete_words(t, rng) for t in texts], "original": texts})
        no_widget_examples(model)
        trainer = SentenceTransformerTrainer(
            model=model, args=self._arguments(Arguments, folder), train_dataset=data, loss=loss
        )
        quiet(trainer, self.progress)
        trainer.train()
        return read_history(trainer.state.log_history, None).to_dict(orient="records")

    def _masked_lm(self, model, folder: Path, texts: list[str]) -> list[dict]:
        from datasets import Dataset
        from transformers import AutoModelForMaskedLM, DataCollatorForLanguageModeling, Trainer, TrainingArguments

        encoder = model[0].auto_model
        tokenizer = model.tokenizer
        masked = AutoModelForMaskedLM.from_config(encoder.config).to(encoder.device)
        masked.base_model.load_state_dict(encoder.state_dict(), strict=False)  # the encoder's own weights
        masked.tie_weights()  # the output embeddings are the input ones; the head's transform is new
        length = min(int(model.max_seq_length or 128), 128)
        data = Dataset.from_dict({"text": texts}).map(
            lambda batch: tokenizer(batch["text"], truncation=True, max_length=length),
            batched=True,
            remove_columns=["text"],
        )
        collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=self.seed)
        trainer = Trainer(
            model=masked, args=self._arguments(TrainingArguments, folder), train_dataset=data, data_collator=collator
        )
        quiet(trainer, self.progress)
        trainer.train()
        encoder.load_state_dict(masked.base_model.state_dict(), strict=False)
        return read_history(trainer.state.log_history, None).to_dict(orient="records")


def adapt(
    base="minilm",
    texts=None,
    *,
    method: str | None = None,
    column=None,
    max_texts: int = 100_000,
    epochs: int = 1,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    seed: int = 0,
    output_dir=None,
    overwrite: bool = False,
    cache_dir=None,
    device: str | None = None,
    progress: bool = True,
    name: str | None = None,
) -> TrainedModel:
    """Adapt a sentence encoder to unlabelled texts of your domain (no labels needed).

    Parameters
    ----------
    base
        ``"minilm"``, ``"st:PATH_OR_NAME"`` or ``"hf:PATH_OR_NAME"`` (a model trained here too).
    texts
        The unlabelled texts: a list or Series, a DataFrame, or a file or folder of the log
        (``.txt`` lines, CSV / TSV / Parquet with ``column``, e.g. a ``simwidgets score``
        output folder). Read once, deduplicated, and sampled uniformly to ``max_texts``
        distinct texts (:func:`~simwidgets.training.corpus.corpus_sample`).
    method
        ``"simcse"`` (the default for a sentence encoder), ``"tsdae"`` or ``"mlm"``; ``"lm"``
        (the only one, and the default, for a ULMFiT base). See :mod:`simwidgets.training.adaptation`.
        Measured on one H100 (``benchmarks/bench_low_label.py``: MiniLM, STS-B train's 10,536
        sentences as the log, 500 labels, judged on STS-B dev, 3 seeds): SimCSE then
        fine-tuning 0.8775, plain fine-tuning 0.8713, TSDAE then fine-tuning 0.8560, MLM then
        fine-tuning 0.8566: on MiniLM, TSDAE and MLM undo more of its sentence training than
        the domain gives back.
    column
        The text column(s) of a table, e.g. ``["query", "result"]``.
    epochs, batch_size, learning_rate, seed
        Training settings; the batch size and learning rate default to the method's
        (:data:`METHODS`).
    output_dir, overwrite, cache_dir, device, progress, name
        As for :func:`~simwidgets.fine_tune` (the same call again loads the adapted model).

    Returns
    -------
    TrainedModel
        ``.spec`` (``"st:PATH?name=..."``): any API takes it, and ``fine_tune(adapted.spec,
        ...)`` trains on labels from it. It has no ``.report``: with no labels, judge it (and
        what fine-tuning makes of it) on labelled pairs, e.g. with
        :func:`~simwidgets.cross_validate` and ``FineTune(base, adapt_on=texts)``.
    """
    if texts is None:
        raise InputError("adapt needs unlabelled texts: a list, a column, or a file or folder of your log")
    parsed = parse_base(base)
    if parsed.family.startswith("ulmfit"):
        if method not in (None, "lm"):
            raise InputError(f"a ULMFiT base adapts as a language model (method='lm'), got method {method!r}")
        recipe = LanguageModelRecipe(parsed, epochs=epochs, seed=seed, progress=progress)
    else:
        if method == "lm":
            raise InputError("method 'lm' is for a ULMFiT base; a sentence encoder takes 'simcse', 'tsdae' or 'mlm'")
        recipe = AdaptRecipe(
            parsed, method=method or "simcse", epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
            seed=seed, device=device, progress=progress,
        )  # fmt: skip
    corpus = corpus_sample(texts, column=column, most=max_texts, seed=seed, progress=progress)
    if len(corpus) < recipe.batch_size:
        raise InputError(
            f"only {len(corpus)} distinct texts to adapt on, fewer than one batch ({recipe.batch_size}); give more "
            "of your log's texts"
        )
    settings = recipe.settings()
    key = job_key(recipe.kind, recipe.identity, [corpus], [], settings)

    def build(folder: Path) -> dict:
        start = time.perf_counter()
        history = recipe.adapt(folder, corpus)
        return {
            "key": key,
            "kind": recipe.kind,
            "base": recipe.label,
            "source": getattr(recipe, "source", recipe.label),
            "settings": settings,
            "texts": len(corpus),
            "dropped": {},
            "seconds": time.perf_counter() - start,
            "history": history,
            "report": None,
        }

    return run_job(recipe, key, build, output_dir=output_dir, cache_dir=cache_dir, overwrite=overwrite, name=name)
