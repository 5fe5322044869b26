"""Cross-encoders: models that read both texts of a pair at once and give one score, no vectors.

A cross-encoder (``ce:PATH_OR_NAME``, a sentence-transformers ``CrossEncoder`` with one
output) is a pair scorer: :func:`~simwidgets.score_pairs`, :func:`~simwidgets.evaluate_pairs`,
:func:`~simwidgets.fit_ensemble`, the threshold tuner, the model comparison and
:func:`~simwidgets.score_file` take it like any model, scoring each distinct pair once. It
has no vectors, so a similarity matrix, neighbours and a map refuse it with
:class:`~simwidgets.models.pair_scorer.NoVectorsError`. Scores lie in [0, 1]: the sigmoid of the model's logit (the
probability a model trained with binary cross-entropy gives that the pair matches).

An **anchored** cross-encoder (what :func:`~simwidgets.train_cross_encoder` makes from a
sentence encoder by default) learns a correction to that encoder's cosine: its folder holds
the encoder (``anchor/``) and ``simwidgets-anchor.json`` (``scale``, ``offset``), and its score
is ``sigmoid(logit + scale * cosine + offset)``. With the correction at zero it ranks pairs
exactly as its encoder does.

>>> model = load_model("ce:./my-cross-encoder")                  # doctest: +SKIP
>>> score_pairs(["a cat"], ["a kitten"], models=[model])          # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..errors import InputError
from .pair_scorer import PairScorer

#: The file in an anchored cross-encoder's folder that names its encoder and calibration.
ANCHOR_FILE = "simwidgets-anchor.json"
#: The anchor encoder's folder, inside the cross-encoder's.
ANCHOR_FOLDER = "anchor"


def write_anchor(folder, *, scale: float, offset: float, base: str) -> None:
    """Record that the cross-encoder in ``folder`` corrects the encoder in ``folder/anchor``:
    its score is ``sigmoid(logit + scale * cosine + offset)``."""
    record = {"format": 1, "encoder": ANCHOR_FOLDER, "scale": float(scale), "offset": float(offset), "base": base}
    (Path(folder) / ANCHOR_FILE).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def read_anchor(folder) -> dict | None:
    """The anchor record of a cross-encoder's folder, None when it has none; a damaged record is
    refused (read as plain data: nothing in it is run)."""
    path = Path(folder) / ANCHOR_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        scale, offset = float(record["scale"]), float(record["offset"])
        encoder = record["encoder"]
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(
            f"{path} is damaged ({error}): it should hold the anchor's scale, offset and encoder"
        ) from None
    if encoder != ANCHOR_FOLDER or not (math.isfinite(scale) and math.isfinite(offset)):
        raise InputError(f"{path} names encoder {encoder!r}, scale {scale}, offset {offset}: expected "
                         f"{ANCHOR_FOLDER!r} and finite numbers")  # fmt: skip
    if not (Path(folder) / ANCHOR_FOLDER).is_dir():
        raise InputError(f"{path} names the encoder in {ANCHOR_FOLDER}/, which the folder does not hold")
    return {"scale": scale, "offset": offset, "base": record.get("base")}


def check_cross_encoder(source: str) -> None:
    """Refuse a model that is not a cross-encoder (its config names no sequence-classification
    head): sentence-transformers would give it a new, random head, whose scores sit near 0.5
    and change from one load to the next."""
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(source)
    except (OSError, ValueError):
        return  # CrossEncoder's own load says what is wrong with the folder
    architectures = getattr(config, "architectures", None) or []
    if any(a.endswith("ForSequenceClassification") for a in architectures):
        return
    what = f"its config names {architectures}" if architectures else "its config names no architecture"
    raise InputError(
        f"{source} is not a cross-encoder ({what}, with no trained pair-scoring head): as 'ce:' it would get a "
        "random new head, scoring every pair near 0.5. Score with it as an encoder ('st:PATH'), or make a "
        "cross-encoder from it with train_cross_encoder(...)"
    )


class CrossEncoderModel(PairScorer):
    """A sentence-transformers cross-encoder with one output, as a pair scorer.

    Parameters
    ----------
    path_or_name
        A folder saved by :func:`~simwidgets.train_cross_encoder` (or by sentence-transformers'
        ``CrossEncoder.save``), or a hub name available offline.
    device
        ``"cuda"``, ``"cuda:N"`` or ``"cpu"`` (default: a GPU when present).
    batch_size
        Pairs per forward pass (default 32 on a CPU, 256 on a GPU).
    max_tokens
        Longest input read, both texts together (default: the model's own); longer pairs are
        truncated and counted in a warning.
    dtype
        ``"float32"`` (default on a CPU) or ``"float16"`` / ``"bfloat16"`` (default on a GPU:
        ``float16``).
    """

    is_cross_encoder = True

    def __init__(
        self,
        path_or_name,
        name: str | None = None,
        *,
        device: str | None = None,
        batch_size: int | None = None,
        max_tokens: int | None = None,
        dtype: str | None = None,
        progress_every: int = 4096,
        **kwargs,
    ):
        super().__init__(**kwargs)
        from .sources import check_source, quiet_loading
        from .transformer import pick_device

        source = check_source(path_or_name, "cross-encoder")
        check_cross_encoder(source)
        self.source = source
        self.device = pick_device(device)
        on_gpu = self.device.startswith("cuda")
        self.batch_size = batch_size or (256 if on_gpu else 32)
        self.dtype = dtype or ("float16" if on_gpu else "float32")
        self.progress_every = progress_every
        from sentence_transformers import CrossEncoder

        with quiet_loading():
            self.model = CrossEncoder(source, device=self.device, max_length=max_tokens)
        if self.model.num_labels != 1:
            raise InputError(
                f"{source} is a cross-encoder with {self.model.num_labels} outputs (a classifier); simwidgets "
                "scores pairs with one-output cross-encoders (one similarity score per pair)"
            )
        if self.dtype != "float32":
            import torch

            self.model.to(getattr(torch, self.dtype))
        self.model.eval()
        # max_seq_length since sentence-transformers 6.1; max_length before
        self.max_tokens = getattr(self.model, "max_seq_length", None) or self.model.max_length
        self.name = name or f"ce:{Path(source.rstrip('/')).name}"
        self.anchor = read_anchor(source) if Path(source).is_dir() else None
        self.encoder = None
        if self.anchor is not None:
            from .transformer import SentenceTransformerModel

            self.encoder = SentenceTransformerModel(
                str(Path(source) / ANCHOR_FOLDER), name="anchor", device=self.device
            )

    @property
    def identity(self) -> str:
        anchored = "" if self.anchor is None else f":anchor={self.anchor['scale']:.6g},{self.anchor['offset']:.6g}"
        return f"CrossEncoderModel:{self.source}:{self.dtype}{anchored}"

    def __repr__(self) -> str:
        return f"<CrossEncoderModel {self.name!r} ({self.source}, {self.device})>"

    def score_batch(self, lefts: list[str], rights: list[str], *, progress: bool | None = None) -> np.ndarray:
        """Scores in [0, 1] of clean, non-empty pairs (float32), ``progress`` bar over them."""
        n = len(lefts)
        out = np.empty(n, dtype=np.float32)
        with self._progress_bar(n, progress) as bar:
            bar.set_description(f"scoring pairs with {self.name}")
            bar.unit = "pair"
            for start in range(0, n, self.progress_every):
                stop = min(n, start + self.progress_every)
                out[start:stop] = self._score(lefts[start:stop], rights[start:stop])
                bar.update(stop - start)
        return out

    def _score(self, lefts: list[str], rights: list[str]) -> np.ndarray:
        pairs = list(zip(lefts, rights))
        if self.anchor is None:
            scores = self.model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False)
            return np.asarray(scores, dtype=np.float32).reshape(-1)
        import torch

        logits = self.model.predict(
            pairs, batch_size=self.batch_size, show_progress_bar=False, activation_fn=torch.nn.Identity()
        )
        logits = np.asarray(logits, dtype=np.float64).reshape(-1)
        return (1.0 / (1.0 + np.exp(-(logits + self.anchor_term(lefts, rights))))).astype(np.float32)

    def anchor_term(self, lefts: list[str], rights: list[str]) -> np.ndarray:
        """``scale * cosine + offset`` of the anchor encoder for each pair (float64), the cosine
        the encoder scores pairs with (as in training: each distinct text embedded once); NaN
        where the encoder cannot embed a text."""
        from ..texts import deduplicate

        codes, uniques = deduplicate(list(lefts) + list(rights))
        n = len(lefts)
        cosine, _ = self.encoder.score_coded(uniques, codes[:n], codes[n:], progress=False, warn=False)
        return self.anchor["scale"] * cosine.astype(np.float64) + self.anchor["offset"]

    def count_truncated(self, lefts: list[str], rights: list[str]) -> int:
        """How many pairs are longer than :attr:`max_tokens` (both texts and special tokens)."""
        if not lefts or self.max_tokens is None:
            return 0
        # a character gives at most 4 tokens (byte-level BPE; WordPiece gives at most 1) and a pair
        # a few special ones: pairs shorter than that bound cannot be cut, so only the rest are
        # tokenized a second time (predict tokenizes them all again)
        limit = (self.max_tokens - 8) // 4
        long = [i for i, (a, b) in enumerate(zip(lefts, rights)) if len(a) + len(b) > limit]
        if not long:
            return 0
        lengths = self.model.tokenizer(
            [lefts[i] for i in long],
            [rights[i] for i in long],
            truncation=False,
            return_length=True,
            return_attention_mask=False,
            verbose=False,
        )["length"]
        return int(sum(length > self.max_tokens for length in lengths))
