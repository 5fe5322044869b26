"""The streaming transformer encoder: texts in, pooled vectors out, with the host kept busy.

For a small encoder such as MiniLM on a GPU, the card is not the limit: tokenizing in one
thread, padding every batch to its longest text, small batches and synchronous copies
are. :class:`StreamEncoder` works on chunks of texts:

1. tokenizer threads encode the next chunks (the fast tokenizer's Rust core runs in
   parallel and releases the GIL) while the device works on the current one;
2. each chunk is sorted by token length and cut into batches under a token budget
   (:mod:`.bucketing`), padded only to a multiple of 8 above the batch's longest text;
3. a chunk's padded ids and lengths are written straight into a pinned host buffer and
   copied to the device in one asynchronous transfer (two buffers alternate);
4. the model runs in fp16 (or bf16) with PyTorch's fused attention; pooling,
   normalisation and un-sorting happen on the device; one asynchronous copy brings the
   chunk's float32 vectors back while the device starts on the next chunk, and a gathering
   thread moves them into the result while the main thread issues the chunks after it.

On a CPU the same code runs (fp32, no pinned memory, no overlap), so the logic is tested
on machines without a GPU. :attr:`StreamEncoder.profile` says where the time went.
"""

from __future__ import annotations

import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..errors import InputError
from ..tokenization import (
    Tokenized,
    may_start_processes,
    start_tokenizer_process,
    tokenize,
    tokenize_in_process,
    tokenizer_backend,
)
from .bucketing import batch_height, pad_rows, plan_batches
from .fused_bert import KERNELS, unsupported
from .notes import Notes
from .profiling import DeviceClock, Profile

POOLINGS = ("mean", "cls", "max")
#: ``torch.compile`` modes the encoder's forward pass may run under (``None``: eager).
COMPILE_MODES = ("default", "max-autotune-no-cudagraphs", "reduce-overhead")


class ModelForward:
    """A transformers encoder's own forward pass, as ``(ids, mask) -> last hidden state``."""

    def __init__(self, model):
        self.model = model

    def __call__(self, ids, mask):
        return self.model(input_ids=ids, attention_mask=mask).last_hidden_state


def default_kernels(model, device) -> str:
    """The forward pass a streaming encoder runs when none is named: on a GPU, for a model the
    fused pass covers (:func:`~.fused_bert.unsupported`), the fused pass with the GELU in its
    matrix product and the short-text attention kernel (``"fused-short"``; on one H100 its
    pass took 0.64x the time of ``"fused-gelu"``'s for MiniLM), or ``"fused-gelu"`` where
    Triton is missing; transformers' own modules otherwise (on a CPU, where the default pass is
    the one held equal to sentence-transformers' and the fused one has not been timed).

    >>> default_kernels(object(), "cpu")
    'transformers'
    """
    import torch

    from .short_attention import triton_missing

    if torch.device(device).type != "cuda" or unsupported(model) is not None:
        return "transformers"
    return "fused-gelu" if triton_missing() else "fused-short"


def batch_views(on_device, layout, ids_end: int, slots: int):
    """Each batch of a chunk staged on the device (by ``StreamEncoder._stage``), as
    ``(ids, lengths, uniform, rows)``: a ``(height, width)`` view of its token ids, its rows'
    lengths, whether every row has the same length, and how many rows are real texts."""
    lengths = on_device[ids_end : ids_end + slots].long()
    for at, rows, height, width, uniform, row_at in layout:
        yield (
            on_device[at : at + height * width].view(height, width).long(),
            lengths[row_at : row_at + height],
            uniform,
            rows,
        )


class StreamEncoder:
    """Pooled sentence vectors from a Hugging Face encoder, for a stream of many texts.

    Parameters
    ----------
    model
        A transformers encoder (``BertModel`` and friends) returning ``last_hidden_state``.
    tokenizer
        Its fast tokenizer.
    max_tokens
        Longer texts are truncated (and reported).
    pooling
        ``"mean"`` over real tokens, ``"cls"`` (first token) or ``"max"``.
    normalize
        Scale every vector to unit length (what sentence-transformers' ``Normalize`` does).
    device
        ``"cuda"`` (default when present), ``"cuda:1"``, or ``"cpu"``.
    dtype
        ``"float16"`` (default on a GPU), ``"bfloat16"`` or ``"float32"`` (always on a CPU).
    token_budget, max_batch
        Padded tokens and texts per forward pass.
    chunk_size
        Texts tokenized and sorted together (larger: less padding, more memory; default
        65,536 on a GPU, 16,384 on a CPU).
    threads
        Tokenizer threads (default: up to 4).
    multiple
        Batches are padded to a multiple of this many tokens (default 8 on a GPU, where
        aligned shapes suit the tensor cores; 1 on a CPU).
    processes
        Tokenizer processes (default on a GPU: one per core but two; 0 on a CPU; on the
        16-core H200 host, 14 processes tokenized a first pass at 106,700 texts/s, 8 at 75,000).
        Processes rather than threads: converting token ids to arrays holds Python's GIL,
        and a thread holding it delays every kernel launch of the thread feeding the GPU.
        Inputs of one chunk or less, and daemonic processes, tokenize in threads.
    row_steps
        Batch row counts are rounded up to this many sizes per power of two (default 4 on a
        GPU, where every new shape costs host time; 0 on a CPU: exact rows), see
        :func:`~simwidgets.models.bucketing.batch_height`.
    exact_share
        A token length shared by texts filling this share of the token budget gets batches of
        its own: no padding and no attention mask, so PyTorch's flash attention applies
        (``None``: mix all lengths).
    compile
        Run the encoder's forward pass through ``torch.compile`` with dynamic shapes, in one of
        :data:`COMPILE_MODES` (``"reduce-overhead"`` adds CUDA graphs, one per batch shape);
        ``None`` (default) runs it eagerly. The first batches of each kind pay the compilation
        (26-78 s for MiniLM), and on one H100 both modes were slower than eager for MiniLM
        (0.50x-0.66x on a first pass over a million texts, 0.85x-0.90x on a second; same
        vectors): ``benchmarks/bench_gpu.py --compile`` measures it for another model or card.
    kernels
        How the encoder's forward pass runs: ``"transformers"`` (the model's own modules),
        ``"fused"`` (:class:`~.fused_bert.FusedBert`: one projection for query, key and value,
        fewer kernels; same function, BERT encoders only), ``"fused-gelu"`` (the same, with
        the feed-forward bias and GELU inside the matrix product: cuBLASLt's tanh GELU on a
        GPU) or ``"fused-short"`` (``"fused-gelu"`` with :mod:`.short_attention`'s Triton
        kernel for batches up to 64 tokens wide: one small program per text and head).
        Default (``None``): :func:`default_kernels` (``"fused-short"`` on a GPU for a model the
        fused pass covers: on one H100 a pass over 200,000 texts' batches took 0.343 s against
        0.539 s for ``"fused-gelu"`` in the same run, its vectors within the GPU test's
        tolerance), else ``"transformers"``; ``benchmarks/bench_gpu_kernels.py`` times each pass.
    graphs
        Replay each batch shape's forward pass and pooling from a CUDA graph once the shape has
        been seen before (:class:`~.shape_graphs.ShapeGraphs`): one call instead of a hundred-odd
        kernel launches through Python. GPU only (ignored on a CPU); not with ``compile``.
    """

    def __init__(
        self,
        model,
        tokenizer,
        *,
        max_tokens: int,
        pooling: str = "mean",
        normalize: bool = True,
        device: str | None = None,
        dtype: str | None = None,
        token_budget: int | None = None,
        max_batch: int | None = None,
        chunk_size: int | None = None,
        threads: int | None = None,
        multiple: int | None = None,
        exact_share: float | None = 0.125,
        processes: int | None = None,
        row_steps: int | None = None,
        compile: str | None = None,
        graphs: bool | None = False,
        kernels: str | None = None,
    ):
        import torch

        if pooling not in POOLINGS:
            raise InputError(f"unknown pooling {pooling!r}; use one of {POOLINGS}")
        if compile is not None and compile not in COMPILE_MODES:
            raise InputError(f"unknown compile mode {compile!r}; use one of {COMPILE_MODES} or None")
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        on_gpu = self.device.type == "cuda"
        dtype = dtype or ("float16" if on_gpu else "float32")
        if dtype not in ("float16", "bfloat16", "float32"):
            raise InputError(f"dtype must be float16, bfloat16 or float32, got {dtype!r}")
        if not on_gpu and dtype != "float32":
            dtype = "float32"  # half precision on a CPU is slow and gains nothing here
        self.dtype = dtype
        self.model = model.to(self.device, getattr(torch, dtype)).eval()
        self.compile = compile
        self.kernels = kernels or default_kernels(self.model, self.device)
        self._forward = self._build_forward()
        self.max_tokens = int(max_tokens)
        self.backends = tokenizer_backend(tokenizer, self.max_tokens)
        self.pad_id = int(tokenizer.pad_token_id or 0)
        self.pooling, self.normalize = pooling, bool(normalize)
        self.token_budget = int(token_budget or (131_072 if on_gpu else 8_192))
        self.max_batch = int(max_batch or 4096)
        self.chunk_size = int(chunk_size or (65_536 if on_gpu else 16_384))
        self.exact_share = exact_share
        cores = os.cpu_count() or 1
        self.processes = int(processes if processes is not None else (max(1, cores - 2) if on_gpu else 0))
        self._process_pool = None
        self.threads = int(threads or min(4, cores))
        self.multiple = int(multiple or (8 if on_gpu else 1))
        self.row_steps = int(row_steps if row_steps is not None else (4 if on_gpu else 0))
        self._graphs = None
        if graphs and on_gpu:
            if compile is not None:
                raise InputError(
                    "graphs=True and compile= cannot be combined (compile='reduce-overhead' makes its own)"
                )
            from .shape_graphs import ShapeGraphs

            self._graphs = ShapeGraphs(self._step)
        self.profile = Profile()
        self._staging: list = [None, None]  # pinned host buffers, alternating between chunks
        self._staged: list = [None, None]  # the event after which each may be rewritten
        self._out_host: list = [None, None]  # pinned host buffers for vectors coming back

    def _build_forward(self):
        """The forward pass ``(ids, mask) -> last hidden state`` that ``kernels`` names, compiled
        when ``compile`` asks for it."""
        if self.kernels == "transformers":
            hidden = ModelForward(self.model)
        elif self.kernels in ("fused", "fused-gelu", "fused-short"):
            from .fused_bert import FusedBert

            hidden = FusedBert(
                self.model,
                gelu_in_matmul=self.kernels != "fused",
                short_attention=self.kernels == "fused-short",
            )
        else:
            raise InputError(f"unknown kernels {self.kernels!r}; use one of {KERNELS}")
        if self.compile is None:
            return hidden
        import torch

        return torch.compile(hidden.__call__, mode=self.compile, dynamic=True)

    def __getstate__(self) -> dict:
        # a compiled pass and a process pool do not pickle: a copy builds its own
        state = self.__dict__.copy()
        state["_forward"] = None
        state["_process_pool"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._forward = self._build_forward()

    # -- device work -----------------------------------------------------------------------
    def _stage(self, slot: int, tok: Tokenized, batches):
        """Write a chunk's padded ids, per-row lengths and un-sort order into a (pinned) host buffer.

        Returns the filled buffer, one ``(at, rows, height, width, uniform, row_at)`` per batch
        (``height - rows`` padding rows of full width follow the real ones), where the per-row
        lengths start, and how many rows (real and padding) there are.
        """
        import torch

        n = len(tok.lengths)
        heights = [
            batch_height(len(b.rows), b.width, self.row_steps, self.token_budget, self.max_batch) for b in batches
        ]
        sizes = [h * b.width for b, h in zip(batches, heights)]
        slots = sum(heights)
        total = sum(sizes) + slots + n
        buffer = self._staging[slot]
        if buffer is None or buffer.numel() < total:
            pin = self.device.type == "cuda"
            buffer = torch.empty(int(total * 1.25) + 1024, dtype=torch.int32, pin_memory=pin)
            self._staging[slot] = buffer
        elif self._staged[slot] is not None:
            self._staged[slot].synchronize()  # the copy that last read this buffer is done
        host = buffer.numpy()
        ids_end = sum(sizes)
        row_lengths = host[ids_end : ids_end + slots]
        layout, at, row_at = [], 0, 0
        for b, height, size in zip(batches, heights, sizes):
            rows = len(b.rows)
            view = host[at : at + size].reshape(height, b.width)
            pad_rows(tok.flat, tok.offsets, tok.lengths, b.rows, b.width, self.pad_id, out=view[:rows])
            view[rows:] = self.pad_id
            row_lengths[row_at : row_at + rows] = tok.lengths[b.rows]
            row_lengths[row_at + rows : row_at + height] = b.width  # padding rows attend to all their tokens
            layout.append((at, rows, height, b.width, b.uniform, row_at))
            at += size
            row_at += height
        host[ids_end + slots : ids_end + slots + n] = np.concatenate([b.rows for b in batches])
        return buffer[:total], layout, ids_end, slots

    def _pool(self, hidden, lengths, keep):
        """One vector per text; ``keep`` marks real tokens (None: the batch has no padding)."""
        if self.pooling == "cls":
            return hidden[:, 0].float()
        if keep is None:
            return hidden.float().amax(1) if self.pooling == "max" else hidden.float().mean(1)
        if self.pooling == "max":
            return hidden.float().masked_fill(~keep[..., None], float("-inf")).amax(1)
        summed = (keep[:, None, :].to(hidden.dtype) @ hidden).squeeze(1).float()
        return summed / lengths[:, None].clamp(min=1).float()

    def _step(self, ids, lengths, uniform: bool):
        """One batch through the encoder: a pooled (and normalised) vector per row.

        Nothing here waits for the host, so :class:`~.shape_graphs.ShapeGraphs` can record it.
        """
        import torch
        import torch.nn.functional as F

        # A 4-D mask is used as given; a 2-D one makes transformers check on the host whether
        # it can be dropped, a device-to-host sync on every batch. Uniform batches need none,
        # which lets PyTorch pick its flash attention kernel.
        width = ids.shape[1]
        keep = None if uniform else torch.arange(width, device=ids.device)[None, :] < lengths[:, None]
        mask = None if keep is None else keep[:, None, None, :]
        if self.compile == "reduce-overhead":
            torch.compiler.cudagraph_mark_step_begin()  # the last graph's output is read
        hidden = self._forward(ids, mask)
        pooled = self._pool(hidden, lengths, keep)
        return F.normalize(pooled, p=2, dim=1) if self.normalize else pooled

    def _run_chunk(self, tok: Tokenized, slot: int, clock: DeviceClock):
        """Enqueue one chunk's device work; return its vectors on the device, in chunk order."""
        import torch

        start = time.perf_counter()
        batches = plan_batches(tok.lengths, self.token_budget, self.max_batch, self.multiple, self.exact_share)
        staged, layout, ids_end, slots = self._stage(slot, tok, batches)
        self.profile.add("pad", time.perf_counter() - start)
        self.profile.slots += sum(height * width for _, _, height, width, _, _ in layout)
        self.profile.batches += len(layout)
        self.profile.uniform_texts += sum(rows for _, rows, _, _, uniform, _ in layout if uniform)
        start = time.perf_counter()
        n = len(tok.lengths)
        with clock.span("copy_in"):
            on_device = staged.to(self.device, non_blocking=True)
        if self.device.type == "cuda":
            event = torch.cuda.Event()
            event.record()
            self._staged[slot] = event
        order = on_device[ids_end + slots : ids_end + slots + n].long()
        dim = self.model.config.hidden_size
        out_sorted = torch.empty((n, dim), dtype=torch.float32, device=self.device)
        row = 0
        with torch.inference_mode():
            for ids, lens, uniform, rows in batch_views(on_device, layout, ids_end, slots):
                with clock.span("compute"):
                    pooled = (
                        self._graphs(ids, lens, uniform) if self._graphs is not None else self._step(ids, lens, uniform)
                    )
                    out_sorted[row : row + rows] = pooled[:rows]
                row += rows
            vectors = torch.empty_like(out_sorted)
            vectors[order] = out_sorted
        launched = time.perf_counter() - start
        self.profile.add("launch", launched)
        self.profile.chunk_launch.append(launched)
        return vectors

    # -- tokenized chunks, in order -----------------------------------------------------------
    def _process_pool_for(self, n: int):
        if self.processes < 1 or n <= self.chunk_size or not may_start_processes():
            return None
        if self._process_pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            cut, whole = self.backends
            self._process_pool = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=multiprocessing.get_context("spawn"),  # never fork a process that holds CUDA
                initializer=start_tokenizer_process,
                initargs=(cut.to_str(), whole.to_str()),
            )
        return self._process_pool

    def close(self) -> None:
        """Stop the tokenizer processes (they are also stopped when Python exits)."""
        if self._process_pool is not None:
            self._process_pool.shutdown(cancel_futures=True)
            self._process_pool = None

    def _chunks(self, texts: list[str]):
        """``(start, Tokenized)`` per chunk, in order, tokenized ahead of the device."""
        n = len(texts)
        starts = list(range(0, n, self.chunk_size))
        pool = self._process_pool_for(n)
        if pool is not None:
            # each chunk is cut into one piece per process; two chunks' pieces are in flight
            piece = -(-self.chunk_size // self.processes)
            plan = [
                [(p, min(p + piece, s + self.chunk_size, n)) for p in range(s, min(s + self.chunk_size, n), piece)]
                for s in starts
            ]
            ahead = deque()
            for k in range(min(2, len(plan))):
                ahead.append([pool.submit(tokenize_in_process, texts[a:b]) for a, b in plan[k]])
            for k, begin in enumerate(starts):
                futures = ahead.popleft()
                if k + 2 < len(plan):
                    ahead.append([pool.submit(tokenize_in_process, texts[a:b]) for a, b in plan[k + 2]])
                t0 = time.perf_counter()
                parts = [f.result() for f in futures]
                self.profile.add("wait_tokens", time.perf_counter() - t0)
                yield begin, Tokenized.concat(parts)
            return
        with ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="simwidgets-tokenize") as threads:

            def submit(start: int):
                return threads.submit(tokenize, self.backends, texts[start : start + self.chunk_size])

            lookahead = deque(submit(s) for s in starts[: self.threads + 1])
            for k, begin in enumerate(starts):
                t0 = time.perf_counter()
                tok = lookahead.popleft().result()
                self.profile.add("wait_tokens", time.perf_counter() - t0)
                nxt = k + self.threads + 1
                if nxt < len(starts):
                    lookahead.append(submit(starts[nxt]))
                yield begin, tok

    # -- the stream ------------------------------------------------------------------------
    def encode(self, texts: list[str], bar=None) -> tuple[np.ndarray, Notes]:
        """Vectors (float32, on the host) and token notes of clean, non-empty texts."""
        import torch

        n = len(texts)
        self.profile = Profile(texts=n)
        dim = self.model.config.hidden_size
        result = np.empty((n, dim), dtype=np.float32)
        n_tokens = np.zeros(n, dtype=np.int64)
        truncated = np.zeros(n, dtype=bool)
        if not n:
            return result, Notes.from_counts(n_tokens, truncated)
        on_gpu = self.device.type == "cuda"
        clock = DeviceClock(torch, self.device)
        waited = {"wait_device": 0.0, "gather": 0.0}  # the gathering thread's own seconds

        def gather(begin: int, count: int, host, event) -> None:
            """A chunk's vectors into the result, once the device has copied them to ``host``."""
            t0 = time.perf_counter()
            if event is not None:
                event.synchronize()
            t1 = time.perf_counter()
            result[begin : begin + count] = host[:count].numpy() if on_gpu else host
            waited["wait_device"] += t1 - t0
            waited["gather"] += time.perf_counter() - t1
            if bar is not None:
                bar.update(count)

        # On a GPU one thread gathers each chunk's vectors (waiting for the card, then copying
        # out of pinned memory; numpy releases the GIL) while this one issues the next chunks;
        # each of the two pinned buffers is rewritten only after its last gather is done.
        gathering: list = [None, None]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="simwidgets-gather") as gatherer:
            for k, (begin, tok) in enumerate(self._chunks(texts)):
                self.profile.add("tokenize", tok.seconds)
                count = len(tok.lengths)
                n_tokens[begin : begin + count] = tok.full_lengths
                truncated[begin : begin + count] = tok.truncated
                self.profile.tokens += int(tok.lengths.sum())
                vectors = self._run_chunk(tok, k % 2, clock)
                if not on_gpu:
                    gather(begin, count, vectors.numpy(), None)
                    continue
                slot = k % 2
                if gathering[slot] is not None:
                    t0 = time.perf_counter()
                    gathering[slot].result()  # the buffer's last chunk is in the result
                    self.profile.add("wait_gather", time.perf_counter() - t0)
                host = self._out_host[slot]  # kept between calls: pinning memory is slow
                if host is None or host.shape[0] < count or host.shape[1] != dim:
                    host = torch.empty((count, dim), dtype=torch.float32, pin_memory=True)
                    self._out_host[slot] = host
                with clock.span("copy_out"):
                    host[:count].copy_(vectors, non_blocking=True)
                event = torch.cuda.Event()
                event.record()
                gathering[slot] = gatherer.submit(gather, begin, count, host, event)
            for future in gathering:
                if future is not None:
                    future.result()  # raises what the gathering thread raised
        for stage, seconds in waited.items():
            self.profile.add(stage, seconds)
        clock.collect(self.profile)
        failed = getattr(self._forward, "short_failed", None)
        if failed:
            self.profile.extra["short_attention_failed"] = failed
        if self._graphs is not None:
            self.profile.extra.update(self._graphs.summary())
        return result, Notes.from_counts(n_tokens, truncated)
