import numpy as np
import pandas as pd
import pytest

from simwidgets import SimwidgetsWarning, neighbours, score_pairs, similarity_matrix
from simwidgets.similarity import cosine_matrix
from simwidgets.texts import ALL_OOV, BAD_UTF8, EMPTY, MISSING


def test_cosine_matrix_in_blocks_equals_direct():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(37, 8)), rng.normal(size=(11, 8))
    direct = (x / np.linalg.norm(x, axis=1, keepdims=True)) @ (y / np.linalg.norm(y, axis=1, keepdims=True)).T
    out = cosine_matrix(x, y, block_size=5)
    assert out.dtype == np.float32 and out.shape == (37, 11)
    np.testing.assert_allclose(out, direct, atol=1e-6)
    with pytest.raises(ValueError, match="different lengths"):
        cosine_matrix(x, rng.normal(size=(3, 4)))


def test_similarity_matrix_of_texts(glove):
    texts = ["cat", "kitten", "car", None]
    m = similarity_matrix(texts, model=glove)
    assert m.shape == (4, 4) and m.dtype == np.float32
    np.testing.assert_allclose(np.diag(m)[:3], 1, atol=1e-5)
    assert m[0, 1] > m[0, 2]
    assert np.isnan(m[3]).all() and np.isnan(m[:, 3]).all()
    rect = similarity_matrix(texts[:2], ["car", "truck", "lorry"], model=glove)
    assert rect.shape == (2, 3)


def test_similarity_matrix_fits_tfidf_on_both_sides():
    m = similarity_matrix(["red apple pie"], ["apple pie", "green tea"], model="tfidf")
    assert m[0, 0] > 0 and m[0, 1] == 0


def test_score_pairs_keeps_every_row_in_order_with_reasons(glove):
    left = pd.Series(["cat", "", None, 3, b"\xff", "qqzzxxv", "dog", "cat"], index=list("abcdefgh"))
    right = ["dog", "dog", "dog", "dog", "dog", "dog", "", "cat"]
    out = score_pairs(left, right, models=[glove])
    assert list(out.index) == list("abcdefgh")
    assert list(out.columns) == ["left", "right", "score_glove-50d", "reason_glove-50d"]
    reasons = out["reason_glove-50d"].tolist()
    assert reasons[0] is None and out["score_glove-50d"].iloc[0] > 0.5
    assert reasons[1] == f"left: {EMPTY}"
    assert reasons[2] == f"left: {MISSING}"
    assert reasons[3] == "left: not a string (int)"
    assert reasons[4] == f"left: {BAD_UTF8}"
    assert reasons[5] == f"left: {ALL_OOV}"
    assert reasons[6] == f"right: {EMPTY}"
    assert out["score_glove-50d"].iloc[7] == pytest.approx(1.0, abs=1e-6)
    assert out["score_glove-50d"].iloc[1:7].isna().all()


def test_score_pairs_several_models_and_length_mismatch(glove, minilm):
    out = score_pairs(["a cat"], ["a kitten"], models=["glove-50d", "minilm"])
    assert {"score_glove-50d", "score_minilm"} <= set(out.columns)
    with pytest.raises(ValueError, match="same length"):
        score_pairs(["a", "b"], ["c"], models=[glove])


def test_score_pairs_reports_truncation(minilm):
    with pytest.warns(SimwidgetsWarning, match="truncated"):
        out = score_pairs(["word " * 1000], ["word"], models=[minilm])
    assert out["score_minilm"].notna().all()


def test_neighbours_agree_with_gensim(glove):
    kv = glove.kv
    for word in ["frog", "king", "paris"]:
        ours = neighbours(word, glove, k=10)
        theirs = kv.most_similar(word, topn=10)
        assert ours["token"].tolist() == [w for w, _ in theirs]
        np.testing.assert_allclose(ours["score"], [s for _, s in theirs], atol=1e-5)
    assert set(ours.columns) == {"rank", "token", "score", "kind"}


def test_neighbours_of_a_text_and_among_texts(glove, minilm):
    near = neighbours("green frogs", glove, k=5)
    assert "frog" in near["token"].tolist() or "frogs" in near["token"].tolist()
    texts = ["a frog on a log", "stock prices fell", "toads and frogs", "green frogs"]
    among = neighbours("green frogs", minilm, k=2, among=texts)
    assert among["text"].tolist()[0] in ("toads and frogs", "a frog on a log")
    assert "green frogs" not in among["text"].tolist()
    with pytest.raises(KeyError, match="among="):
        neighbours("not a single token here", minilm)
    with pytest.raises(ValueError, match="k must"):
        neighbours("frog", glove, k=0)
    with pytest.raises(ValueError, match="cannot embed"):
        neighbours("qqzzxxv", glove)


def test_neighbours_of_a_vector(glove):
    vocab = glove.vocabulary()
    out = neighbours(vocab.vectors[vocab.index["frog"]], glove, k=1)
    assert out["token"].iloc[0] == "frog"


def test_cosine_matrix_memory_is_the_result_plus_one_block():
    import tracemalloc

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 64)).astype(np.float32)
    tracemalloc.start()
    out = cosine_matrix(x, block_size=256)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result = out.nbytes
    assert peak < result + 4 * x.nbytes + 256 * 3000 * 4 * 2


def _reference_pair_scores(left, right, model):
    """Pair scores and reasons worked out row by row from embed_report (the definition)."""
    report = model.embed_report(list(left) + list(right))
    n = len(left)
    scores, reasons = [], []
    for i in range(n):
        a, b = report.vectors[i], report.vectors[n + i]
        ra, rb = report.reasons[i], report.reasons[n + i]
        if ra and rb:
            reasons.append(f"left: {ra}; right: {rb}")
        elif ra or rb:
            reasons.append(f"left: {ra}" if ra else f"right: {rb}")
        elif not (np.linalg.norm(a) > 0 and np.linalg.norm(b) > 0):
            reasons.append("zero vector (nothing to compare)")
        else:
            reasons.append(None)
        scores.append(float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) if reasons[-1] is None else np.nan)
    return np.array(scores), reasons


def test_pair_scores_per_distinct_text_equal_the_row_by_row_definition(glove):
    from simwidgets import load_model

    rng = np.random.default_rng(3)
    pool = ["cat", "the dog", "a red car", "", None, "qqzzxxv", 7, b"\xff", "cat sat", np.str_("the dog")]
    left = [pool[i] for i in rng.integers(len(pool), size=300)]
    right = [pool[i] for i in rng.integers(len(pool), size=300)]

    def zero_for_cat(texts):  # a callable model whose vector for "cat" is all zeros
        return np.array([[0.0, 0.0] if t == "cat" else [1.0, float(len(t))] for t in texts])

    for model in (glove, load_model(zero_for_cat)):
        expected_scores, expected_reasons = _reference_pair_scores(left, right, model)
        for _ in range(2):  # the second time every valid text comes from the memory cache
            out = score_pairs(left, right, models=[model])
            assert out[f"reason_{model.name}"].tolist() == expected_reasons
            np.testing.assert_allclose(out[f"score_{model.name}"], expected_scores, atol=1e-6)
    both = score_pairs([None, "cat"], ["", "cat"], models=[load_model(zero_for_cat)])
    assert both.iloc[0, 3] == "left: missing text (None or NaN); right: empty or whitespace-only text"
    assert both.iloc[1, 3] == "zero vector (nothing to compare)" and np.isnan(both.iloc[1, 2])


def test_cached_texts_are_not_validated_again_and_give_the_same_report(glove):
    texts = ["cat", "dog", b"cat", np.str_("dog"), "", None, "cat"]
    first = glove.embed_report(texts)
    second = glove.embed_report(texts)
    np.testing.assert_array_equal(first.vectors, second.vectors)
    assert first.reasons == second.reasons == [None, None, None, None, EMPTY, MISSING, None]
    np.testing.assert_array_equal(first.vectors[0], first.vectors[2])  # bytes decoded to the same text
