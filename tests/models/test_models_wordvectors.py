import numpy as np
import pytest

from simwidgets import load_model
from simwidgets.texts import ALL_OOV


def test_bundled_glove_is_the_whole_table(glove):
    assert glove.name == "glove-50d"
    assert glove.dim == 50
    vocab = glove.vocabulary()
    assert len(vocab) == 400_000
    assert vocab.tokens[:3] == ["the", ",", "."]
    assert vocab.ranks[0] == 0
    np.testing.assert_array_equal(glove.embed(["frog"])[0], vocab.vectors[vocab.index["frog"]])


def test_glove_mean_pools_and_reports_oov(glove):
    report = glove.embed_report(["The Cat sat", "zzqxv cat", "zzqxv blorfle", None])
    vocab = glove.vocabulary()
    expected = vocab.vectors[[vocab.index["the"], vocab.index["cat"], vocab.index["sat"]]].mean(0)
    np.testing.assert_allclose(report.vectors[0], expected, rtol=1e-6)
    np.testing.assert_allclose(report.vectors[1], vocab.vectors[vocab.index["cat"]], rtol=1e-6)
    assert report.oov[1] == ("zzqxv",)
    assert report.reasons[2] == ALL_OOV
    assert np.isnan(report.vectors[2]).all() and np.isnan(report.vectors[3]).all()
    summary = report.summary()
    assert summary["oov_tokens"] == 3 and summary["failed"] == 2
    assert report.oov_counts()["zzqxv"] == 2


def test_sif_downweights_frequent_words_and_removes_component(glove):
    sif = load_model("glove-50d?pooling=sif")
    assert sif.name == "glove-50d-sif"
    v = sif.embed(["the cat", "cat"])
    u = sif._sif_component()
    # the common component is removed from every vector
    np.testing.assert_allclose(v @ u, 0, atol=1e-5)
    # "the" weighs far less than "cat" under SIF
    w = sif._sif_weights()
    vocab = glove.vocabulary()
    assert w[vocab.index["the"]] < 0.1 * w[vocab.index["cat"]]
    cos = float(v[0] @ v[1] / np.linalg.norm(v[0]) / np.linalg.norm(v[1]))
    assert cos > 0.9


def test_sif_fit_on_corpus_changes_the_component(lee_texts):
    from simwidgets.models.wordvectors import load_bundled_glove

    sif = load_bundled_glove(pooling="sif")
    before = sif.identity
    sif.fit(lee_texts[:100])
    assert sif.identity != before
    out = sif.embed(lee_texts[:3])
    np.testing.assert_allclose(out @ sif._component, 0, atol=1e-4)


def test_max_vocab_reproduces_restricted_lookup():
    small = load_model("glove-50d", max_vocab=1000)
    report = small.embed_report(["the", "frog"])
    assert report.reasons == [None, ALL_OOV]


@pytest.mark.parametrize("spec", ["word2vec:w2v.txt", "word2vec:w2v.bin", "glove:glove.txt", "fasttext:ft.vec"])
def test_word_vector_formats_load_the_same_vectors(word_vector_files, spec):
    family, file = spec.split(":")
    model = load_model(f"{family}:{word_vector_files['folder'] / file}")
    reference = word_vector_files["w2v"] if "w2v" in file or "glove" in file else word_vector_files["fasttext"]
    word = reference.index_to_key[5]
    np.testing.assert_allclose(model.embed([word])[0], reference[word], rtol=1e-5, atol=1e-6)
    assert model.vocabulary().tokens[:10] == list(reference.index_to_key[:10])
    assert model.embed_report(["qqqzzzxx"]).reasons == [ALL_OOV]


def test_fasttext_bin_builds_oov_vectors_from_subwords(word_vector_files):
    model = load_model(f"fasttext:{word_vector_files['folder'] / 'ft.bin'}")
    reference = word_vector_files["fasttext"]
    report = model.embed_report(["governmentalish"])
    assert report.oov == [("governmentalish",)]
    assert report.reasons == [None]
    np.testing.assert_allclose(report.vectors[0], reference["governmentalish"], rtol=1e-4, atol=1e-6)


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_model(f"word2vec:{tmp_path / 'nope.txt'}")
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"3 50\n\x00\x01garbage")
    with pytest.raises(ValueError, match="could not read"):
        load_model(f"word2vec:{bad}")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ValueError):
        load_model(f"glove:{empty}")


def test_many_texts_in_several_batches_keep_their_order_vectors_and_notes():
    """More distinct texts than one batch holds, with a NUL inside some (the one-by-one
    tokenizer path) and out-of-vocabulary words at known places: every row is its own text's
    mean vector, with its own notes."""
    model = load_model("glove-50d?name=glove-order")  # a fresh model: an empty cache
    kv = model.kv
    rng = np.random.default_rng(7)
    words = [w for w in model.vocabulary().tokens[200:4000] if w.isalpha()]  # one token each
    texts = []
    for i in range(40_000):
        picked = [words[j] for j in rng.integers(0, len(words), 1 + i % 4)]
        if i % 501 == 0:
            picked.append(f"zzqq{i}")  # one unknown word
        text = ("\x00" if i % 10_007 == 0 else " ").join(picked) + f" {i}"
        texts.append(f"qqzz{i}" if i % 997 == 0 else text)  # nothing known
    report = model.embed_report(texts, progress=False)
    for i in list(range(0, 40_000, 123)) + [997 * 7, 501 * 3, 10_007]:
        known = [w for w in texts[i].replace("\x00", " ").split() if w in kv.key_to_index]
        if i % 997 == 0:
            assert report.reasons[i] == ALL_OOV and np.isnan(report.vectors[i]).all()
        else:
            assert report.reasons[i] is None
            np.testing.assert_allclose(report.vectors[i], np.mean([kv[w] for w in known], axis=0), atol=1e-5)
        expected_oov = tuple(w for w in texts[i].replace("\x00", " ").split() if w not in kv.key_to_index)
        assert report.oov[i] == expected_oov
