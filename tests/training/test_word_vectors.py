"""train_word_vectors: fastText and word2vec from the user's corpus, with gensim."""

from __future__ import annotations

import numpy as np
import pytest

from simwidgets import SimwidgetsWarning, load_model, neighbours, train_word_vectors
from simwidgets.training.store import DONE

# the test corpora are small on purpose: the warning that says so is tested below
pytestmark = pytest.mark.filterwarnings("ignore:train_word_vectors.*far too few")


@pytest.fixture(scope="module")
def corpus(lee_texts):
    return lee_texts + [None, "  "]


def test_fasttext_gives_vectors_to_misspellings_word2vec_does_not(corpus, tmp_path):
    ft = train_word_vectors(corpus, "fasttext", dim=24, epochs=3, output_dir=tmp_path / "ft", progress=False)
    w2v = train_word_vectors(corpus, "word2vec", dim=24, epochs=3, output_dir=tmp_path / "w2v", progress=False)
    assert ft.spec.startswith("fasttext:") and w2v.spec.startswith("word2vec:")
    assert (ft.path / DONE).is_file() and ft.dropped == {
        "missing text (None or NaN)": 1,
        "empty or whitespace-only text": 1,
    }
    assert ft.history["vocabulary"].iloc[0] > 1000
    misspelt = ["goverment"]  # out of both vocabularies: fastText builds it from subwords
    from_subwords = load_model(ft.spec).embed_report(misspelt)
    assert from_subwords.oov == [("goverment",)] and from_subwords.reasons == [None]
    assert np.isfinite(from_subwords.vectors).all()
    assert load_model(w2v.spec).embed_report(misspelt).reasons == ["all tokens out of vocabulary"]
    assert not neighbours("government", model=ft.spec, k=5).empty


def test_the_same_corpus_and_settings_are_not_trained_twice(corpus, tmp_path):
    first = train_word_vectors(corpus, "word2vec", dim=16, epochs=1, cache_dir=tmp_path, progress=False)
    again = train_word_vectors(corpus, "word2vec", dim=16, epochs=1, cache_dir=tmp_path, progress=False)
    other = train_word_vectors(corpus, "word2vec", dim=16, epochs=2, cache_dir=tmp_path, progress=False)
    assert again.reused and again.spec == first.spec and not other.reused and other.spec != first.spec
    a, b = load_model(first.spec).embed(["the cat"]), load_model(again.spec).embed(["the cat"])
    np.testing.assert_array_equal(a, b)


def test_bad_corpora_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="kind must be one of"):
        train_word_vectors(["a b c"] * 5, "glove")
    with pytest.raises(ValueError, match="corpus of some size"):
        train_word_vectors(["one", None])
    with pytest.raises(ValueError, match="lower min_count"):
        train_word_vectors(
            ["alpha beta gamma delta epsilon zeta eta theta"] * 2,
            min_count=5,
            output_dir=tmp_path / "x",
            progress=False,
        )


@pytest.mark.filterwarnings("error")
def test_a_corpus_too_small_to_learn_from_is_said_and_the_log_is_pointed_to(corpus, tmp_path):
    with pytest.warns(SimwidgetsWarning, match=r"far too few.*WordVectorTrainer\(corpus=\.\.\.\)"):
        train_word_vectors(corpus, "word2vec", dim=8, epochs=1, output_dir=tmp_path / "w", progress=False)


def test_the_trainer_reads_its_corpus_from_a_log_file(corpus, tmp_path):
    import pandas as pd

    from simwidgets.trainers import WordVectorTrainer

    log = tmp_path / "log.csv"
    pd.DataFrame({"query": [t for t in corpus if t and t.strip()]}).to_csv(log, index=False)
    trainer = WordVectorTrainer("word2vec", corpus=log, corpus_column="query", dim=8, epochs=1,
                                cache_dir=tmp_path)  # fmt: skip
    spec = trainer.fit(["ignored"], ["texts"], [1.0])
    assert load_model(spec).embed(["government"]).shape == (1, 8)
