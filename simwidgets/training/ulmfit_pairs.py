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

from pathlib import Path

from ..errors import InputError
from .job import Base, Recipe
from .pairs import Pairs
from .trainer_args import resolve_epochs

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


class SiameseULMFiTRecipe(Recipe):
    """The ULMFiT branch of :func:`~simwidgets.fine_tune` (``base`` ``"ulmfit-small"`` or
    ``"ulmfit:PATH"``): the AWD-LSTM encoder trained as a siamese model with fastai.

    ``learning_rate`` defaults to 3e-3 (the maximum of fastai's one-cycle schedule); texts are
    cut at ``max_tokens`` tokens for training. Only the cosine objective applies.
    """

    kind, made_by = "ulmfit", "siamese"

    def __init__(self, base: Base, *, objective="auto", epochs="auto", batch_size=16, learning_rate=None,
                 max_tokens=72, seed=0, gold_range=None, device=None, progress=True):  # fmt: skip
        if objective not in ("auto", "cosine"):
            raise InputError(
                f"a ULMFiT encoder is fine-tuned with the cosine objective (its pooled states' cosine fitted "
                f"to the gold); objective={objective!r} applies to sentence-transformers encoders"
            )
        self.base = self.label = base.spec
        self.epochs, self.batch_size, self.max_tokens, self.seed = epochs, batch_size, max_tokens, seed
        self.learning_rate = 3e-3 if learning_rate is None else learning_rate
        self.gold_range, self.device, self.progress = gold_range, device, progress

    def spec(self, folder: Path) -> str:
        return f"ulmfit:{folder}?pooling={POOLING}"

    def check(self, pairs: Pairs) -> None:
        if pairs.gold is None:
            raise InputError("fine-tuning ULMFiT needs gold labels (its objective fits the cosine to them)")

    def settings(self, train: Pairs) -> dict:
        from ..models import load_model

        # loaded once the pairs are known to be usable; its content hash keys the job
        self.base_model = load_model(self.base, centre=None, pooling=POOLING)
        self.identity = f"{self.base}|{self.base_model.identity}"
        self.epochs_used = resolve_epochs(self.epochs, len(train), self.batch_size)
        return {
            "objective": "cosine",
            "epochs": self.epochs_used,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "gold_range": self.gold_range,
        }

    def train(self, folder: Path, train: Pairs, held: Pairs | None) -> list[dict]:
        from contextlib import nullcontext

        import torch
        from fastai.learner import Learner
        from fastai.text.all import set_seed

        from ..models.transformer import pick_device
        from ..models.ulmfit import ULMFiTModel, copy_encoder, save_ulmfit

        base_model, device = self.base_model, pick_device(self.device)
        set_seed(self.seed, reproducible=True)
        encoder = copy_encoder(base_model.encoder).train()
        ids = {}
        for part_name, part in (("train", train), ("valid", held)):
            if part is None:
                ids[part_name] = []
                continue
            lefts = _ids(base_model, part.left, self.max_tokens)
            rights = _ids(base_model, part.right, self.max_tokens)
            ids[part_name] = list(zip(lefts, rights, part.gold.tolist()))
        dls = _loaders(ids["train"], ids["valid"], self.batch_size, base_model.pad, self.seed, torch.device(device))
        module = _siamese_module(encoder)

        def loss(cosine, gold):
            return torch.nn.functional.mse_loss(cosine, gold)

        learn = Learner(dls, module, loss_func=loss)
        quiet = learn.no_logging() if not self.progress else nullcontext()
        with nullcontext() if self.progress else learn.no_bar(), quiet:
            learn.fit_one_cycle(self.epochs_used, self.learning_rate)
        rows = []
        for epoch, values in enumerate(learn.recorder.values, start=1):
            row = {"epoch": epoch, "train_loss": float(values[0])}
            if held is not None:
                row["validation_loss"] = float(values[1])
            rows.append(row)
        trained = ULMFiTModel(encoder.cpu().eval(), base_model.vocab, pooling=POOLING, tokenizer=base_model.tokenizer)
        trained.name = "after"
        save_ulmfit(trained, folder)
        self._trained = trained
        return rows

    def before(self):
        from ..models import load_model

        return load_model(self.base, name="before")

    def after(self, folder: Path):
        return self._trained
