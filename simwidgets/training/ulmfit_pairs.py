"""ULMFiT for similarity: the AWD-LSTM encoder trained as a siamese model on labelled pairs, with fastai.

Both texts go through the same encoder; each is pooled as ULMFiT's classifier pools (the last,
the max and the mean hidden state, joined) and the cosine of the two is fitted to the gold,
rescaled to 0-1 (a cosine objective: mean squared error, as sentence-transformers'
``CosineSimilarityLoss``). fastai's ``Learner`` trains it with ``fit_one_cycle``; the encoder
is saved the safe way (``weights.pth`` + ``vocab.json``, no pickle) and reloads as
``ulmfit:PATH?pooling=concat``.

>>> trained = sw.fine_tune("ulmfit-small", df.query, df.result, df.grade, epochs=4)  # doctest: +SKIP
>>> trained.report           # the language model's pooled states before, the siamese model after  # doctest: +SKIP
"""

from __future__ import annotations

import time

from ..errors import InputError, OptionError
from ..files import staged_folder
from .pairs import Pairs, prepare_pairs, split_validation
from .result import TrainedModel
from .store import locate, model_name, named, pair_job_key, pair_record, write_done

POOLING = "concat"


def _ids(model, texts: list[str], max_tokens: int) -> list[list[int]]:
    out = []
    for text in texts:
        tokens = model.tokenize(text)[:max_tokens]
        out.append([model._stoi.get(t, model.unk) for t in tokens] or [model.unk])
    return out


def _siamese_module(encoder):
    """A torch module: ``(left ids, left lengths, right ids, right lengths) -> cosine``."""
    import torch
    from torch import nn

    class Siamese(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = encoder

        def pool(self, ids, lengths):
            self.encoder.reset()  # an AWD-LSTM carries state between calls; pairs are independent
            hidden = self.encoder(ids)
            mask = (torch.arange(ids.shape[1], device=ids.device)[None, :] < lengths[:, None]).unsqueeze(-1)
            mean = (hidden * mask).sum(1) / lengths[:, None]
            last = hidden[torch.arange(len(ids), device=ids.device), lengths - 1]
            maxed = hidden.masked_fill(~mask, float("-inf")).max(1).values
            return torch.cat([last, maxed, mean], dim=1)

        def forward(self, left, left_lengths, right, right_lengths):
            u, v = self.pool(left, left_lengths), self.pool(right, right_lengths)
            return nn.functional.cosine_similarity(u, v, dim=1)

    return Siamese()


def _loaders(train: list, valid: list, batch_size: int, pad: int, seed: int, device):
    """fastai DataLoaders over ``(left ids, right ids, gold)`` items, padded on the right per batch."""
    import torch
    from fastai.data.core import DataLoaders
    from fastai.data.load import DataLoader

    def collate(items):
        def side(rows):
            lengths = torch.tensor([len(r) for r in rows])
            batch = torch.full((len(rows), int(lengths.max())), pad, dtype=torch.long)
            for i, r in enumerate(rows):
                batch[i, : len(r)] = torch.tensor(r)
            return batch, lengths

        left, left_lengths = side([it[0] for it in items])
        right, right_lengths = side([it[1] for it in items])
        gold = torch.tensor([it[2] for it in items], dtype=torch.float32)
        return (left, left_lengths, right, right_lengths, gold)

    train_dl = DataLoader(train, bs=batch_size, shuffle=True, drop_last=False, create_batch=collate, seed=seed)
    valid_dl = DataLoader(valid or train[:1], bs=max(batch_size, 64), shuffle=False, create_batch=collate)
    return DataLoaders(train_dl, valid_dl, device=device)


def fine_tune_ulmfit(
    base,
    left,
    right,
    gold,
    *,
    objective: str = "auto",
    epochs: int = 1,
    batch_size: int = 16,
    learning_rate: float | None = None,
    max_tokens: int = 72,
    validation=0.1,
    gold_range=None,
    output_dir=None,
    overwrite: bool = False,
    cache_dir=None,
    seed: int = 0,
    device: str | None = None,
    progress: bool = True,
    name: str | None = None,
    **ignored,
) -> TrainedModel:
    """The ULMFiT branch of :func:`~simwidgets.fine_tune` (``base`` ``"ulmfit-small"`` or ``"ulmfit:PATH"``).

    ``learning_rate`` defaults to 3e-3 (the maximum of fastai's one-cycle schedule); texts are cut at
    ``max_tokens`` tokens for training. Only the cosine objective applies.
    """
    if objective not in ("auto", "cosine"):
        raise InputError(
            f"a ULMFiT encoder is fine-tuned with the cosine objective (its pooled states' cosine fitted to "
            f"the gold); objective={objective!r} applies to sentence-transformers encoders"
        )
    unknown = sorted(k for k, v in ignored.items() if v is not None and k not in ("warmup_ratio",))
    if unknown:
        raise OptionError(f"fine-tuning ULMFiT does not take {unknown}")
    from ..models import load_model
    from ..models.specs import parse_spec

    family, target, options = parse_spec(base)
    if options:
        raise InputError(f"give the base without options, got {base!r}")
    pairs = prepare_pairs(left, right, gold, gold_range=gold_range)
    if pairs.gold is None:
        raise InputError("fine-tuning ULMFiT needs gold labels (its objective fits the cosine to them)")
    train, held = split_validation(pairs, validation, seed, gold_range=gold_range)
    base_model = load_model(base, centre=None, pooling=POOLING)
    lr = 3e-3 if learning_rate is None else learning_rate
    settings = {
        "objective": "cosine",
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": lr,
        "max_tokens": max_tokens,
        "seed": seed,
        "gold_range": gold_range,
    }
    key = pair_job_key("ulmfit", f"{base}|{base_model.identity}", train, held, settings)
    target_dir, record = locate("ulmfit", key, output_dir, cache_dir, overwrite)
    spec = named(f"ulmfit:{target_dir.resolve()}?pooling={POOLING}", model_name(str(base), "siamese", key, name))
    if record is not None:
        return TrainedModel.from_record(spec, target_dir, record, reused=True)

    from contextlib import nullcontext

    import torch
    from fastai.learner import Learner
    from fastai.text.all import set_seed

    from ..models.transformer import pick_device
    from ..models.ulmfit import ULMFiTModel, copy_encoder, save_ulmfit

    device = pick_device(device)
    start = time.perf_counter()
    set_seed(seed, reproducible=True)
    encoder = copy_encoder(base_model.encoder).train()
    ids = {}
    for name, part in (("train", train), ("valid", held)):
        if part is None:
            ids[name] = []
            continue
        lefts, rights = _ids(base_model, part.left, max_tokens), _ids(base_model, part.right, max_tokens)
        ids[name] = list(zip(lefts, rights, part.gold.tolist()))
    dls = _loaders(ids["train"], ids["valid"], batch_size, base_model.pad, seed, torch.device(device))
    module = _siamese_module(encoder)

    def loss(cosine, gold):
        return torch.nn.functional.mse_loss(cosine, gold)

    learn = Learner(dls, module, loss_func=loss)
    with nullcontext() if progress else learn.no_bar(), learn.no_logging() if not progress else nullcontext():
        learn.fit_one_cycle(epochs, lr)
    rows = []
    recorder = learn.recorder
    for epoch, values in enumerate(recorder.values, start=1):
        row = {"epoch": epoch, "train_loss": float(values[0])}
        if held is not None:
            row["validation_loss"] = float(values[1])
        rows.append(row)
    trained = ULMFiTModel(encoder.cpu().eval(), base_model.vocab, pooling=POOLING, tokenizer=base_model.tokenizer)
    trained.name = "after"
    seconds = time.perf_counter() - start
    with staged_folder(target_dir) as tmp:
        save_ulmfit(trained, tmp)
        report = None
        if held is not None:
            report = _report(base, held, trained)
        record = pair_record(
            key, "ulmfit", base, settings, pairs, train, held, seconds=seconds, history=rows, report=report
        )
        write_done(tmp, record, trained_on=train)
    return TrainedModel.from_record(spec, target_dir, record, reused=False)


def _report(base: str, held: Pairs, trained):
    """The base as it is used off the shelf and the siamese model, on the validation pairs."""
    from ..evaluation import evaluate_pairs
    from ..models import load_model

    before = load_model(base, name="before")
    return evaluate_pairs(held.left, held.right, held.gold, models=[before, trained], n_boot=200)
