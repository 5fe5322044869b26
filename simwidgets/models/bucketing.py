"""Length bucketing for transformer batches: sort tokenized texts by length, cut them into
batches under a token budget, and pad each batch only to its own longest text.

Pure numpy, so the logic the GPU pipeline relies on is tested on any machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError


def round_up(n: int | np.ndarray, multiple: int):
    """``n`` rounded up to a multiple of ``multiple`` (tensor cores like multiples of 8)."""
    return -(-n // multiple) * multiple


@dataclass(frozen=True)
class Batch:
    """Rows of a tokenized chunk (``rows``) that run together, padded to ``width`` tokens.

    ``uniform`` batches hold texts of exactly ``width`` tokens: they need no attention mask,
    so the fused (flash) attention kernels apply and nothing is computed for padding.
    """

    rows: np.ndarray
    width: int
    uniform: bool = False


def _greedy(order: np.ndarray, lengths_sorted: np.ndarray, token_budget: int, max_batch: int, multiple: int):
    """Cut sorted rows into consecutive batches under the budget (each batch: at least one row)."""
    widths = round_up(np.maximum(lengths_sorted, 1), multiple)
    batches = []
    start, n = 0, len(order)
    while start < n:
        # the cost of ending the batch at e (exclusive) grows with e: bisect for the largest e that fits
        lo, hi = start + 1, min(start + max_batch, n)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if (mid - start) * widths[mid - 1] <= token_budget:
                lo = mid
            else:
                hi = mid - 1
        uniform = bool(lengths_sorted[start] == lengths_sorted[lo - 1] == widths[lo - 1])
        batches.append(Batch(order[start:lo], int(widths[lo - 1]), uniform))
        start = lo
    return batches


def plan_batches(
    lengths,
    token_budget: int = 131_072,
    max_batch: int = 4096,
    multiple: int = 8,
    exact_share: float | None = None,
) -> list[Batch]:
    """Group texts of similar token length into batches.

    Texts are sorted by length (stable, so equal lengths keep their order); each batch takes
    as many of the next texts as fit ``batch_size * padded_width <= token_budget`` (at least
    one text, at most ``max_batch``), where the padded width is the batch's longest length
    rounded up to ``multiple``. Every row appears in exactly one batch.

    With ``exact_share``, every length shared by enough texts to fill that share of the
    budget gets batches of its own (``uniform``: no padding, no mask); only the rarer lengths
    are mixed and padded.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.ndim != 1:
        raise InputError("lengths must be one-dimensional")
    if token_budget < 1 or max_batch < 1 or multiple < 1:
        raise InputError("token_budget, max_batch and multiple must be positive")
    order = np.argsort(lengths, kind="stable")
    ordered = lengths[order]
    if exact_share is None:
        return _greedy(order, ordered, token_budget, max_batch, multiple)
    values, starts, counts = np.unique(ordered, return_index=True, return_counts=True)
    big = counts * np.maximum(values, 1) >= exact_share * token_budget
    batches: list[Batch] = []
    mixed_from = 0  # first sorted position not yet in a batch
    for start, count in zip(starts[big].tolist(), counts[big].tolist()):
        if mixed_from < start:  # the rarer lengths before this run: mixed, padded batches
            batches += _greedy(order[mixed_from:start], ordered[mixed_from:start], token_budget, max_batch, multiple)
        batches += _greedy(order[start : start + count], ordered[start : start + count], token_budget, max_batch, 1)
        mixed_from = start + count
    if mixed_from < len(order):
        batches += _greedy(order[mixed_from:], ordered[mixed_from:], token_budget, max_batch, multiple)
    return batches


def batch_height(rows: int, width: int, steps: int, token_budget: int, max_batch: int) -> int:
    """Rows a batch of ``rows`` texts is computed with, so that the device sees few shapes.

    ``rows`` is rounded up to one of ``steps`` sizes per power of two (at most ``1/steps``
    more rows; the extra rows are padding whose results are dropped), and never beyond a
    full batch of this ``width``. On a GPU each new shape costs host time (library
    heuristics, allocator growth) that exact-length batches would otherwise pay on nearly
    every batch; with a few sizes per width the shapes repeat. ``steps < 1``: exact rows.
    """
    if steps < 1 or rows < 2:
        return rows
    full = max(rows, min(max_batch, token_budget // max(width, 1)))
    step = max(1, (1 << (rows.bit_length() - 1)) // steps)
    return min(round_up(rows, step), full)


def padding_share(lengths, batches: list[Batch]) -> float:
    """Share of the computed token slots that are padding."""
    lengths = np.asarray(lengths, dtype=np.int64)
    slots = sum(len(b.rows) * b.width for b in batches)
    return 1.0 - float(lengths.sum()) / slots if slots else 0.0


def pad_rows(
    flat: np.ndarray,
    offsets: np.ndarray,
    lengths: np.ndarray,
    rows: np.ndarray,
    width: int,
    pad_id: int = 0,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """A ``(len(rows), width)`` matrix of token ids from ragged rows stored end to end.

    Row ``r`` of the ragged store is ``flat[offsets[r] : offsets[r] + lengths[r]]``; rows
    longer than ``width`` are an error (plan batches first). ``out`` may be a view into a
    pinned staging buffer, so the ids are written once, straight where the copy reads them.
    """
    rows = np.asarray(rows, dtype=np.int64)
    n_rows = len(rows)
    row_len = lengths[rows]
    if n_rows and int(row_len.max()) > width:
        raise InputError(f"a row of {int(row_len.max())} tokens does not fit width {width}")
    if out is None:
        out = np.empty((n_rows, width), dtype=flat.dtype)
    out.fill(pad_id)
    total = int(row_len.sum())
    if total:
        # position k of the batch's concatenated tokens comes from flat[source[k]]
        before = np.cumsum(row_len) - row_len
        source = np.repeat(offsets[rows] - before, row_len) + np.arange(total)
        mask = np.arange(width) < row_len[:, None]
        out[mask] = flat[source]
    return out
