"""use: and elmo: models from local TF-Hub SavedModel folders, tested with tiny SavedModels of
the same signatures (strings in; ``outputs`` for the Universal Sentence Encoder, ``elmo`` /
``default`` / ``sequence_len`` for ELMo), built here in a temporary folder."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

import simwidgets as sw
from simwidgets.models.tfhub import import_tensorflow

if importlib.util.find_spec("tensorflow") is None:
    pytest.skip("use: and elmo: need the [tfhub] extra (TensorFlow)", allow_module_level=True)
tf = import_tensorflow()  # as the package does: after triton, whose LLVM must load first

DIM = 8
BUCKETS = 997


def _table(seed: int):
    return tf.Variable(np.random.default_rng(seed).normal(size=(BUCKETS, DIM)).astype(np.float32))


class TinyUSE(tf.Module):
    """Like USE v4: called with a batch of strings, or through serving_default -> {"outputs"}."""

    def __init__(self):
        super().__init__()
        self.table = _table(0)
        self.calls = tf.Variable(0, dtype=tf.int64)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, inputs):
        self.calls.assign_add(1)
        words = tf.strings.split(tf.strings.lower(inputs))
        ids = tf.strings.to_hash_bucket_fast(words, BUCKETS)
        vectors = tf.ragged.map_flat_values(tf.gather, self.table, ids)
        return tf.reduce_mean(vectors, axis=1)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
    def serve(self, inputs):
        return {"outputs": self(inputs)}


class TinyELMo(tf.Module):
    """Like ELMo v3's "default" signature: whole strings in, per-token "elmo", "default", "sequence_len"."""

    def __init__(self):
        super().__init__()
        self.table = _table(1)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="strings")])
    def default(self, strings):
        words = tf.strings.split(strings)
        ids = tf.strings.to_hash_bucket_fast(words, BUCKETS)
        tokens = tf.ragged.map_flat_values(tf.gather, self.table, ids)
        elmo = tokens.to_tensor()  # zero-padded
        lengths = tf.cast(words.row_lengths(), tf.int32)
        return {"elmo": elmo, "default": tf.reduce_mean(tokens, axis=1), "sequence_len": lengths}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("tfhub")
    use, elmo = TinyUSE(), TinyELMo()
    tf.saved_model.save(use, str(root / "use"), signatures={"serving_default": use.serve})
    tf.saved_model.save(elmo, str(root / "elmo"), signatures={"default": elmo.default})

    class ServingOnly(tf.Module):  # a SavedModel with a serving signature and no call of its own
        def __init__(self):
            super().__init__()
            self.inner = TinyUSE()

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
        def serve(self, inputs):
            return {"outputs": self.inner(inputs)}

    serving = ServingOnly()
    tf.saved_model.save(serving, str(root / "serving"), signatures={"serving_default": serving.serve})
    return root


def _expected_use(texts):
    table = np.random.default_rng(0).normal(size=(BUCKETS, DIM)).astype(np.float32)
    out = []
    for text in texts:
        ids = tf.strings.to_hash_bucket_fast(tf.strings.split(tf.constant(text.lower())), BUCKETS).numpy()
        out.append(table[ids].mean(axis=0))
    return np.array(out)


TEXTS = ["A man plays a guitar.", "Someone plays an instrument", "The stock market fell", "frog", "a b c d e f"]


def test_use_gives_its_vectors_batched_with_bad_rows_reported(folders):
    model = sw.load_model(f"use:{folders / 'use'}")
    assert model.name == "use:use" and model.dim is None or True
    vectors = model.embed(TEXTS)
    assert vectors.shape == (5, DIM) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, _expected_use(TEXTS), rtol=1e-5, atol=1e-6)
    small = sw.load_model(f"use:{folders / 'use'}?batch_size=2", name="small").embed(TEXTS)
    np.testing.assert_allclose(small, vectors, rtol=1e-5, atol=1e-6)
    report = model.embed_report(["a cat", None, "   ", "a dog"])
    assert np.isnan(report.vectors[1]).all() and np.isnan(report.vectors[2]).all()
    assert report.reasons[1] == "missing text (None or NaN)" and report.reasons[2].startswith("empty")
    assert np.isfinite(report.vectors[[0, 3]]).all()
    # the loaded model is reused: loading again gives the same object, and no text is embedded twice
    again = sw.load_model(f"use:{folders / 'use'}")
    assert again is model
    calls = int(model.module.calls.numpy())
    again.embed(TEXTS)
    assert int(model.module.calls.numpy()) == calls
    serving = sw.load_model(f"use:{folders / 'serving'}").embed(TEXTS)  # through serving_default's "outputs"
    np.testing.assert_allclose(serving, vectors, rtol=1e-5, atol=1e-6)


def test_elmo_means_its_layer_over_each_texts_tokens(folders):
    table = np.random.default_rng(1).normal(size=(BUCKETS, DIM)).astype(np.float32)
    model = sw.load_model(f"elmo:{folders / 'elmo'}")
    vectors = model.embed(TEXTS)  # texts of different lengths in one batch: padding never counts
    for text, vector in zip(TEXTS, vectors):
        ids = tf.strings.to_hash_bucket_fast(tf.strings.split(tf.constant(text)), BUCKETS).numpy()
        np.testing.assert_allclose(vector, table[ids].mean(axis=0), rtol=1e-5, atol=1e-6)
    default = sw.load_model(f"elmo:{folders / 'elmo'}?pooling=default").embed(TEXTS)
    np.testing.assert_allclose(default, vectors, rtol=1e-5, atol=1e-6)
    words = ["frog", "toad", "guitar", "market", "a"]
    table_out = sw.neighbours("frog", f"elmo:{folders / 'elmo'}", k=3, among=words)
    assert len(table_out) == 3 and "frog" not in table_out["text"].tolist()


def test_bad_folders_and_options_are_clear(folders, tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        sw.load_model(f"use:{tmp_path / 'nothing'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a SavedModel folder"):
        sw.load_model(f"use:{tmp_path / 'empty'}")
    with pytest.raises(ValueError, match="pooling=.*is not one of mean, default"):
        sw.load_model(f"elmo:{folders / 'elmo'}?pooling=max")
    with pytest.raises(ValueError, match="no 'default' signature"):
        sw.load_model(f"elmo:{folders / 'use'}")


def test_both_families_in_every_api(folders, tmp_path):
    use, elmo = f"use:{folders / 'use'}", f"elmo:{folders / 'elmo'}"
    frame = pd.DataFrame(
        {
            "query": ["a cat sat", "stock market", "play guitar", "a frog", "the dog", "music band"] * 4,
            "result": ["a cat sits", "market fell", "guitar music", "a toad", "the puppy", "a band plays"] * 4,
            "grade": [1, 0.5, 1, 0.5, 1, 0] * 4,
        }
    )
    models = [use, elmo, "glove-50d"]
    scores = sw.score_pairs(frame["query"], frame["result"], models)
    assert {"score_use:use", "score_elmo:elmo", "score_glove-50d"} <= set(scores.columns)
    assert scores[["score_use:use", "score_elmo:elmo"]].notna().all().all()
    table = sw.evaluate_pairs(frame["query"], frame["result"], frame["grade"], models, n_boot=50)
    assert {"use:use", "elmo:elmo"} <= set(table.index if "model" not in table else table["model"])
    tuner = sw.ThresholdTuner(frame, "query", "result", label="grade", models=[use, elmo])
    assert tuner.model_names == ["use:use", "elmo:elmo"]
    result = sw.cross_validate([use, elmo], frame["query"], frame["result"], frame["grade"], folds=3, n_boot=50)
    assert len(result.table) == 2
    frame.to_csv(tmp_path / "pairs.csv", index=False)
    summary = sw.score_file(
        tmp_path / "pairs.csv", tmp_path / "out", "query", "result", [use, elmo], workers=1, progress=False
    )
    out = pd.read_parquet(tmp_path / "out")
    assert summary.rows == len(frame) and out["score_use:use"].notna().all() and out["score_elmo:elmo"].notna().all()
    np.testing.assert_allclose(out["score_use:use"], scores["score_use:use"], rtol=1e-4, atol=1e-5)


def test_torch_and_triton_still_load_after_a_tfhub_model(folders):
    import subprocess
    import sys

    code = (
        "import simwidgets as sw\n"
        f"sw.load_model('use:{folders / 'use'}').embed(['a cat'])\n"
        "import torch\n"
        "try:\n    import triton.runtime\nexcept ImportError:\n    pass\n"
        "print(sw.load_model('minilm').embed(['a cat']).shape)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "(1, 384)" in done.stdout, done.stderr[-2000:]
    # umap-learn imports TensorFlow where it is installed: a map, then torch's compiler, is fine too
    code = (
        "import numpy as np\n"
        "from simwidgets.projection import umap_2d\n"
        "umap_2d(np.random.default_rng(0).normal(size=(60, 4)), n_epochs=5)\n"
        "import sys; assert 'tensorflow' in sys.modules\n"
        "try:\n    import triton.runtime\nexcept ImportError:\n    pass\n"
        "print('fine')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "fine" in done.stdout, done.stderr[-2000:]
