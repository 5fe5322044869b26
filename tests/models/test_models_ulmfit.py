import numpy as np
import pytest

from simwidgets import load_model
from simwidgets.errors import UntrustedFileError
from simwidgets.models import load_ulmfit
from simwidgets.texts import ALL_OOV

TEXTS = ["The government said on Tuesday it would act.", "Fire crews fought the blaze", "a qzxv"]


def test_trained_model_embeds_and_reports_unknown_tokens(ulmfit_trained):
    model = ulmfit_trained["model"]
    assert model.dim == 16
    report = model.embed_report(TEXTS + ["", "qzxv"])
    assert report.vectors.shape == (5, 16) and report.vectors.dtype == np.float32
    assert report.reasons[:3] == [None, None, None] and report.reasons[3] is not None
    assert report.oov[2] == ("qzxv",)
    assert report.reasons[4] == ALL_OOV
    assert np.isnan(report.vectors[4]).all() and not np.isnan(report.vectors[:3]).any()


def test_vocabulary_is_exactly_the_encoder_matrix(ulmfit_trained):
    model = ulmfit_trained["model"]
    vocab = model.vocabulary()
    learn = model.learner
    np.testing.assert_array_equal(vocab.vectors, learn.model[0].encoder.weight.detach().numpy())
    assert list(vocab.tokens) == list(learn.dls.vocab)
    kinds = dict(zip(vocab.tokens, vocab.kinds))
    assert kinds["xxbos"] == "special" and kinds["xxmaj"] == "special" and kinds["the"] == "word"


def test_safe_format_loads_with_weights_only_and_gives_the_same_vectors(ulmfit_trained):
    safe = load_model(f"ulmfit:{ulmfit_trained['folder'] / 'safe'}")
    np.testing.assert_array_equal(safe.vocabulary().vectors, ulmfit_trained["model"].vocabulary().vectors)
    np.testing.assert_allclose(safe.embed(TEXTS), ulmfit_trained["model"].embed(TEXTS), atol=1e-6)


def test_export_needs_trust(ulmfit_trained):
    path = ulmfit_trained["folder"] / "export.pkl"
    with pytest.raises(UntrustedFileError, match="pickle.*trust=True"):
        load_model(f"ulmfit:{path}")
    trusted = load_model(f"ulmfit:{path}?trust=true")  # an export holds no centring: raw vectors
    raw = load_ulmfit(ulmfit_trained["folder"] / "safe", centre=None)
    np.testing.assert_allclose(trusted.embed(TEXTS), raw.embed(TEXTS), atol=1e-6)


@pytest.mark.parametrize("pooling, factor", [("mean", 1), ("max", 1), ("last", 1), ("concat", 3)])
def test_poolings(ulmfit_trained, pooling, factor):
    model = load_ulmfit(ulmfit_trained["folder"] / "safe", pooling=pooling, centre=None)  # the poolings themselves
    out = model.embed(TEXTS[:2])
    assert out.shape == (2, 16 * factor)
    if pooling == "concat":
        last, maxed, mean = (
            load_ulmfit(ulmfit_trained["folder"] / "safe", pooling=p, centre=None).embed(TEXTS[:2])
            for p in ("last", "max", "mean")
        )
        np.testing.assert_allclose(out, np.hstack([last, maxed, mean]), atol=1e-6)


def test_padding_does_not_change_a_text_vector(ulmfit_trained):
    model = load_ulmfit(ulmfit_trained["folder"] / "safe")
    alone = model.embed(["Fire crews fought the blaze"])
    model2 = load_ulmfit(ulmfit_trained["folder"] / "safe")
    together = model2.embed(["Fire crews fought the blaze", "a much longer text " * 10])[:1]
    np.testing.assert_allclose(alone, together, atol=1e-5)


def test_bad_ulmfit_files(tmp_path, ulmfit_trained):
    with pytest.raises(FileNotFoundError):
        load_model(f"ulmfit:{tmp_path / 'none'}")
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "weights.pth").write_bytes(b"not a torch file")
    (folder / "vocab.json").write_text('["a", "b"]')
    with pytest.raises(ValueError, match="could not read ULMFiT weights"):
        load_model(f"ulmfit:{folder}")
    (folder / "vocab.json").unlink()
    with pytest.raises(FileNotFoundError, match="vocab"):
        load_model(f"ulmfit:{folder}")


def test_vocab_must_match_the_weights(tmp_path, ulmfit_trained):
    import shutil

    folder = tmp_path / "mismatch"
    shutil.copytree(ulmfit_trained["folder"] / "safe", folder)
    (folder / "vocab.json").write_text('["a", "b"]')
    with pytest.raises(ValueError, match="same model"):
        load_model(f"ulmfit:{folder}")


def test_training_needs_texts():
    from simwidgets import train_ulmfit

    with pytest.raises(ValueError, match="at least 10"):
        train_ulmfit(["one", "two", None])


def test_fine_tuning_from_local_pretrained_weights(tmp_path, ulmfit_trained, lee_texts):
    """The WT103 code path, fed with a small model saved as fastai saves WT103 (.pth + .pkl)."""
    import pickle

    from simwidgets import train_ulmfit

    learn = ulmfit_trained["model"].learner
    learn.path = tmp_path
    learn.model_dir = "."
    learn.save("pretrained", with_opt=False)
    with open(tmp_path / "pretrained_vocab.pkl", "wb") as fh:
        pickle.dump(list(learn.dls.vocab), fh)
    base = ulmfit_trained["model"].vocabulary()
    tuned = train_ulmfit(
        lee_texts[:150],
        pretrained=(tmp_path / "pretrained.pth", tmp_path / "pretrained_vocab.pkl"),
        lr=1e-5,
        epochs=1,
        bs=16,
        seq_len=32,
        progress=False,
    )
    vocab = tuned.vocabulary()
    assert vocab.dim == base.dim  # architecture read off the weights
    shared = [t for t in ("the", "government", "said", "fire") if t in vocab.index and t in base.index]
    assert shared
    for token in shared:  # rows start from the pretrained vectors and move little at lr=1e-5
        np.testing.assert_allclose(vocab.vectors[vocab.index[token]], base.vectors[base.index[token]], atol=2e-2)


def test_fastai_learn_save_weights_and_vocab_pickle_load_safely(ulmfit_trained, tmp_path):
    """The files a fastai user has: learn.save() (weights plus optimizer state, which holds
    fastcore L lists and numpy scalars) and a pickled vocabulary. Both load without
    unpickling anything else; a hostile vocabulary pickle is refused."""
    import os
    import pickle

    import numpy as np

    from simwidgets.errors import UntrustedFileError
    from simwidgets.models import load_ulmfit

    learn = ulmfit_trained["model"].learner
    learn.path, learn.model_dir = tmp_path, "models"
    weights = learn.save("lm")  # with_opt=True, fastai's default
    with open(tmp_path / "vocab.pkl", "wb") as fh:
        pickle.dump(list(learn.dls.vocab), fh)
    model = load_ulmfit(weights, vocab=tmp_path / "vocab.pkl")
    again = load_ulmfit(weights)  # vocab.pkl found beside the models folder
    assert model.vocab == list(learn.dls.vocab) == again.vocab
    texts = ["the government said", "a cricket match"]
    raw = load_ulmfit(ulmfit_trained["folder"] / "safe", centre=None)
    np.testing.assert_allclose(model.embed(texts), raw.embed(texts), atol=1e-5)

    class Hostile:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with open(tmp_path / "hostile.pkl", "wb") as fh:
        pickle.dump(Hostile(), fh)
    with pytest.raises(UntrustedFileError, match="not a list of strings.*trust=True"):
        load_ulmfit(weights, vocab=tmp_path / "hostile.pkl")


def test_train_ulmfit_vocabulary_options(lee_texts):
    from simwidgets import train_ulmfit

    small = dict(emb_sz=8, n_hid=16, n_layers=1, epochs=1, bs=16, seq_len=16, progress=False)
    default = train_ulmfit(lee_texts[:80], **small)
    every = train_ulmfit(lee_texts[:80], min_freq=1, **small)
    capped = train_ulmfit(lee_texts[:80], min_freq=1, max_vocab=200, **small)
    assert len(every.vocab) > len(default.vocab) and len(capped.vocab) <= 208
    with pytest.raises(ValueError, match="min_freq must be a whole number >= 1"):
        train_ulmfit(lee_texts[:80], min_freq=0, **small)


def test_centring_removes_the_mean_and_top_directions():
    from simwidgets.models.centring import Centring

    rng = np.random.default_rng(0)
    common = rng.normal(size=8) * 10
    x = rng.normal(size=(200, 8)) + common  # one dominant shared direction
    c = Centring(2).fit(x)
    out = c.transform(np.vstack([x, np.full((1, 8), np.nan), np.zeros((1, 8))]))
    assert np.abs(out[:200].mean(axis=0)).max() < 1e-4
    np.testing.assert_allclose(out[:200] @ c.directions_.T, 0, atol=1e-4)
    assert np.isnan(out[200]).all() and (out[201] == 0).all()  # rows without a vector are kept
    with pytest.raises(ValueError, match="at least 20 embeddable texts"):
        Centring(1).fit(x[:5])
    again = Centring.from_state(c.state())
    np.testing.assert_allclose(again.transform(x), c.transform(x))


def test_trained_ulmfit_is_centred_and_its_centring_is_saved(ulmfit_trained, lee_texts):
    """Raw mean-pooled states give cosines near 1 for any two texts; centred ones spread
    out. The centring fitted on the training texts travels with the safe folder."""
    from simwidgets import similarity_matrix

    model = ulmfit_trained["model"]
    assert model.centre == 2 and (ulmfit_trained["folder"] / "safe" / "centring.npz").is_file()
    raw = load_ulmfit(ulmfit_trained["folder"] / "safe", centre=None)
    reloaded = load_ulmfit(ulmfit_trained["folder"] / "safe")
    texts = lee_texts[:30]
    np.testing.assert_allclose(reloaded.embed(texts), model.embed(texts), atol=1e-5)
    off_diagonal = ~np.eye(30, dtype=bool)
    raw_cos = similarity_matrix(texts, model=raw)[off_diagonal]
    centred_cos = similarity_matrix(texts, model=model)[off_diagonal]
    assert np.percentile(raw_cos, 5) > 0.8 and np.percentile(centred_cos, 5) < np.percentile(raw_cos, 5) - 0.3
    own = load_ulmfit(ulmfit_trained["folder"] / "safe", centre=3, name="own")  # fitted on the texts compared
    similarity_matrix(texts, model=own)
    assert own._centring.fitted and len(own._centring.directions_) == 3
    with pytest.raises(ValueError, match="at least 20 embeddable texts"):
        load_ulmfit(ulmfit_trained["folder"] / "safe", centre=3, name="few").embed(texts[:3])


def test_loading_ulmfit_shows_no_warning_of_fastai_s_own_imports():
    """fastai's imports raise torch's and pandas' deprecation notices; a user loading
    ulmfit-small sees none of them (a red warning above a widget reads as an error)."""
    import subprocess
    import sys

    code = (
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    from simwidgets.models.ulmfit import _fastai_text\n"
        "    _fastai_text()\n"
        "print([f'{w.category.__name__}: {w.message}' for w in caught])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
