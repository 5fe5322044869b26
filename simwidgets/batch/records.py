"""Where the records of a CSV file end, so that blocks cut there never split a record.

A line break inside a quoted field (``"line one\\nline two"``) is part of the field, not the
end of a record: cutting a block there would parse the rest of the file as garbage. The
scanner follows the quote state through the whole file once, the way CSV readers (Python's
``csv``, Arrow) read quotes: a quote opens a quoted field only at the start of a field, a
doubled quote inside one is a literal quote, and a quote anywhere else is an ordinary
character. It keeps only the quoted fields that hold a line break, and cuts blocks at the
first line end at or after each block offset that lies outside all of them.

Speed: windows without a quote are skipped with one C-level ``count``; in windows with
quotes, files quoted the regular way (RFC 4180: quotes only around whole fields, doubled
inside) are followed with numpy; any other quote layout falls back to a loop over the
window's quote characters in Python.
"""

from __future__ import annotations

import bisect
import mmap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

WINDOW = 1 << 26  # 64 MiB of the file at a time
QUOTE = 0x22
NEWLINE = 0x0A
CR = 0x0D


@dataclass
class RecordLayout:
    """What a scan found: the header record's end, the file's size and the byte spans
    ``(open, close)`` of quoted fields that hold a line break."""

    header_end: int
    size: int
    multiline: list[tuple[int, int]] = field(default_factory=list)
    unclosed: int | None = None  # offset of a quote still open at the end of the file

    def record_end(self, mm, offset: int) -> int:
        """Offset just past the first record end (a line break outside quotes) at or after
        ``offset``; the file's size when there is none."""
        position = offset
        while True:
            newline = mm.find(b"\n", position)
            if newline < 0:
                return self.size
            span = self._span_holding(newline)
            if span is None:
                return newline + 1
            if span[1] < 0:  # inside a quote that never closes: the rest is one record
                return self.size
            position = span[1] + 1

    def _span_holding(self, position: int):
        if self.unclosed is not None and position > self.unclosed:
            return (self.unclosed, -1)
        i = bisect.bisect_right(self.multiline, (position, float("inf"))) - 1
        if i >= 0 and self.multiline[i][0] < position < self.multiline[i][1]:
            return self.multiline[i]
        return None


def _scan(mm, size: int, sep: str) -> RecordLayout:
    multiline, unclosed = _quoted_spans_with_newlines(mm, size, ord(sep))
    layout = RecordLayout(0, size, multiline, unclosed)
    layout.header_end = layout.record_end(mm, 0)
    return layout


def plan_blocks(path: str | Path, blocksize: int, sep: str = ",") -> tuple[RecordLayout, list[tuple[int, int]]]:
    """Scan a CSV file once: its :class:`RecordLayout` and its data blocks ``(start, end)``
    (after the header record), each starting at a record start, ending at a record end and
    holding about ``blocksize`` bytes. Empty blocks are left out; a file with a header only
    gives no block."""
    size = Path(path).stat().st_size
    if size == 0:
        return RecordLayout(0, 0), []
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        layout = _scan(mm, size, sep)
        cuts = [layout.header_end]
        offset = layout.header_end + blocksize
        while offset < layout.size:
            end = layout.record_end(mm, max(offset - 1, cuts[-1]))
            if end > cuts[-1]:
                cuts.append(end)
            offset = max(offset + blocksize, end + 1)
        if cuts[-1] < layout.size:
            cuts.append(layout.size)
    return layout, [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def _quoted_spans_with_newlines(mm, size: int, delimiter: int) -> tuple[list[tuple[int, int]], int | None]:
    """Quoted fields that hold a line break, as ``(open, close)`` offsets of their quotes,
    and the offset of a quote left open at the end of the file (or None)."""
    spans: list[tuple[int, int]] = []
    state = _QuoteState()
    data = np.frombuffer(mm, dtype=np.uint8)
    for base in range(0, size, WINDOW):
        stop = min(size, base + WINDOW)
        if mm.find(b'"', base, stop) < 0:
            continue  # no quote here: the state is unchanged
        quotes = np.flatnonzero(data[base:stop] == QUOTE) + base
        if not _regular_window(data, quotes, size, delimiter, state, spans):
            _walk_quotes(mm, quotes.tolist(), size, (NEWLINE, CR, delimiter), state, spans)
    open_at = state.open_at
    if open_at is not None and mm.find(b"\n", open_at) < 0:
        open_at = None  # an unclosed quote on the last line holds no line break: harmless here
    del data
    return spans, open_at


@dataclass
class _QuoteState:
    open_at: int | None = None  # offset of the quote that opened the field we are in
    last_close: int = -2  # offset of the last closing quote
    skip: int = -1  # offset of the second quote of a doubled pair, to pass over


def _regular_window(data, quotes: np.ndarray, size: int, delimiter: int, state: _QuoteState, spans) -> bool:
    """Follow one window's quotes with numpy when each sits where RFC 4180 puts it (opening
    quotes at field starts, closing quotes at field ends, doubled quotes inside); return
    False, changing nothing, when one does not."""
    if state.skip >= 0 and len(quotes) and quotes[0] == state.skip:
        return False  # a doubled pair split by the window edge: leave it to the loop
    inside = state.open_at is not None
    opens, closes = quotes[int(inside) :: 2], quotes[1 - int(inside) :: 2]
    before = np.where(opens > 0, data[np.maximum(opens - 1, 0)], NEWLINE)
    after = np.where(closes + 1 < size, data[np.minimum(closes + 1, size - 1)], NEWLINE)
    ends = (delimiter, NEWLINE, CR, QUOTE)
    if not (np.isin(before, ends).all() and np.isin(after, ends).all()):
        return False
    doubled = before == QUOTE  # a quote right after a closing quote: "" inside a field
    if doubled.any() and not np.isin(opens[doubled] - 1, np.append(closes, state.last_close)).all():
        return False
    if inside:
        opens = np.concatenate([[state.open_at], opens])
    state.open_at = int(opens[-1]) if len(opens) > len(closes) else None
    if state.open_at is not None:
        opens = opens[:-1]
    if len(closes):
        state.last_close = int(closes[-1])
    if len(opens):
        first = int(opens[0])
        newlines = np.flatnonzero(data[first : int(closes[-1])] == NEWLINE) + first
        if len(newlines):
            inside_count = np.searchsorted(newlines, closes) - np.searchsorted(newlines, opens)
            spans += [(int(o), int(c)) for o, c in zip(opens[inside_count > 0], closes[inside_count > 0])]
    return True


def _walk_quotes(mm, quotes: list[int], size: int, starts, state: _QuoteState, spans) -> None:
    """The quote state machine over one window's quotes, in Python (irregular quoting)."""
    for q in quotes:
        if q == state.skip:
            continue
        if state.open_at is None:
            before = mm[q - 1] if q > 0 else NEWLINE
            if before in starts or (before == QUOTE and state.last_close == q - 1):
                state.open_at = q  # a field start (or a doubled quote across a window edge)
            continue  # otherwise a quote inside an unquoted field is an ordinary character
        after = mm[q + 1] if q + 1 < size else NEWLINE
        if after == QUOTE:
            state.skip = q + 1  # a doubled quote inside the field: a literal quote
            continue
        if mm.find(b"\n", state.open_at, q) >= 0:
            spans.append((state.open_at, q))
        state.open_at = None
        state.last_close = q
