"""Silver labels (Augmented SBERT): unlabelled pairs from the log, labelled by a teacher fitted
on the gold labels, so a bi-encoder trains on many more pairs than were labelled by hand.

The pairs come from the log as it is (pairs that occur) or, from its texts, as the Augmented
SBERT recipe samples them: each text with its nearest neighbours under the base encoder (the
pairs a threshold must decide on), and as many random pairings (the clearly unrelated).

>>> left, right = silver_pairs(log_texts, 2000, base="minilm")          # doctest: +SKIP
>>> labels = teacher_labels(teacher_spec, left, right, gold_range=(0, 5))  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .corpus import corpus_sample


def _as_pairs(source):
    """``(left, right)`` lists when ``source`` is a pair of equal-length text sequences, else None."""
    if isinstance(source, tuple) and len(source) == 2 and not isinstance(source[0], str):
        left, right = list(source[0]), list(source[1])
        if len(left) != len(right):
            raise InputError(f"the two sides of the silver pairs differ in length: {len(left)} and {len(right)}")
        return left, right
    return None


def silver_pairs(source, n: int, *, column=None, base="minilm", neighbours: int = 3, seed: int = 0,
                 device=None) -> tuple[list[str], list[str]]:  # fmt: skip
    """``n`` unlabelled pairs to label: drawn from ``source`` when it is ``(left, right)``
    pairs of the log, else made from its texts (a list, a column, a file or folder of the log
    with ``column``): half of them each text with one of its ``neighbours`` nearest texts
    under ``base``, half random pairings. Missing, empty and self pairs are never drawn."""
    if n < 1:
        raise InputError(f"the number of silver pairs must be at least 1, got {n}")
    rng = np.random.default_rng(seed)
    given = _as_pairs(source)
    if given is not None:
        rows = [i for i, (a, b) in enumerate(zip(*given)) if isinstance(a, str) and isinstance(b, str)
                and a.strip() and b.strip() and a != b]  # fmt: skip
        pick = rng.choice(len(rows), min(n, len(rows)), replace=False) if rows else []
        return [given[0][rows[i]] for i in pick], [given[1][rows[i]] for i in pick]
    texts = corpus_sample(source, column=column, most=max(2 * n, 1000), seed=seed)
    if len(texts) < 2:
        raise InputError("fewer than two distinct texts to make silver pairs from")
    from ..models import load_model
    from ..projection import knn

    model = load_model(base, device=device) if device else load_model(base)
    k = min(neighbours, len(texts) - 1)
    rows, _ = knn(np.asarray(model.embed(texts), dtype=np.float32), k + 1)  # each text's nearest, itself among them
    near_left, near_right = [], []
    for i, row in enumerate(rows.tolist()):
        for j in [j for j in row if j != i][:k]:
            near_left.append(texts[i])
            near_right.append(texts[j])
    half = n // 2
    pick = rng.choice(len(near_left), min(n - half, len(near_left)), replace=False)
    left = [near_left[i] for i in pick]
    right = [near_right[i] for i in pick]
    a, b = rng.integers(0, len(texts), half), rng.integers(0, len(texts), half)
    keep = a != b
    return left + [texts[i] for i in a[keep]], right + [texts[j] for j in b[keep]]


def teacher_labels(teacher, left: list[str], right: list[str], *, gold_range) -> np.ndarray:
    """The teacher's scores of the pairs, put on the gold's scale: a score in [0, 1] (a
    cross-encoder's probability, a cosine clipped at 0) maps to ``low + score * (high - low)``."""
    from ..columns import score_columns
    from ..similarity import score_pairs

    scored = score_pairs(left, right, [teacher], progress=False)
    values = scored[score_columns(scored.columns)[0]].to_numpy(np.float64)
    low, high = gold_range
    return low + np.clip(values, 0.0, 1.0) * (high - low)
