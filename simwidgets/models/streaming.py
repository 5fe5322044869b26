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
   chunk's float32 vectors back while the device starts on the next chunk.

On a CPU the same code runs (fp32, no pinned memory, no overlap), so the logic is tested
on machines without a GPU. :attr:`StreamEncoder.profile` says where the time went.
"""

from __future__ import annotations

import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from .bucketing import batch_height, pad_rows, plan_batches
from .notes import Notes

POOLINGS = ("mean", "cls", "max")


@dataclass
class Tokenized:
    """Token ids of a chunk of texts, stored end to end (``flat``) with per-text lengths."""

    flat: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray
    full_lengths: np.ndarray  # before truncation
    seconds: float = 0.0

    @property
    def truncated(self) -> np.ndarray:
        return self.full_lengths > self.lengths

    @classmethod
    def concat(cls, parts: list[Tokenized]) -> Tokenized:
        if len(parts) == 1:
            return parts[0]
        shifts = np.cumsum([0] + [len(p.flat) for p in parts[:-1]])
        return cls(
            np.concatenate([p.flat for p in parts]),
            np.concatenate([p.offsets + shift for p, shift in zip(parts, shifts)]),
            np.concatenate([p.lengths for p in parts]),
            np.concatenate([p.full_lengths for p in parts]),
            sum(p.seconds for p in parts),
        )


def tokenizer_backend(tokenizer, max_tokens: int):
    """Two copies of a fast tokenizer's Rust backend: one truncating at ``max_tokens``, one not.

    Copies, so the user's tokenizer keeps its own padding and truncation settings.
    """
    from tokenizers import Tokenizer

    backend = getattr(tokenizer, "backend_tokenizer", None) or getattr(tokenizer, "_tokenizer", None)
    if backend is None:
        raise TypeError("the streaming encoder needs a fast (Rust) tokenizer")
    cut = Tokenizer.from_str(backend.to_str())
    cut.no_padding()
    cut.enable_truncation(max_length=max_tokens)
    whole = Tokenizer.from_str(backend.to_str())
    whole.no_padding()
    whole.no_truncation()
    return cut, whole


def tokenize(backends, texts: list[str]) -> Tokenized:
    """Token ids of ``texts`` (special tokens included), truncated by the first backend."""
    import itertools

    start = time.perf_counter()
    cut, whole = backends
    encode = getattr(cut, "encode_batch_fast", cut.encode_batch)
    encodings = encode(texts)
    ids = [e.ids for e in encodings]
    n = len(ids)
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=n)
    flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int32, count=int(lengths.sum()))
    offsets = np.zeros(n, dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    full = lengths.copy()
    overflowed = [i for i, e in enumerate(encodings) if e.overflowing]
    if overflowed:  # count what truncation cut (rare: only texts over the limit)
        again = getattr(whole, "encode_batch_fast", whole.encode_batch)([texts[i] for i in overflowed])
        full[overflowed] = [len(e.ids) for e in again]
    return Tokenized(flat, offsets, lengths, full, time.perf_counter() - start)


_WORKER_BACKENDS = None


def _start_tokenizer_process(cut_json: str, whole_json: str) -> None:
    """Initialise a tokenizer process: one single-threaded Rust tokenizer pair."""
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # parallelism comes from the processes
    from tokenizers import Tokenizer

    global _WORKER_BACKENDS
    _WORKER_BACKENDS = (Tokenizer.from_str(cut_json), Tokenizer.from_str(whole_json))


def _tokenize_in_process(texts: list[str]) -> Tokenized:
    return tokenize(_WORKER_BACKENDS, texts)


def _may_start_processes() -> bool:
    """Daemonic processes (Dask workers by default) may not have children."""
    import multiprocessing

    return not multiprocessing.current_process().daemon


@dataclass
class Profile:
    """Seconds per stage of the last :meth:`StreamEncoder.encode` call.

    Host stages (``tokenize`` summed over tokenizer threads, ``wait_tokens`` the main thread
    idle for them, ``pad``, ``launch`` issuing device work, ``wait_device`` and ``gather``)
    are wall-clock; device stages (``copy_in``, ``compute``, ``pool``, ``copy_out``) are
    timed with CUDA events on a GPU and synchronously on a CPU.
    """

    seconds: dict = field(default_factory=dict)
    texts: int = 0
    tokens: int = 0
    slots: int = 0
    batches: int = 0
    uniform_texts: int = 0
    chunk_launch: list = field(default_factory=list)  # host seconds issuing each chunk's device work

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    @property
    def padding_share(self) -> float:
        return 1.0 - self.tokens / self.slots if self.slots else 0.0

    def summary(self) -> dict:
        out = {k: round(v, 4) for k, v in self.seconds.items()}
        out.update(texts=self.texts, tokens=self.tokens, batches=self.batches, uniform_texts=self.uniform_texts)
        out["padding_share"] = round(self.padding_share, 4)
        if self.chunk_launch:
            launch = np.asarray(self.chunk_launch) * 1000
            out["launch_ms_first_chunks"] = [round(float(x), 1) for x in launch[:3]]
            out["launch_ms_median_chunk"] = round(float(np.median(launch)), 1)
            out["launch_ms_last_chunk"] = round(float(launch[-1]), 1)
        return out


class _Clock:
    """Device-side timing: CUDA events where there is a GPU, wall clock (after the work) otherwise."""

    def __init__(self, torch, device):
        self.torch = torch
        self.cuda = device.type == "cuda"
        self.marks: list = []

    @contextmanager
    def span(self, stage: str):
        if self.cuda:
            begin = self.torch.cuda.Event(enable_timing=True)
            begin.record()
            yield
            end = self.torch.cuda.Event(enable_timing=True)
            end.record()
            self.marks.append((stage, begin, end))
        else:
            start = time.perf_counter()
            yield
            self.marks.append((stage, time.perf_counter() - start, None))

    def collect(self, profile: Profile) -> None:
        for stage, begin, end in self.marks:
            profile.add(stage, begin.elapsed_time(end) / 1000 if end is not None else begin)
        self.marks = []


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
        Tokenizer processes (default on a GPU: up to 8, leaving two cores; 0 on a CPU).
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
        max_batch: int = 4096,
        chunk_size: int | None = None,
        threads: int | None = None,
        multiple: int | None = None,
        exact_share: float | None = 0.125,
        processes: int | None = None,
        row_steps: int | None = None,
    ):
        import torch

        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; use one of {POOLINGS}")
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        on_gpu = self.device.type == "cuda"
        dtype = dtype or ("float16" if on_gpu else "float32")
        if dtype not in ("float16", "bfloat16", "float32"):
            raise ValueError(f"dtype must be float16, bfloat16 or float32, got {dtype!r}")
        if not on_gpu and dtype != "float32":
            dtype = "float32"  # half precision on a CPU is slow and gains nothing here
        self.dtype = dtype
        self.model = model.to(self.device, getattr(torch, dtype)).eval()
        self.max_tokens = int(max_tokens)
        self.backends = tokenizer_backend(tokenizer, self.max_tokens)
        self.pad_id = int(tokenizer.pad_token_id or 0)
        self.pooling, self.normalize = pooling, bool(normalize)
        self.token_budget = int(token_budget or (131_072 if on_gpu else 8_192))
        self.max_batch = int(max_batch)
        self.chunk_size = int(chunk_size or (65_536 if on_gpu else 16_384))
        self.exact_share = exact_share
        cores = os.cpu_count() or 1
        self.processes = int(processes if processes is not None else (max(1, min(8, cores - 2)) if on_gpu else 0))
        self._process_pool = None
        self.threads = int(threads or min(4, cores))
        self.multiple = int(multiple or (8 if on_gpu else 1))
        self.row_steps = int(row_steps if row_steps is not None else (4 if on_gpu else 0))
        self.profile = Profile()
        self._staging: list = [None, None]  # pinned host buffers, alternating between chunks
        self._staged: list = [None, None]  # the event after which each may be rewritten
        self._out_host: list = [None, None]  # pinned host buffers for vectors coming back

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

    def _run_chunk(self, tok: Tokenized, slot: int, clock: _Clock):
        """Enqueue one chunk's device work; return its vectors on the device, in chunk order."""
        import torch
        import torch.nn.functional as F

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
        lengths = on_device[ids_end : ids_end + slots].long()
        order = on_device[ids_end + slots : ids_end + slots + n].long()
        dim = self.model.config.hidden_size
        out_sorted = torch.empty((n, dim), dtype=torch.float32, device=self.device)
        row = 0
        with torch.inference_mode():
            for at, rows, height, width, uniform, row_at in layout:
                ids = on_device[at : at + height * width].view(height, width).long()
                lens = lengths[row_at : row_at + height]
                # A 4-D mask is used as given; a 2-D one makes transformers check on the host
                # whether it can be dropped, a device-to-host sync on every batch. Uniform
                # batches need none, which lets PyTorch pick its flash attention kernel.
                keep = None if uniform else torch.arange(width, device=self.device)[None, :] < lens[:, None]
                mask = None if keep is None else keep[:, None, None, :]
                with clock.span("compute"):
                    hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
                with clock.span("pool"):
                    pooled = self._pool(hidden[:rows], lens[:rows], None if keep is None else keep[:rows])
                    if self.normalize:
                        pooled = F.normalize(pooled, p=2, dim=1)
                    out_sorted[row : row + rows] = pooled
                row += rows
            vectors = torch.empty_like(out_sorted)
            vectors[order] = out_sorted
        launched = time.perf_counter() - start
        self.profile.add("launch", launched)
        self.profile.chunk_launch.append(launched)
        return vectors

    # -- tokenized chunks, in order -----------------------------------------------------------
    def _process_pool_for(self, n: int):
        if self.processes < 1 or n <= self.chunk_size or not _may_start_processes():
            return None
        if self._process_pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            cut, whole = self.backends
            self._process_pool = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=multiprocessing.get_context("spawn"),  # never fork a process that holds CUDA
                initializer=_start_tokenizer_process,
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
                ahead.append([pool.submit(_tokenize_in_process, texts[a:b]) for a, b in plan[k]])
            for k, begin in enumerate(starts):
                futures = ahead.popleft()
                if k + 2 < len(plan):
                    ahead.append([pool.submit(_tokenize_in_process, texts[a:b]) for a, b in plan[k + 2]])
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
        clock = _Clock(torch, self.device)
        pending: deque = deque()  # (start, count, host buffer, event)

        def finish_one():
            begin, count, host, event = pending.popleft()
            t0 = time.perf_counter()
            if event is not None:
                event.synchronize()
            t1 = time.perf_counter()
            result[begin : begin + count] = host[:count].numpy() if on_gpu else host
            self.profile.add("wait_device", t1 - t0)
            self.profile.add("gather", time.perf_counter() - t1)
            if bar is not None:
                bar.update(count)

        for k, (begin, tok) in enumerate(self._chunks(texts)):
            self.profile.add("tokenize", tok.seconds)
            count = len(tok.lengths)
            n_tokens[begin : begin + count] = tok.full_lengths
            truncated[begin : begin + count] = tok.truncated
            self.profile.tokens += int(tok.lengths.sum())
            vectors = self._run_chunk(tok, k % 2, clock)
            if on_gpu:
                slot = k % 2
                host = self._out_host[slot]  # kept between calls: pinning memory is slow
                if host is None or host.shape[0] < count or host.shape[1] != dim:
                    host = torch.empty((count, dim), dtype=torch.float32, pin_memory=True)
                    self._out_host[slot] = host
                with clock.span("copy_out"):
                    host[:count].copy_(vectors, non_blocking=True)
                event = torch.cuda.Event()
                event.record()
                pending.append((begin, count, host, event))
                if len(pending) > 1:  # read the previous chunk back while the device runs this one
                    finish_one()
            else:
                pending.append((begin, count, vectors.numpy(), None))
                finish_one()
        while pending:
            finish_one()
        clock.collect(self.profile)
        return result, Notes.from_counts(n_tokens, truncated)


def sentence_transformer_parts(st_model):
    """``(hf_model, pooling, normalize)`` when a SentenceTransformer is the usual
    Transformer -> Pooling -> (Normalize) stack the streaming encoder reproduces, else None."""
    modules = list(st_model)
    if len(modules) < 2 or type(modules[0]).__name__ != "Transformer" or type(modules[1]).__name__ != "Pooling":
        return None
    rest = [type(m).__name__ for m in modules[2:]]
    if rest not in ([], ["Normalize"]):
        return None
    pooler = modules[1]
    config = pooler.get_config_dict() if hasattr(pooler, "get_config_dict") else {}
    if config.get("include_prompt", True) is False:
        return None
    if "pooling_mode" in config:  # sentence-transformers 6: one named mode
        mode = config["pooling_mode"]
        modes = [mode] if isinstance(mode, str) else list(mode)
    else:  # earlier versions: one flag per mode
        flags = {k[len("pooling_mode_") :]: v for k, v in config.items() if k.startswith("pooling_mode_") and v}
        names = {"mean_tokens": "mean", "cls_token": "cls", "max_tokens": "max"}
        modes = [names.get(k, k) for k in flags]
    if len(modes) != 1 or modes[0] not in POOLINGS:
        return None
    return modules[0].auto_model, modes[0], rest == ["Normalize"]
