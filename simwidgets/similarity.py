"""Cosine similarity the same way for every model: matrices, pair scores and neighbours."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .columns import reason_column, score_column
from .errors import InputError, NotFoundError, OptionError
from .models import Embedder, load_model, load_models, refuse_pair_scorer
from .models.pair_reasons import ZERO_VECTOR  # noqa: F401 (its old home)
from .models.trained_pairs import trained_on
from .texts import as_text_list, deduplicate
from .vectors import normalize_rows


def cosine_matrix(x: np.ndarray, y: np.ndarray | None = None, block_size: int = 4096) -> np.ndarray:
    """Cosine similarity of every row of ``x`` with every row of ``y`` (default ``x``).

    Computed in row blocks into one preallocated float32 result, so the peak memory is the
    result plus one block: 20,000 x 20,000 needs 1.6 GB for the answer and little more.
    Rows that are NaN give NaN; zero rows give 0.
    """
    ux = normalize_rows(x)
    uy = ux if y is None else normalize_rows(y)
    if ux.shape[1] != uy.shape[1]:
        raise InputError(f"vectors of different lengths: {ux.shape[1]} and {uy.shape[1]}")
    out = np.empty((ux.shape[0], uy.shape[0]), dtype=np.float32)
    uyt = np.ascontiguousarray(uy.T)
    for start in range(0, ux.shape[0], block_size):
        np.matmul(ux[start : start + block_size], uyt, out=out[start : start + block_size])
    np.clip(out, -1.0, 1.0, out=out)
    return out


def similarity_matrix(
    a, b=None, model="minilm", *, block_size: int = 4096, progress: bool | None = None, max_bytes: int | None = None
) -> np.ndarray:
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

    The whole matrix is held in memory: one larger than ``max_bytes`` (default: half of this
    machine's free memory) is refused before any text is embedded, saying its size and what
    to use instead.

    Examples
    --------
    >>> similarity_matrix(["a cat", "a kitten", "a car"], model="glove-50d").shape  # doctest: +SKIP
    (3, 3)
    """
    texts_a = as_text_list(a, "a")
    texts_b = None if b is None else as_text_list(b, "b")
    check_matrix_size(len(texts_a), len(texts_a if texts_b is None else texts_b), max_bytes)
    embedder = load_model(model)
    refuse_pair_scorer(embedder, "a similarity matrix")
    embedder.prepare_for(texts_a + (texts_b or []))
    va = embedder.embed(texts_a, progress=progress)
    vb = None if texts_b is None else embedder.embed(texts_b, progress=progress)
    return cosine_matrix(va, vb, block_size=block_size)


def check_matrix_size(rows: int, columns: int, max_bytes: int | None = None) -> None:
    """Refuse a float32 ``rows x columns`` matrix larger than ``max_bytes`` (default: half of
    the free memory, where the system says), naming its size and what to use instead."""
    need = 4 * rows * columns
    if max_bytes is None:
        try:
            max_bytes = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
        except (ValueError, OSError, AttributeError):  # not on Linux: trust the caller
            return
    if need > max_bytes:
        raise InputError(
            f"a {rows:,} x {columns:,} similarity matrix needs {need / 2**30:,.1f} GiB, more than the "
            f"{max_bytes / 2**30:,.1f} GiB allowed (max_bytes; by default half the free memory). For each text's "
            "nearest texts use neighbours(text, model, among=texts); for chosen pairs, score_pairs; or compute "
            "the matrix in slices of rows (similarity_matrix(a[i:j], b))"
        )


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
        When a trained model was trained on some of these pairs, ``frame.attrs["trained_on"]``
        says how many (``{model: pairs}``), and the evaluation warns that it is in-sample there.
    """
    lefts, rights = as_text_list(left, "left"), as_text_list(right, "right")
    index = left.index if isinstance(left, pd.Series) else pd.RangeIndex(len(lefts))
    columns, _ = pair_score_columns(lefts, rights, models, progress=progress)
    frame = pd.DataFrame(
        {
            "left": pd.Series(lefts, dtype=object, index=index),
            "right": pd.Series(rights, dtype=object, index=index),
        }
    )
    for name, values in columns.items():
        frame[name] = pd.Series(values, index=index, dtype=values.dtype)  # reasons stay objects (None, not NaN)
    seen = {}
    for model in load_models(models):  # cached: the models just used; in-sample on their training pairs?
        count = int(trained_on(model, lefts, rights).sum())
        if count:
            seen[model.name] = count
    if seen:
        frame.attrs["trained_on"], frame.attrs["scored_pairs"] = seen, len(lefts)
    return frame


def pair_score_columns(lefts: list, rights: list, models, *, progress: bool | None = None, chunk: int = 65_536):
    """``score_<name>`` and ``reason_<name>`` arrays per model, and the number of distinct texts.

    The texts of both sides are factorized once; every model embeds each distinct text once,
    its vectors are normalized once, and each pair is one dot product of two gathered unit
    vectors (in chunks of ``chunk`` pairs, so memory stays bounded). Reasons are worked out
    per distinct combination of the two sides' reasons, not per pair.
    """
    if len(lefts) != len(rights):
        raise InputError(f"left and right must have the same length, got {len(lefts)} and {len(rights)}")
    codes, uniques = deduplicate(lefts + rights)
    return score_coded_pairs(codes, uniques, models, progress=progress, chunk=chunk), len(uniques)


def score_coded_pairs(
    codes: np.ndarray, uniques: list, models, *, progress=None, chunk: int = 65_536, warn: bool = True
) -> dict:
    """:func:`pair_score_columns` for texts already factorized: ``codes`` holds ``2n``
    positions in ``uniques`` (``-1`` for a missing text), the ``n`` left texts then the
    ``n`` right ones. Each model scores the pairs its own way (:meth:`Model.score_coded
    <simwidgets.models.base.Model.score_coded>`: dense vectors, sparse rows, or a pair
    scorer). ``warn=False``: no truncation warning (a batch job counts truncation in its
    output instead of warning once per partition)."""
    n = len(codes) // 2
    rows = np.where(codes < 0, len(uniques), codes)  # len(uniques) stands for a missing text
    columns: dict[str, np.ndarray] = {}
    for model in load_models(models):
        scores, reasons = model.score_coded(uniques, rows[:n], rows[n:], progress=progress, warn=warn, chunk=chunk)
        columns[score_column(model.name)] = scores
        columns[reason_column(model.name)] = reasons
    return columns


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
        raise InputError(f"k must be at least 1, got {k}")
    embedder = load_model(model)
    refuse_pair_scorer(embedder, "neighbours")
    if among is not None:
        texts = as_text_list(among, "among")
        embedder.prepare_for(texts + ([query] if isinstance(query, str) else []))
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
        if vocab is not None and not embedder.texts_in_vocabulary_space:
            raise NotFoundError(
                f"{query!r} is not a token of {embedder.name}'s vocabulary; search among texts "
                "with among=[...], or pass a vector"
            )
        report = embedder.embed_report([query])
        if report.reasons[0] is not None:
            raise InputError(f"cannot embed the query {query!r} with {embedder.name}: {report.reasons[0]}")
        vector = report.vectors[0]
    else:
        raise OptionError(f"query must be a string or a vector, got {type(query).__name__}")
    unit = normalize_rows(vector[None, :])[0]
    return np.nan_to_num(unit)
