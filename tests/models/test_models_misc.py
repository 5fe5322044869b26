import numpy as np
import pytest

from simwidgets import load_model
from simwidgets.extend import KNOWN_SPECS
from simwidgets.models import CallableModel, TfidfModel, load_models


def test_unknown_spec_lists_the_known_ones():
    with pytest.raises(ValueError) as info:
        load_model("bert-huge")
    for spec in KNOWN_SPECS:
        assert spec in str(info.value)
    with pytest.raises(ValueError, match="names no path"):
        load_model("glove:")
    with pytest.raises(TypeError, match="spec string"):
        load_model(42)


def test_unknown_option_is_a_clear_error():
    with pytest.raises(TypeError, match="does not take option"):
        load_model("glove-50d?colour=red")


def test_a_misspelt_option_is_named_with_the_right_one_before_anything_loads():
    for spec, right in [
        ("glove-50d?poolin=sif", "pooling"),
        ("minilm?devce=cpu", "device"),
        ("tfidf?max_feature=5", "max_features"),
    ]:
        with pytest.raises(TypeError, match=rf"did you mean '{right}'\?"):
            load_model(spec)


def test_loaded_models_are_reused(glove):
    assert load_model("glove-50d") is glove


class Counting:
    def __init__(self):
        self.seen = []

    def __call__(self, texts):
        self.seen.extend(texts)
        return np.array([[len(t), t.count("a") + 1.0] for t in texts])


def test_callable_model_embeds_each_distinct_text_once():
    fn = Counting()
    model = load_model(fn, name="counting")
    assert isinstance(model, CallableModel) and model.name == "counting"
    out = model.embed(["aa", "b", "aa", None, "b"])
    assert out.shape == (5, 2) and out.dtype == np.float32
    assert sorted(fn.seen) == ["aa", "b"]
    assert np.isnan(out[3]).all()
    model.embed(["aa", "ccc"])
    assert sorted(fn.seen) == ["aa", "b", "ccc"]  # "aa" came from the cache


def test_callable_returning_garbage_is_reported():
    bad = load_model(lambda texts: [[1.0, 2.0]])  # one row for every batch
    with pytest.raises(ValueError, match="expected"):
        bad.embed(["a", "b"])
    worse = load_model(lambda texts: "nope", name="worse")
    with pytest.raises(TypeError, match="2-D array"):
        worse.embed(["a"])


def test_disk_cache_survives_a_new_model(tmp_path):
    fn = Counting()
    first = CallableModel(fn, name="c", cache_dir=tmp_path)
    first.embed(["hello", "world", None])
    assert len(list(tmp_path.glob("*.sqlite"))) == 1
    fn.seen.clear()
    second = CallableModel(fn, name="c", cache_dir=tmp_path)  # as in a new session
    report = second.embed_report(["hello", "world", "new"])
    assert fn.seen == ["new"]
    np.testing.assert_array_equal(report.vectors[0], [5, 1])


def test_tfidf_fits_once_and_reports_unknown_words():
    model = load_model("tfidf")
    assert isinstance(model, TfidfModel) and not model.fitted
    a = model.embed(["the cat sat", "the dog sat", "a cat ran"])
    assert model.fitted and a.shape[1] == model.dim
    report = model.embed_report(["cat unicorn", "unicorn"])
    assert "unicorn" in report.oov[0]
    assert report.reasons[1] is not None and np.isnan(report.vectors[1]).all()
    assert load_model("tfidf") is not model  # fitted per comparison, never shared


def test_tfidf_char_and_corpus():
    model = TfidfModel("char", corpus=["the cat sat", "the dog sat"])
    assert model.name == "tfidf-char" and model.fitted
    v = model.embed(["the cta sat"])  # a typo still shares character n-grams
    assert np.linalg.norm(v) > 0
    with pytest.raises(ValueError, match="analyzer"):
        TfidfModel("bytes")


def test_load_models_refuses_duplicate_names(glove):
    with pytest.raises(ValueError, match="share the name"):
        load_models(["glove-50d", glove])


def test_unhashable_and_mixed_items_are_reported_not_crashing(glove):
    report = glove.embed_report([["a", "list"], "cat", {"a": 1}, "cat", 3.5, float("nan")])
    assert report.reasons == [
        "not a string (list)",
        None,
        "not a string (dict)",
        None,
        "not a string (float)",
        "missing text (None or NaN)",
    ]
    np.testing.assert_array_equal(report.vectors[1], report.vectors[3])


def test_memory_cache_is_bounded_and_stays_correct():
    from simwidgets.models.cache import MemoryCache
    from simwidgets.models.notes import Note

    cache = MemoryCache(max_items=100)
    for start in range(0, 300, 30):
        texts = [f"t{i}" for i in range(start, start + 30)]
        notes = [Note(oov=(t,), n_tokens=i) for i, t in enumerate(texts, start)]
        cache.put(texts, np.arange(start, start + 30, dtype=np.float32)[:, None].repeat(3, 1), notes)
        assert len(cache) <= 100
    hits, vectors, notes = cache.lookup(["t299", "t0", "t280"])
    assert hits.tolist() == [0, 2]
    np.testing.assert_array_equal(vectors[:, 0], [299, 280])
    assert notes.to_list() == [Note(oov=("t299",), n_tokens=299), Note(oov=("t280",), n_tokens=280)]


def test_memory_cache_takes_a_first_batch_larger_than_itself():
    from simwidgets.models.cache import MemoryCache

    cache = MemoryCache(max_items=10)
    texts = [f"t{i}" for i in range(25)]
    given = np.arange(25, dtype=np.float32)[:, None]
    cache.put(texts, given, None)
    given[:] = -1  # the caller's array is theirs: the cache holds its own copy
    assert len(cache) == 10
    hits, vectors, _ = cache.lookup(["t24", "t0", "t15"])
    assert hits.tolist() == [0, 2]
    np.testing.assert_array_equal(vectors[:, 0], [24, 15])


def test_a_new_family_registered_once_works_everywhere_a_spec_does():
    import numpy as np

    from simwidgets import score_pairs
    from simwidgets.models import KNOWN_SPECS, Embedder, check_spec, load_model, register_family
    from simwidgets.models.specs import FAMILIES

    class Lengths(Embedder):
        def __init__(self, path, name=None, scale: float = 1.0, **kwargs):
            super().__init__(**kwargs)
            self.path, self.name, self.scale = path, name or "lengths", scale

        def embed_batch(self, texts):
            return np.array([[len(t) * self.scale, 1.0] for t in texts], dtype=np.float32), None

    register_family("lengths:PATH", Lengths, "text lengths (a test family)", options={"scale": float})
    try:
        model = load_model("lengths:here?scale=2")
        assert isinstance(model, Lengths) and model.scale == 2 and model.path == "here"
        frame = score_pairs(["ab", None], ["abcd", "x"], models=["lengths:x?name=l"])
        assert frame["score_l"].notna().tolist() == [True, False]
        with pytest.raises(ValueError, match="did you mean 'scale'"):
            check_spec("lengths:x?scal=2")
        with pytest.raises(ValueError, match="exists already"):
            register_family("lengths:PATH", Lengths, "again")
    finally:
        FAMILIES.pop("lengths")
    assert "lengths:PATH" not in KNOWN_SPECS


def test_a_family_written_for_the_old_private_hook_still_embeds():
    import numpy as np

    from simwidgets.models import Embedder

    with pytest.warns(FutureWarning, match="embed_batch"):

        class Old(Embedder):
            def _embed_batch(self, texts):
                return np.ones((len(texts), 3), dtype=np.float32), None

    assert Old().embed(["a", "b"]).shape == (2, 3)


def test_texts_another_thread_embedded_meanwhile_are_not_embedded_again(monkeypatch):
    """A call looks its texts up in the memory cache before it waits for the model; it looks
    them up again only if the cache changed meanwhile. Race: thread B is inside the model
    with texts X when thread A finds X missing and waits; B stores X; A must read X from
    the cache, not embed it a second time. Without a change, A's texts are looked up once."""
    import threading

    from simwidgets.models.cache import MemoryCache

    inside, go = threading.Event(), threading.Event()
    embedded = []

    def slow(texts):
        embedded.extend(texts)
        if texts[0].startswith("text"):  # the raced call waits inside the model
            inside.set()
            assert go.wait(10)
        return np.array([[len(t), 1.0] for t in texts])

    model = load_model(slow, name="slow")
    model.embed(["warm"])  # the cache exists, so A's first lookup is a real one
    looked_up = threading.Event()
    original = MemoryCache.lookup_versioned

    def signalling(self, texts):
        out = original(self, texts)
        if threading.current_thread().name == "A":
            looked_up.set()
        return out

    monkeypatch.setattr(MemoryCache, "lookup_versioned", signalling)
    texts = [f"text {i}" for i in range(50)]
    out = {}
    b = threading.Thread(target=lambda: out.setdefault("B", model.embed(texts)), name="B")
    a = threading.Thread(target=lambda: out.setdefault("A", model.embed(texts)), name="A")
    b.start()
    assert inside.wait(10)  # B holds the model's lock, inside it
    a.start()
    assert looked_up.wait(10)  # A found the texts missing and now waits for the lock
    go.set()
    a.join(10)
    b.join(10)
    assert sorted(embedded) == sorted(["warm", *texts])  # each text embedded once
    np.testing.assert_array_equal(out["A"], out["B"])

    calls = []
    monkeypatch.setattr(MemoryCache, "lookup", lambda self, t, f=MemoryCache.lookup: calls.append(1) or f(self, t))
    model.embed([f"new {i}" for i in range(20)])
    assert len(calls) == 1  # the cache did not change between the two reads: one lookup
