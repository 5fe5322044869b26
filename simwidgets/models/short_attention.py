"""Attention for short texts on a GPU: one small Triton program per text and head.

Search results and queries are short (about 19 word pieces for STS-B's sentences), and a
general attention kernel tiles the sequence in blocks of 64 or 128 tokens: for a text of 24
tokens most of each tile is padding, and on one H100 cuDNN's flash kernel took 40% of
MiniLM's card time for a pass whose attention reads a tenth of the memory its matrix products
do. :func:`short_attention` instead gives each (text, head) one program that holds the whole
text (padded to 16, 32 or 64 rows) in registers: it reads the query, key and value straight
out of the fused projection's output (no reshapes or copies), masks padded keys, and writes
the heads side by side, ready for the output projection.

Only for texts up to :data:`MAX_WIDTH` tokens in half precision on a CUDA device with Triton;
:func:`available` says whether it applies, and :class:`~.fused_bert.FusedBert` runs PyTorch's
attention otherwise. On a CPU the kernel runs in Triton's interpreter (``TRITON_INTERPRET=1``),
which is how the tests hold it to PyTorch's attention without a card.
"""

from __future__ import annotations

import functools
import os

#: The widest batch (tokens) the kernel takes; wider ones use PyTorch's attention.
MAX_WIDTH = 64
#: Warps per program for each padded width (16, 32, 64 rows).
WARPS = {16: 1, 32: 2, 64: 4}
#: Heads each program attends, one after another (a divisor of the model's heads; more heads
#: per program: fewer, longer programs).
HEADS_PER_PROGRAM = 1


def triton_missing() -> str | None:
    """Why the Triton kernel cannot run here (``None``: Triton imports)."""
    try:
        import triton  # noqa: F401
    except ImportError as exc:  # CPU-only builds of PyTorch come without it
        return f"Triton is not installed ({exc})"
    except Exception as exc:  # an installation that fails on import (a mismatched build, ...)
        return f"Triton does not import ({type(exc).__name__}: {exc})"
    return None


#: Head sizes the kernel takes (a power of two, as Triton's blocks are).
HEAD_SIZES = (16, 32, 64, 128)


def available(x, width: int, head: int, key_mask=None) -> bool:
    """Whether :func:`short_attention` runs for a pass over tensors like ``x`` (its dtype and
    device), a batch ``width`` tokens wide, heads of ``head`` values and a key mask (None or
    booleans)."""
    import torch

    if width > MAX_WIDTH or x.dtype not in (torch.float16, torch.bfloat16):
        return False
    if head not in HEAD_SIZES or (key_mask is not None and key_mask.dtype != torch.bool):
        return False
    if not (x.is_cuda or _interpreting()):
        return False
    return triton_missing() is None


def _interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


@functools.lru_cache(maxsize=2)
def _kernel(interpret: bool):
    """The Triton kernel, built on first use (``interpret``: for Triton's CPU interpreter,
    which is chosen when the kernel is defined, so each mode has its own)."""
    import triton
    import triton.language as tl

    @triton.jit(do_not_specialize=["width"])
    def attend(
        qkv,
        key_mask,
        out,
        width,
        scale,
        H: tl.constexpr,
        D: tl.constexpr,
        L: tl.constexpr,
        G: tl.constexpr,
        MASKED: tl.constexpr,
    ):
        text = tl.program_id(0).to(tl.int64)
        rows = tl.arange(0, L)
        cols = tl.arange(0, D)
        real = rows < width
        if MASKED:
            keep = tl.load(key_mask + text * width + rows, mask=real, other=0) != 0
        else:
            keep = real
        stride = 3 * H * D  # one token's query, key and value, all heads
        for g in tl.static_range(G):
            head = tl.program_id(1) * G + g
            at = qkv + text * width * stride + head * D + rows[:, None] * stride + cols[None, :]
            q = tl.load(at, mask=real[:, None], other=0.0)
            k = tl.load(at + H * D, mask=real[:, None], other=0.0)
            v = tl.load(at + 2 * H * D, mask=real[:, None], other=0.0)
            s = tl.dot(q, tl.trans(k)) * scale  # float32
            s = tl.where(keep[None, :], s, float("-inf"))
            p = tl.exp(s - tl.max(s, 1)[:, None])
            p = p / tl.sum(p, 1)[:, None]
            o = tl.dot(p.to(v.dtype), v)
            to = out + text * width * (H * D) + rows[:, None] * (H * D) + head * D + cols[None, :]
            tl.store(to, o.to(out.dtype.element_ty), mask=real[:, None])

    del interpret  # part of the cache key only
    return attend


def short_attention(qkv, key_mask, batch: int, width: int, heads: int):
    """Scaled dot-product attention of every head, from a fused projection's output.

    ``qkv``: ``(batch * width, 3 * hidden)``, each token's query, key and value side by side
    (each ``heads`` blocks of ``hidden // heads``), contiguous; ``key_mask``: booleans of shape
    ``(batch, width)`` or ``(batch, 1, 1, width)`` (True: a real token), or None (every token
    real). Returns ``(batch * width, hidden)``: the heads' outputs side by side, as PyTorch's
    attention gives them after its transpose.
    Rows of padding tokens get finite values (they attend to the real tokens).
    """
    import torch

    hidden = qkv.shape[1] // 3
    head = hidden // heads
    if head not in HEAD_SIZES or width > MAX_WIDTH:
        raise ValueError(f"short_attention takes head sizes {HEAD_SIZES} and at most {MAX_WIDTH} tokens")
    rows = max(16, 1 << (max(width, 1) - 1).bit_length())
    out = torch.empty((batch * width, hidden), dtype=qkv.dtype, device=qkv.device)
    mask = None if key_mask is None else key_mask.reshape(batch, width).view(torch.uint8)  # same bytes, no copy
    group = HEADS_PER_PROGRAM if heads % HEADS_PER_PROGRAM == 0 else 1
    _kernel(_interpreting())[(batch, heads // group)](
        qkv,
        mask if mask is not None else qkv,  # not read when MASKED is False
        out,
        width,
        head**-0.5,
        H=heads,
        D=head,
        L=rows,
        G=group,
        MASKED=mask is not None,
        num_warps=WARPS.get(rows, 4),
    )
    return out
