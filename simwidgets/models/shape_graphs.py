"""CUDA graphs of the streaming encoder's batch step, one per batch shape.

For a small encoder on a fast card the host is the bound: issuing one forward pass of
MiniLM (a hundred-odd kernels through transformers' Python) took about 5 ms on an H100,
longer than the card took to run it. A CUDA graph records those kernels once for a shape
and replays them with one call. :class:`ShapeGraphs` captures a shape the second time it
is seen (a shape seen once costs a capture and gains nothing), replays it ever after, and
falls back to the eager step for good, saying why, if capturing fails.
"""

from __future__ import annotations

from collections import Counter


class ShapeGraphs:
    """Run ``step(ids, lengths, uniform)`` through a CUDA graph per ``(ids.shape, uniform)``.

    Parameters
    ----------
    step
        The batch step: token ids ``(rows, width)`` and per-row lengths in, one pooled vector
        per row out. It must not synchronise with the host.
    after
        Eager runs of a shape before it is captured.
    limit, max_bytes
        Graphs kept at most, and the most bytes their own inputs and outputs may hold
        (later new shapes run eagerly).

    All graphs share one memory pool: they are replayed one at a time on one stream, and each
    graph's output stays allocated, so one graph's intermediates may reuse another's. The
    tensor a replay returns is overwritten by the next replay of that shape: copy it first
    (a copy queued on the same stream is enough).
    """

    def __init__(self, step, *, after: int = 1, limit: int = 512, max_bytes: int = 2 << 30):
        self.step = step
        self.after = int(after)
        self.limit = int(limit)
        self.max_bytes = int(max_bytes)
        self.bytes = 0
        self.graphs: dict = {}
        self.seen: Counter = Counter()
        self.failed: str | None = None  # why capturing stopped, if it did
        self.replays = 0
        self._pool = None

    def __call__(self, ids, lengths, uniform: bool):
        key = (tuple(ids.shape), bool(uniform))
        entry = self.graphs.get(key)
        if entry is None:
            self.seen[key] += 1
            if self.failed or self.seen[key] <= self.after or len(self.graphs) >= self.limit or self.full:
                return self.step(ids, lengths, uniform)
            try:
                entry = self._capture(ids, lengths, uniform)
            except Exception as error:  # noqa: BLE001 - any capture failure means: run eagerly
                self.failed = f"{type(error).__name__}: {error}"
                return self.step(ids, lengths, uniform)
            self.graphs[key] = entry
            self.bytes += sum(t.nbytes for t in entry[1:])
        graph, static_ids, static_lengths, out = entry
        static_ids.copy_(ids, non_blocking=True)
        static_lengths.copy_(lengths, non_blocking=True)
        graph.replay()
        self.replays += 1
        return out

    @property
    def full(self) -> bool:
        return self.bytes >= self.max_bytes

    def _capture(self, ids, lengths, uniform):
        import torch

        static_ids, static_lengths = ids.clone(), lengths.clone()
        side = torch.cuda.Stream(device=ids.device)
        side.wait_stream(torch.cuda.current_stream(ids.device))
        with torch.cuda.stream(side):  # one eager run on a side stream, as PyTorch's docs advise
            self.step(static_ids, static_lengths, uniform)
        torch.cuda.current_stream(ids.device).wait_stream(side)
        if self._pool is None:
            self._pool = torch.cuda.graph_pool_handle()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self._pool):
            out = self.step(static_ids, static_lengths, uniform)
        return graph, static_ids, static_lengths, out

    def summary(self) -> dict:
        """Graphs held, replays so far, and why capturing stopped (if it did)."""
        out = {"graphs": len(self.graphs), "graph_replays": self.replays}
        if self.failed:
            out["graphs_failed"] = self.failed
        return out
