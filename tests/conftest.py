"""Shared fixtures: offline settings, bundled models, small models trained in the session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
#: The open sets the package ships (word-sim, STS-B): always present, see simwidgets/data/README.md.
TEST_DATA = Path(__file__).resolve().parents[1] / "simwidgets" / "data"

# A small English corpus that ships with gensim (so it is there wherever gensim is).
SENTENCES = [
    "the cat sat on the mat and the dog sat on the rug",
    "a dog chased the cat across the garden",
    "the kitten and the puppy played in the garden",
    "stock markets fell sharply as investors sold shares",
    "the bank raised interest rates to fight inflation",
    "investors bought shares when the market recovered",
    "the film won awards for its music and its actors",
    "the band played new songs at the music festival",
    "gamers waited for the new game console release",
]


@pytest.fixture(scope="session")
def test_data() -> Path:
    """``simwidgets/data``: the word-similarity sets and STS-B train/dev, shipped with the package."""
    return TEST_DATA


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The evaluation data beside the clone (``../shared/data``), for the sets that may not be
    redistributed (MRPC); tests that need it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the evaluation data folder is not beside the clone ({SHARED_DATA}); MRPC is not shipped")
    return SHARED_DATA


@pytest.fixture(scope="session")
def glove():
    from simwidgets import load_model

    return load_model("glove-50d")


@pytest.fixture(scope="session")
def minilm():
    from simwidgets import load_model

    return load_model("minilm")


@pytest.fixture(scope="session")
def lee_texts() -> list[str]:
    """gensim's Lee background corpus: 300 news paragraphs."""
    import gensim.test.utils as gtu

    path = Path(gtu.datapath("lee_background.cor"))
    return [line.strip() for line in path.read_text(encoding="latin-1").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def word_vector_files(tmp_path_factory, lee_texts):
    """word2vec and fastText models trained with gensim on the Lee corpus, saved in every format."""
    from gensim.models import FastText, Word2Vec
    from gensim.models.fasttext import save_facebook_model
    from gensim.utils import simple_preprocess

    folder = tmp_path_factory.mktemp("wordvectors")
    corpus = [simple_preprocess(t) for t in lee_texts] * 3
    w2v = Word2Vec(corpus, vector_size=24, min_count=2, epochs=5, seed=1, workers=1)
    w2v.wv.save_word2vec_format(str(folder / "w2v.txt"), binary=False)
    w2v.wv.save_word2vec_format(str(folder / "w2v.bin"), binary=True)
    # GloVe's text format: no header line
    lines = (folder / "w2v.txt").read_text(encoding="utf-8").splitlines()[1:]
    (folder / "glove.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ft = FastText(corpus, vector_size=24, min_count=2, epochs=5, seed=1, workers=1, min_n=3, max_n=5)
    save_facebook_model(ft, str(folder / "ft.bin"))
    ft.wv.save_word2vec_format(str(folder / "ft.vec"), binary=False)
    return {"folder": folder, "w2v": w2v.wv, "fasttext": ft.wv}


@pytest.fixture(scope="session")
def ulmfit_trained(tmp_path_factory, lee_texts):
    """A tiny AWD-LSTM trained here, saved in the safe format and exported as a pickle."""
    from simwidgets import train_ulmfit

    folder = tmp_path_factory.mktemp("ulmfit")
    model = train_ulmfit(
        lee_texts,
        emb_sz=16,
        n_hid=32,
        n_layers=2,
        epochs=1,
        bs=16,
        seq_len=32,
        progress=False,
        save_to=folder / "safe",
    )
    model.learner.export(folder / "export.pkl")
    return {"model": model, "folder": folder}


@pytest.fixture(scope="module")
def client():
    """A one-worker, in-process Dask cluster for the batch tests of one module."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
    with Client(cluster) as c:
        yield c
    cluster.close()


ROOT = Path(__file__).resolve().parents[1]


def _installer() -> list[str]:
    """uv when present (it installs from its wheel cache in seconds: the Binder environment
    costs about 30 s on a fresh machine and 2 s after), else pip, as repo2docker runs it."""
    uv = shutil.which("uv") or (Path(sys.executable).parent / "uv")
    if Path(uv).exists():
        return [str(uv), "pip", "install", "--quiet", "--python"]
    return []


@pytest.fixture(scope="session")
def example_env(tmp_path_factory):
    """Where the example notebooks run: ``(python, folder)``.

    By default, a reproduction of Binder: the repository copied (as repo2docker copies it),
    a fresh virtual environment built only from ``binder/requirements.txt``, the notebooks
    run from its ``examples/`` folder with that environment's kernel. With
    ``SIMWIDGETS_SKIP_BINDER=1``, this environment's Python instead, in a copy of the
    examples as ``simwidgets demo`` makes it.
    """
    base = tmp_path_factory.mktemp("examples")
    if os.environ.get("SIMWIDGETS_SKIP_BINDER") == "1":
        from simwidgets.demo import copy_examples

        copy_examples(base / "demo")
        return sys.executable, base / "demo"
    repo = base / "repo"
    shutil.copytree(
        ROOT,
        repo,
        ignore=shutil.ignore_patterns(
            ".venv", "node_modules", ".git", "__pycache__", "artifacts", "*.egg-info", ".pytest_cache", "data"
        ),
    )
    shutil.copytree(ROOT / "examples" / "data", repo / "examples" / "data")
    venv = base / "binder-env"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    installer = _installer()
    command = [*installer, str(python)] if installer else [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*command, "-r", "binder/requirements.txt"], cwd=repo, check=True, timeout=1800)
    env = {**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
    subprocess.run(
        [str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"], check=True, env=env
    )
    return str(python), repo / "examples"
