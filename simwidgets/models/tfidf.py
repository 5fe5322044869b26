"""TF-IDF over words or character n-grams (scikit-learn), scored on sparse rows."""

from __future__ import annotations

import hashlib

import numpy as np

from ..errors import InputError
from ..texts import MISSING, NO_TOKENS, as_text_list, clean_texts
from .base import Embedder, Note
from .pair_reasons import pair_reasons


class TfidfModel(Embedder):
    """scikit-learn ``TfidfVectorizer`` vectors as dense float32 rows.

    The vectorizer is fitted on a corpus: the one passed to :meth:`fit` (or ``corpus=``),
    otherwise on the first texts it is asked to embed together (the similarity and
    evaluation functions pass both sides of a comparison at once). The fit is then kept, so
    later texts are embedded in the same space; words unseen in the fit are reported as
    out of vocabulary.

    Parameters
    ----------
    analyzer
        ``"word"`` (default: unigrams and bigrams) or ``"char"`` (3- to 5-grams inside word
        boundaries, robust to typos).
    max_features
        Largest vocabulary kept (most frequent terms).
    """

    batch_size = 4096

    def __init__(
        self, analyzer: str = "word", corpus=None, max_features: int = 2**15, name: str | None = None, **kwargs
    ):
        super().__init__(**kwargs)
        from sklearn.feature_extraction.text import TfidfVectorizer

        if analyzer not in ("word", "char"):
            raise InputError(f"unknown TF-IDF analyzer {analyzer!r}; use 'word' or 'char'")
        self.analyzer = analyzer
        self.name = name or ("tfidf" if analyzer == "word" else "tfidf-char")
        options = {"sublinear_tf": True, "max_features": max_features, "dtype": np.float32}
        if analyzer == "word":
            self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), **options)
        else:
            self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), **options)
        self._fit_digest: str | None = None
        if corpus is not None:
            self.fit(corpus)

    @property
    def fitted(self) -> bool:
        return self._fit_digest is not None

    @property
    def identity(self) -> str:
        return f"tfidf:{self.analyzer}:{self._fit_digest}"

    def fit(self, corpus) -> TfidfModel:
        """Fit the vocabulary and IDF weights on a corpus of texts."""
        texts = [t for t in clean_texts(as_text_list(corpus, "corpus"))[0] if t is not None]
        if not texts:
            raise InputError("TF-IDF needs at least one non-empty text to fit on")
        try:
            self.vectorizer.fit(texts)
        except ValueError as exc:  # e.g. "empty vocabulary; perhaps the documents only contain stop words"
            raise InputError(f"could not fit TF-IDF on the given corpus: {exc}") from exc
        self._dim = len(self.vectorizer.vocabulary_)
        self._analyze = self.vectorizer.build_analyzer()
        self._fit_digest = hashlib.blake2b("\n".join(texts).encode(), digest_size=8).hexdigest()
        return self

    def prepare(self, texts: list[str]) -> None:
        if not self.fitted:
            self.fit(texts)

    #: Pair scores are computed on sparse rows (:meth:`score_coded`), never dense vectors.
    scores_sparse = True

    def sparse_rows(self, uniques: list):
        """Unit-length sparse TF-IDF rows of distinct texts, for pair scores in batch: a
        ``scipy.sparse`` CSR matrix of ``len(uniques)`` rows (memory in proportion to the
        terms the texts hold, not to the vocabulary) and one reason per text (None when the
        row is usable), the same reasons :meth:`embed_report` gives."""
        clean, reasons = clean_texts(uniques)
        ok = [i for i, text in enumerate(clean) if text is not None]
        if not self.fitted and ok:
            self.fit([clean[i] for i in ok])
        from scipy import sparse

        matrix = sparse.csr_matrix((len(uniques), self.dim or 0), dtype=np.float32)
        out = np.array(reasons, dtype=object) if reasons else np.empty(0, dtype=object)
        if ok:
            rows = self.vectorizer.transform([clean[i] for i in ok]).astype(np.float32)
            placed = sparse.csr_matrix(
                (np.ones(len(ok), np.float32), (np.asarray(ok), np.arange(len(ok)))), shape=(len(uniques), len(ok))
            )
            matrix = (placed @ rows).tocsr()
            empty = np.flatnonzero(np.diff(matrix.indptr) == 0)
            for i in empty[np.isin(empty, ok)].tolist():
                out[i] = self._empty_reason(self._analyze(clean[i]))
        return matrix, out

    def score_coded(self, uniques, left_rows, right_rows, *, progress=None, warn=True, chunk=65_536):
        """Pair scores on sparse rows: a row-wise sparse dot product of the two sides' unit
        rows, ``chunk`` pairs at a time; memory follows the texts' terms."""
        from scipy import sparse

        matrix, reasons = self.sparse_rows(uniques)
        n = len(left_rows)
        matrix = sparse.vstack([matrix, sparse.csr_matrix((1, matrix.shape[1]), dtype=np.float32)]).tocsr()
        reasons = np.append(reasons, MISSING)  # the row standing for a missing text
        scores = np.empty(n, dtype=np.float32)
        for start in range(0, n, chunk):
            a = matrix[left_rows[start : start + chunk]]
            b = matrix[right_rows[start : start + chunk]]
            scores[start : start + chunk] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
        np.clip(scores, -1.0, 1.0, out=scores)
        empty = np.diff(matrix.indptr) == 0
        texts, scored = pair_reasons(reasons, left_rows, right_rows, empty[left_rows] | empty[right_rows])
        scores[~scored] = np.nan
        return scores, texts

    @staticmethod
    def _empty_reason(terms) -> str:
        """Why a text's TF-IDF row is all zeros: no terms at all, or none the fit knows."""
        return NO_TOKENS if not terms else "no terms in common with the TF-IDF vocabulary"

    def embed_batch(self, texts: list[str]) -> tuple[np.ndarray, list[Note]]:
        matrix = self.vectorizer.transform(texts).toarray()
        vocab = self.vectorizer.vocabulary_
        notes = []
        for i, text in enumerate(texts):
            terms = self._analyze(text)
            unknown = tuple(t for t in terms if t not in vocab) if self.analyzer == "word" else ()
            reason = self._empty_reason(terms) if not terms or not matrix[i].any() else None
            notes.append(Note(oov=unknown, n_tokens=len(terms), reason=reason))
        matrix[[n.reason is not None for n in notes]] = np.nan
        return matrix.astype(np.float32, copy=False), notes
