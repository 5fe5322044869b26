"""Where the streaming encoder's time goes: host stages by wall clock, device stages by CUDA events."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Profile:
    """Seconds per stage of the last :meth:`StreamEncoder.encode` call.

    Host stages (``tokenize`` summed over tokenizer threads, ``wait_tokens`` the main thread
    idle for them, ``pad``, ``launch`` issuing device work, ``wait_device`` and ``gather`` (on
    a GPU in the gathering thread, beside the main thread), ``wait_gather`` the main thread
    idle for that thread) are wall-clock; device stages (``copy_in``, ``compute`` with
    pooling, ``copy_out``) are timed with CUDA events on a GPU and synchronously on a CPU.
    """

    seconds: dict = field(default_factory=dict)
    texts: int = 0
    tokens: int = 0
    slots: int = 0
    batches: int = 0
    uniform_texts: int = 0
    chunk_launch: list = field(default_factory=list)  # host seconds issuing each chunk's device work
    extra: dict = field(default_factory=dict)  # e.g. CUDA graphs held and replayed

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    @property
    def padding_share(self) -> float:
        return 1.0 - self.tokens / self.slots if self.slots else 0.0

    def summary(self) -> dict:
        out = {k: round(v, 4) for k, v in self.seconds.items()}
        out.update(texts=self.texts, tokens=self.tokens, batches=self.batches, uniform_texts=self.uniform_texts)
        out["padding_share"] = round(self.padding_share, 4)
        out.update(self.extra)
        if self.chunk_launch:
            launch = np.asarray(self.chunk_launch) * 1000
            out["launch_ms_first_chunks"] = [round(float(x), 1) for x in launch[:3]]
            out["launch_ms_median_chunk"] = round(float(np.median(launch)), 1)
            out["launch_ms_last_chunk"] = round(float(launch[-1]), 1)
        return out


class DeviceClock:
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
