"""Cosine similarity the same way for every model: matrices, pair scores and neighbours."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .models import Embedder, load_model, load_models
from .models.wordvectors import WordVectorModel
from .texts import as_text_list

ZERO_VECTOR = "zero vector (nothing to compare)"


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32; zero rows stay zero and NaN rows stay NaN."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms > 0, x / np.where(norms > 0, norms, 1), x).astype(np.float32, copy=False)


def cosine_matrix(x: np.ndarray, y: np.ndarray | None = None, block_size: int = 4096) -> np.ndarray:
    """Cosine similarity of every row of ``x`` with every row of ``y`` (default ``x``).

    Computed in row blocks into one preallocated float32 result, so the peak memory is the
    result plus one block: 20,000 x 20,000 needs 1.6 GB for the answer and little more.
    Rows that are NaN give NaN; zero rows give 0.
    """
    ux = normalize_rows(x)
    uy = ux if y is None else normalize_rows(y)
    if ux.shape[1] != uy.shape[1]:
        raise ValueError(f"vectors of different lengths: {ux.shape[1]} and {uy.shape[1]}")
    out = np.empty((ux.shape[0], uy.shape[0]), dtype=np.float32)
    uyt = np.ascontiguousarray(uy.T)
    for start in range(0, ux.shape[0], block_size):
        np.matmul(ux[start : start + block_size], uyt, out=out[start : start + block_size])
    np.clip(out, -1.0, 1.0, out=out)
    return out


def similarity_matrix(a, b=None, model="minilm", *, block_size: int = 4096, progress: bool | None = None) -> np.ndarray:
    """Cosine similarity matrix of texts (or words, for word-vector models).

    Parameters
    ----------
    a, b
        Lists (or Series) of texts; ``b`` defaults to ``a``.
    model
        Any spec :func:`~simwidgets.load_model` takes, a callable or an embedder.

    Returns
    -------
    numpy.ndarray
        float32 ``(len(a), len(b))``; rows/columns of texts the model cannot embed are NaN.

    Examples
    --------
    >>> similarity_matrix(["a cat", "a kitten", "a car"], model="glove-50d").shape  # doctest: +SKIP
    (3, 3)
    """
    embedder = load_model(model)
    texts_a = as_text_list(a, "a")
    texts_b = None if b is None else as_text_list(b, "b")
    _prepare(embedder, texts_a + (texts_b or []))
    va = embedder.embed(texts_a, progress=progress)
    vb = None if texts_b is None else embedder.embed(texts_b, progress=progress)
    return cosine_matrix(va, vb, block_size=block_size)


def _prepare(embedder: Embedder, texts: list) -> None:
    """Let a corpus-fitted model (TF-IDF, SIF) fit on the distinct valid texts, once."""
    if type(embedder).prepare is Embedder.prepare:
        return  # nothing to fit: skip the pass over the texts
    from .models.base import _factorize
    from .texts import clean_texts

    clean = [t for t in clean_texts(_factorize(texts)[1])[0] if t is not None]
    if clean:
        embedder.prepare(clean)


def score_pairs(left, right, models=("minilm",), *, progress: bool | None = None) -> pd.DataFrame:
    """Cosine score of each (left, right) pair under each model.

    Parameters
    ----------
    left, right
        Equal-length lists or Series (e.g. two DataFrame columns) of texts.
    models
        One spec or a list of specs, callables or embedders.

    Returns
    -------
    pandas.DataFrame
        Every input row, in order (the Series index is kept), with ``left``, ``right`` and,
        per model, ``score_<name>`` (float, NaN when missing) and ``reason_<name>`` (why
        the score is missing, else ``None``). Each distinct text is embedded once per model.
    """
    lefts, rights = as_text_list(left, "left"), as_text_list(right, "right")
    if len(lefts) != len(rights):
        raise ValueError(f"left and right must have the same length, got {len(lefts)} and {len(rights)}")
    index = left.index if isinstance(left, pd.Series) else pd.RangeIndex(len(lefts))
    frame = pd.DataFrame(
        {
            "left": pd.Series(lefts, dtype=object, index=index),
            "right": pd.Series(rights, dtype=object, index=index),
        }
    )
    n = len(lefts)
    for embedder in load_models(models):
        _prepare(embedder, lefts + rights)
        report = embedder.embed_report(lefts + rights, progress=progress)
        a, b = report.vectors[:n], report.vectors[n:]
        squared_a, squared_b = np.einsum("ij,ij->i", a, a), np.einsum("ij,ij->i", b, b)
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = np.clip(np.einsum("ij,ij->i", a, b) / np.sqrt(squared_a * squared_b), -1.0, 1.0)
        reasons = _pair_reasons(report.reasons[:n], report.reasons[n:])
        zero = ~(squared_a > 0) | ~(squared_b > 0)  # zero-length (or NaN) vectors
        unexplained = np.array([r is None for r in reasons], dtype=bool)
        for i in np.flatnonzero(zero & unexplained):
            reasons[i] = ZERO_VECTOR
        scores = np.where(unexplained & ~zero, scores, np.nan).astype(np.float32)
        frame[f"score_{embedder.name}"] = scores
        frame[f"reason_{embedder.name}"] = pd.Series(reasons, dtype=object, index=index)
    return frame


def _pair_reasons(left: list, right: list) -> list:
    """``"left: why"``, ``"right: why"``, both joined, or None per pair (vectorised)."""
    lr = np.asarray(left, dtype=object)
    rr = np.asarray(right, dtype=object)
    has_l = lr != None  # noqa: E711 - elementwise comparison on object arrays
    has_r = rr != None  # noqa: E711
    out = np.full(len(lr), None, dtype=object)
    both = has_l & has_r
    out[has_l & ~has_r] = "left: " + lr[has_l & ~has_r]
    out[has_r & ~has_l] = "right: " + rr[has_r & ~has_l]
    out[both] = "left: " + lr[both] + "; right: " + rr[both]
    return out.tolist()


def _top_k(unit: np.ndarray, query: np.ndarray, k: int, exclude: set[int]) -> tuple[np.ndarray, np.ndarray]:
    scores = unit @ query
    take = min(len(scores), k + len(exclude))
    idx = np.argpartition(-scores, take - 1)[:take] if take < len(scores) else np.arange(len(scores))
    idx = idx[np.lexsort((idx, -scores[idx]))]  # by score, ties by row (frequency) order
    idx = np.array([i for i in idx if i not in exclude][:k], dtype=np.int64)
    return idx, scores[idx]


def _search_vocabulary(vocab, vector: np.ndarray, k: int, exclude: set[int], approximate: bool):
    index = vocab.neighbour_index("ivf" if approximate else "exact")
    scores, rows = index.search(vector[None, :], k + len(exclude))
    keep = [(r, s) for r, s in zip(rows[0], scores[0]) if r >= 0 and r not in exclude][:k]
    return np.array([r for r, _ in keep], dtype=np.int64), np.array([s for _, s in keep], dtype=np.float32)


def neighbours(query, model="minilm", k: int = 10, *, among=None, approximate: bool = False) -> pd.DataFrame:
    """Nearest neighbours by cosine in the model's original space (exact search).

    Parameters
    ----------
    query
        A token of the model's vocabulary, a text (word-vector models, or with ``among``),
        or a vector.
    model
        Spec, callable or embedder.
    k
        Number of neighbours.
    among
        Texts to search instead of the vocabulary; the query and candidates are embedded
        with the model.
    approximate
        Search the vocabulary with a tuned IVF index (faiss) instead of exactly; see
        :class:`~simwidgets.index.NeighbourIndex` for its measured recall.

    Returns
    -------
    pandas.DataFrame
        Columns ``rank``, ``token`` (or ``text``), ``score`` (and ``kind`` for vocabularies),
        best first. A query that is itself a token is left out of its own neighbours, as
        gensim's ``most_similar`` does.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    embedder = load_model(model)
    if among is not None:
        texts = as_text_list(among, "among")
        _prepare(embedder, texts + ([query] if isinstance(query, str) else []))
        unit = np.nan_to_num(normalize_rows(embedder.embed(texts)))
        vector = _query_vector(embedder, query, None)
        exclude = {i for i, t in enumerate(texts) if isinstance(query, str) and t == query}
        idx, scores = _top_k(unit, vector, k, exclude)
        return pd.DataFrame({"rank": np.arange(1, len(idx) + 1), "text": [texts[i] for i in idx], "score": scores})
    vocab = embedder.vocabulary()
    row = vocab.lookup(query) if isinstance(query, str) else None
    if row is not None:
        vector = np.nan_to_num(normalize_rows(vocab.vectors[row][None, :])[0])
    else:
        vector = _query_vector(embedder, query, vocab)
    idx, scores = _search_vocabulary(vocab, vector, k, {row} if row is not None else set(), approximate)
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(idx) + 1),
            "token": [vocab.tokens[i] for i in idx],
            "score": scores,
            "kind": vocab.kinds[idx],
        }
    )


def _query_vector(embedder: Embedder, query, vocab) -> np.ndarray:
    if isinstance(query, np.ndarray):
        vector = query.astype(np.float32).ravel()
    elif isinstance(query, str):
        if vocab is not None and not isinstance(embedder, WordVectorModel):
            raise KeyError(
                f"{query!r} is not a token of {embedder.name}'s vocabulary; search among texts "
                "with among=[...], or pass a vector"
            )
        report = embedder.embed_report([query])
        if report.reasons[0] is not None:
            raise ValueError(f"cannot embed the query {query!r} with {embedder.name}: {report.reasons[0]}")
        vector = report.vectors[0]
    else:
        raise TypeError(f"query must be a string or a vector, got {type(query).__name__}")
    unit = normalize_rows(vector[None, :])[0]
    return np.nan_to_num(unit)
