"""A BERT encoder's forward pass in fewer, larger kernels, for the streaming encoder.

transformers' ``BertModel`` runs each layer as separate modules: three projections for the
query, key and value, their reshapes, attention, and the feed-forward block. For a small
encoder (MiniLM: 384 wide, six layers) on a fast card every kernel is short, so their
number and the memory each one reads and writes are what a pass costs. :class:`FusedBert`
computes the same function from the same weights with one projection for query, key and
value together, PyTorch's fused attention, and (``gelu_in_matmul``) the feed-forward block's
bias and GELU inside its matrix product (cuBLASLt's epilogue; its GELU is the tanh
approximation, so on a card the vectors move slightly: ``tests/test_gpu.py`` holds them to
fp32's within the same tolerance as the other GPU paths).

Only the plain encoder is covered: absolute positions, one token type, no cross-attention
and an activation in :data:`ACTIVATIONS`; :func:`unsupported` says why another model is not.

    >>> from transformers import BertConfig, BertModel
    >>> model = BertModel(BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
    ...                              intermediate_size=64, vocab_size=100)).eval()
    >>> import torch
    >>> ids = torch.tensor([[1, 5, 7, 2]])
    >>> fused = FusedBert(model)
    >>> bool(torch.allclose(fused(ids), model(input_ids=ids).last_hidden_state, atol=1e-5))
    True
"""

from __future__ import annotations

import warnings

from ..errors import InputError, SimwidgetsWarning
from .short_attention import available as short_available
from .short_attention import short_attention as attend_short

#: How the streaming encoder's forward pass may run: the model's own modules, or this module's
#: fused pass (with the feed-forward GELU inside the matrix product, for ``"fused-gelu"``; and
#: with :mod:`.short_attention`'s kernel for short texts as well, for ``"fused-short"``).
KERNELS = ("transformers", "fused", "fused-gelu", "fused-short")
#: Activations the fused pass reproduces (as named in a transformers config).
ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "relu")


def unsupported(model) -> str | None:
    """Why :class:`FusedBert` cannot reproduce ``model`` (``None``: it can)."""
    config = getattr(model, "config", None)
    if config is None or getattr(config, "model_type", None) != "bert":
        return f"not a BERT encoder (model_type {getattr(config, 'model_type', None)!r})"
    if getattr(config, "is_decoder", False) or getattr(config, "add_cross_attention", False):
        return "a decoder or cross-attention BERT"
    if getattr(config, "position_embedding_type", "absolute") != "absolute":
        return f"position embeddings {config.position_embedding_type!r} (only absolute ones are fused)"
    act = getattr(config, "hidden_act", None)
    if act not in ACTIVATIONS:
        return f"activation {act!r} (fused: {', '.join(ACTIVATIONS)})"
    if not hasattr(model, "embeddings") or not hasattr(model, "encoder"):
        return "no embeddings / encoder modules"
    return None


class FusedBert:
    """The last hidden state of a transformers ``BertModel``, computed with fused kernels.

    Build it after the model is on its device and in its dtype: the weights are read from
    the model (the query, key and value projections are stacked into one new matrix; the
    rest are shared, not copied). Inference only: no dropout, no gradients kept.

    Parameters
    ----------
    model
        A ``BertModel`` (or a model whose config is BERT's, with the same module names).
    gelu_in_matmul
        Add the bias and apply GELU inside the feed-forward block's first matrix product
        (``torch._addmm_activation``). cuBLASLt's GELU is the tanh approximation: with an
        exact-GELU model (MiniLM) the vectors move slightly. Off by default.
    short_attention
        Attend with :func:`~.short_attention.short_attention` (one Triton program per text and
        head) for batches it takes (:func:`~.short_attention.available`: half precision on a
        GPU, at most 64 tokens wide, heads of 16-128), PyTorch's attention for the rest and while
        ``torch.compile`` traces the pass. Off by default.
    """

    def __init__(self, model, *, gelu_in_matmul: bool = False, short_attention: bool = False):
        import torch

        reason = unsupported(model)
        if reason:
            raise InputError(f"the fused BERT pass cannot run this model: {reason}")
        config = model.config
        self.heads = int(config.num_attention_heads)
        self.eps = float(config.layer_norm_eps)
        self.act = config.hidden_act
        self.gelu_in_matmul = bool(gelu_in_matmul) and self.act != "relu"
        self.short_attention = bool(short_attention)
        #: Why the short-text kernel stopped being used (``None``: it runs, or was not asked for).
        self.short_failed: str | None = None
        emb = model.embeddings
        with torch.no_grad():
            self.words = emb.word_embeddings.weight
            # every token has type 0: its embedding is folded into the position table once
            self.positions = emb.position_embeddings.weight + emb.token_type_embeddings.weight[0]
            self.emb_norm = (emb.LayerNorm.weight, emb.LayerNorm.bias)
            self.layers = []
            for layer in model.encoder.layer:
                att = layer.attention
                q, k, v = att.self.query, att.self.key, att.self.value
                self.layers.append(
                    (
                        torch.cat([q.weight, k.weight, v.weight]),
                        torch.cat([q.bias, k.bias, v.bias]),
                        att.output.dense.weight,
                        att.output.dense.bias,
                        (att.output.LayerNorm.weight, att.output.LayerNorm.bias),
                        layer.intermediate.dense.weight.t(),  # (hidden, inner): addmm's layout
                        layer.intermediate.dense.bias,
                        layer.output.dense.weight,
                        layer.output.dense.bias,
                        (layer.output.LayerNorm.weight, layer.output.LayerNorm.bias),
                    )
                )

    def _activate(self, x):
        import torch.nn.functional as F

        if self.act == "relu":
            return F.relu(x)
        return F.gelu(x, approximate="none" if self.act == "gelu" else "tanh")

    def _inner(self, x, weight_t, bias):
        """The feed-forward block's first product and activation, on ``(tokens, hidden)`` rows."""
        import torch

        if self.gelu_in_matmul:
            return torch._addmm_activation(bias, x, weight_t, use_gelu=True)
        return self._activate(torch.addmm(bias, x, weight_t))

    def _short(self, qkv, attention_mask, batch: int, width: int):
        """The short-text kernel's attention, or None (PyTorch's from now on) where Triton cannot
        build or launch it here (no C compiler for its launcher, an unsupported card, ...): the
        reason is kept in :attr:`short_failed` and said once in a warning."""
        import torch

        try:
            return attend_short(qkv, attention_mask, batch, width, self.heads)
        except torch.cuda.OutOfMemoryError:
            raise  # PyTorch's attention needs the memory too
        except Exception as exc:
            if qkv.is_cuda and torch.cuda.is_current_stream_capturing():
                raise  # inside a CUDA graph's capture: ShapeGraphs falls back to eager and says why
            self.short_attention = False
            self.short_failed = f"{type(exc).__name__}: {exc}"[:500]
            warnings.warn(
                f"the short-text attention kernel could not run here ({self.short_failed}); "
                "PyTorch's attention is used from now on",
                SimwidgetsWarning,
                stacklevel=3,
            )
            return None

    def __call__(self, input_ids, attention_mask=None):
        """``(batch, width, hidden)`` from ids ``(batch, width)``; ``attention_mask`` is a
        boolean ``(batch, 1, 1, width)`` (True: attend) or None (every token is real)."""
        import torch
        import torch.nn.functional as F

        batch, width = input_ids.shape
        hidden = self.words.shape[1]
        x = F.embedding(input_ids, self.words) + self.positions[:width]
        x = F.layer_norm(x, (hidden,), *self.emb_norm, self.eps).view(batch * width, hidden)
        head = hidden // self.heads
        # under torch.compile the pass is traced: PyTorch's attention there, which the compiler
        # knows (the Triton kernel is for the eager pass and CUDA graphs)
        short = (
            self.short_attention
            and not torch.compiler.is_compiling()
            and short_available(x, width, head, attention_mask)
        )
        for qkv_w, qkv_b, out_w, out_b, norm1, inner_w, inner_b, down_w, down_b, norm2 in self.layers:
            qkv = F.linear(x, qkv_w, qkv_b)
            att = self._short(qkv, attention_mask, batch, width) if short else None
            short = att is not None  # a kernel that failed here is not tried in the layers after
            if att is None:
                qkv = qkv.view(batch, width, 3, self.heads, head).permute(2, 0, 3, 1, 4)
                att = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=attention_mask)
                att = att.transpose(1, 2).reshape(batch * width, hidden)
            x = F.layer_norm(F.linear(att, out_w, out_b) + x, (hidden,), *norm1, self.eps)
            up = self._inner(x, inner_w, inner_b)
            x = F.layer_norm(F.linear(up, down_w, down_b) + x, (hidden,), *norm2, self.eps)
        return x.view(batch, width, hidden)
