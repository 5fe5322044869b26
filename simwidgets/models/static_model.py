"""Static models in model2vec's format (``"m2v:PATH"``): a vector per token, a text is their mean.

A static model costs what word vectors cost (a tokenizer pass and a row lookup per token, no
neural network), yet carries what a sentence encoder learned, when it is distilled from one
(:func:`simwidgets.training.distillation.distill_static`). The folder is model2vec's:
``model.safetensors`` (``embeddings``, optional ``weights`` and ``mapping``), ``tokenizer.json``
and ``config.json``; it is read with model2vec's own loader and only from a local folder (no
download). Vectors equal model2vec's ``StaticModel.encode`` (tested): unknown tokens dropped,
at most ``max_tokens`` tokens read, the mean of the rows, normalised when the config says so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import sparse

from ..errors import InputError
from ..extras import require
from ..texts import ALL_OOV, NO_TOKENS
from ..vocab import Vocabulary, token_kinds
from .base import Embedder, Notes


class StaticModel(Embedder):
    """A model2vec static model read from a local folder.

    Parameters
    ----------
    path
        The model's folder (what :func:`~simwidgets.distill_static` or model2vec's
        ``save_pretrained`` wrote).
    max_tokens
        Tokens read per text (model2vec's default, 512); later ones count as truncated.

    Examples
    --------
    >>> model = load_model("m2v:./my-static-model")  # doctest: +SKIP
    >>> model.embed(["a cat", "a dog"]).shape  # doctest: +SKIP
    (2, 256)
    """

    batch_size = 16_384
    sort_by_length = False  # a text costs its tokens, whatever its neighbours
    texts_in_vocabulary_space = True

    def __init__(self, path: str, name: str | None = None, max_tokens: int = 512, **kwargs):
        super().__init__(**kwargs)
        folder = Path(path).expanduser()
        if not (folder / "model.safetensors").is_file() or not (folder / "tokenizer.json").is_file():
            raise InputError(
                f"{path!r} is not a model2vec folder (model.safetensors and tokenizer.json); "
                "make one with simwidgets.distill_static"
            )
        model2vec = require("model2vec", "m2v: static models")
        self.static = model2vec.StaticModel.from_pretrained(folder, force_download=False)
        self.static.tokenizer.no_truncation()  # we cut at max_tokens ourselves, and say so
        self.static.tokenizer.no_padding()
        self.source = str(folder.resolve())
        self.name = name or f"m2v:{folder.name}"
        self.max_tokens = max_tokens
        self._table = np.asarray(self.static.embedding, dtype=np.float32)
        weights, mapping = self.static.weights, self.static.token_mapping
        if mapping is not None or weights is not None:  # per token id: its row, scaled by its weight
            ids = np.arange(len(self.static.tokens))
            rows = self._table[mapping[ids] if mapping is not None else ids]
            self._table = rows * (np.asarray(weights, np.float32)[:, None] if weights is not None else 1.0)
        self._dim = int(self._table.shape[1])
        self._unk = self.static.unk_token_id
        self._vocab: Vocabulary | None = None
        stamp = (folder / "model.safetensors").stat()  # the file read now: its vectors are the ones cached
        self._identity = f"m2v:{self.source}:{stamp.st_size}:{stamp.st_mtime_ns}:{max_tokens}:{self.static.normalize}"

    @property
    def identity(self) -> str:
        return self._identity

    def embed_batch(self, texts: list[str]) -> tuple[np.ndarray, Notes]:
        tokenizer = self.static.tokenizer
        encode = getattr(tokenizer, "encode_batch_fast", tokenizer.encode_batch)
        encodings = encode(texts, add_special_tokens=False)
        ids = [e.ids for e in encodings]
        n = len(texts)
        counts = np.fromiter((len(i) for i in ids), dtype=np.int64, count=n)
        flat = np.fromiter((t for i in ids for t in i), dtype=np.int64, count=int(counts.sum()))
        owner = np.repeat(np.arange(n), counts)
        oov = None
        if self._unk is not None:
            known = flat != self._unk
            if not known.all():  # the words the model does not know, as written in the text
                oov = np.empty(n, dtype=object)
                oov.fill(())
                unknown = np.unique(owner[~known]).tolist()
                full = tokenizer.encode_batch([texts[i] for i in unknown], add_special_tokens=False)  # with offsets
                for i, e in zip(unknown, full):
                    oov[i] = tuple(texts[i][a:b] for t, (a, b) in zip(e.ids, e.offsets) if t == self._unk)
            flat, owner = flat[known], owner[known]
        kept = np.bincount(owner, minlength=n)
        truncated = kept > self.max_tokens
        if truncated.any():  # each text's first max_tokens known tokens
            position = np.arange(len(owner)) - (np.cumsum(kept) - kept)[owner]
            inside = position < self.max_tokens
            flat, owner = flat[inside], owner[inside]
        used = np.bincount(owner, minlength=n)
        # each text's sum of rows as one sparse (texts x tokens) product: no gathered copy of the rows
        counts_matrix = sparse.csr_matrix(
            (np.ones(len(flat), dtype=np.float32), flat, np.r_[0, np.cumsum(used)]), shape=(n, len(self._table))
        )
        sums = counts_matrix @ self._table
        vectors = np.asarray(sums / np.maximum(used, 1)[:, None], dtype=np.float32)
        if self.static.normalize:
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-32
        reasons = None
        empty = used == 0
        if empty.any():
            vectors[empty] = np.nan
            reasons = np.full(n, None, dtype=object)
            reasons[empty & (counts > 0)] = ALL_OOV
            reasons[empty & (counts == 0)] = NO_TOKENS
        return vectors, Notes(counts, truncated, oov, reasons)

    def vocabulary(self) -> Vocabulary:
        """The model's tokens and their vectors (the table a text's vector is the mean of)."""
        if self._vocab is None:
            tokens = list(self.static.tokens)
            specials = [t for t in tokens if t.startswith("[") and t.endswith("]")]
            self._vocab = Vocabulary(
                tokens=tokens, vectors=self._table, kinds=token_kinds(tokens, specials=specials), cased=False
            )
        return self._vocab
