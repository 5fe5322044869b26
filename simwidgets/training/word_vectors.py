"""Word vectors from your own corpus, with gensim: fastText (subwords) or word2vec.

fastText builds a vector for any word from its character n-grams, so the misspellings, slang
and rare titles of user-written text get vectors too (word2vec leaves them out of vocabulary).

>>> trained = train_word_vectors(log.query.tolist() + log.result.tolist(), kind="fasttext")  # doctest: +SKIP
>>> sw.neighbours("guitarr", model=trained.spec)        # a misspelling still has neighbours  # doctest: +SKIP
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

from ..errors import InputError, SimwidgetsWarning
from ..models.wordvectors import word_tokens
from ..texts import as_text_list, clean_texts
from .job import Recipe, run_job
from .result import TrainedModel
from .store import job_key

KINDS = ("fasttext", "word2vec")
#: File each kind is saved as, inside its folder (gensim's formats, read back by load_model).
FILES = {"fasttext": "vectors.bin", "word2vec": "vectors.bin"}


def _progress_callback(epochs: int, show: bool):
    from gensim.models.callbacks import CallbackAny2Vec
    from tqdm.auto import tqdm

    class Bar(CallbackAny2Vec):
        def __init__(self):
            self.bar = tqdm(total=epochs, desc="training word vectors", unit="epoch", disable=not show)
            self.losses: list[float] = []

        def on_epoch_end(self, model):
            self.bar.update(1)

        def on_train_end(self, model):
            self.bar.close()

    return Bar()


#: Fewer words than this and trained word vectors are mostly noise: a warning says so.
SMALL_CORPUS = 1_000_000


def train_word_vectors(
    texts,
    kind: str = "fasttext",
    *,
    dim: int = 100,
    epochs: int = 5,
    min_count: int = 2,
    window: int = 5,
    min_n: int = 3,
    max_n: int = 6,
    seed: int = 0,
    workers: int | None = None,
    output_dir=None,
    overwrite: bool = False,
    cache_dir=None,
    progress: bool = True,
    name: str | None = None,
) -> TrainedModel:
    """Train fastText or word2vec vectors on ``texts`` with gensim.

    Parameters
    ----------
    texts
        The corpus: a list or Series of texts (queries, results, documents). Missing and empty
        texts are skipped and counted in ``.dropped``.
    kind
        ``"fasttext"`` (default: subword n-grams ``min_n``-``max_n`` give vectors to unseen
        words) or ``"word2vec"``.
    dim, epochs, min_count, window, seed, workers
        gensim's settings (``vector_size``, ``epochs``...). ``workers=1`` with a fixed seed is
        reproducible; more workers are faster.
    output_dir, overwrite, cache_dir
        As for :func:`~simwidgets.fine_tune`: by default the model goes under the cache folder,
        named by a hash of the corpus and settings, and the same call again loads it.

    name
        The trained model's name in score columns (``score_<name>``); default: what it was
        made from, what made it and a short hash of its data and settings.

    Returns
    -------
    TrainedModel
        ``.spec`` is ``"fasttext:PATH"`` or ``"word2vec:PATH"`` (gensim's binary formats), and
        ``.history`` holds the corpus size and vocabulary.
    """
    if kind not in KINDS:
        raise InputError(f"kind must be one of {KINDS}, got {kind!r}")
    raw = as_text_list(texts, "texts")
    clean, reasons = clean_texts(raw)
    dropped: dict[str, int] = {}
    for text, why in zip(clean, reasons):
        if text is None:
            dropped[why] = dropped.get(why, 0) + 1
    sentences = [[w.lower() for w in word_tokens(t)] for t in clean if t is not None]
    sentences = [s for s in sentences if s]
    n_tokens = sum(map(len, sentences))
    if len(sentences) < 2 or n_tokens < 10:
        raise InputError(
            f"train_word_vectors needs a corpus of some size; got {len(sentences)} texts, {n_tokens} words"
        )
    from collections import Counter

    counts = Counter(w for s in sentences for w in s)
    if not any(c >= min_count for c in counts.values()):
        raise InputError(f"no word occurs {min_count} times or more in {n_tokens} words: lower min_count")
    if n_tokens < SMALL_CORPUS:
        warnings.warn(
            f"train_word_vectors: {n_tokens:,} words in {len(sentences):,} texts is far too few for word vectors to "
            f"learn what words mean (fastText and word2vec need millions; under {SMALL_CORPUS:,} they score pairs "
            "little better than chance): train on your log's texts (WordVectorTrainer(corpus=...), a list or a "
            "column of them), or use a pretrained model such as 'glove-50d' or 'minilm'",
            SimwidgetsWarning,
            stacklevel=2,
        )
    settings = {"dim": dim, "epochs": epochs, "min_count": min_count, "window": window, "seed": seed}
    if kind == "fasttext":
        settings.update(min_n=min_n, max_n=max_n)
    key = job_key(kind, "gensim", [[" ".join(s) for s in sentences]], [], settings)
    recipe = WordVectorRecipe(kind, settings, workers, progress)

    def build(folder: Path) -> dict:
        start = time.perf_counter()
        vocabulary = recipe.train_corpus(folder, sentences)
        return {
            "key": key,
            "kind": kind,
            "settings": {**settings, "objective": kind},
            "dropped": dropped,
            "seconds": time.perf_counter() - start,
            "history": [{"epochs": epochs, "texts": len(sentences), "words": n_tokens, "vocabulary": vocabulary}],
        }

    return run_job(recipe, key, build, output_dir=output_dir, cache_dir=cache_dir, overwrite=overwrite, name=name)


class WordVectorRecipe(Recipe):
    """fastText or word2vec vectors trained on a corpus with gensim, saved in gensim's binary formats."""

    made_by = "corpus"

    def __init__(self, kind: str, settings: dict, workers: int | None, progress: bool):
        self.kind = self.label = self.identity = kind
        self.settings_, self.workers, self.progress = settings, workers, progress

    def spec(self, folder: Path) -> str:
        return f"{self.kind}:{folder / FILES[self.kind]}"

    def train_corpus(self, folder: Path, sentences: list[list[str]]) -> int:
        """Train on ``sentences``, save into ``folder``; the vocabulary's size."""
        from gensim.models import FastText, Word2Vec

        s = self.settings_
        common = dict(
            vector_size=s["dim"],
            window=s["window"],
            min_count=s["min_count"],
            epochs=s["epochs"],
            seed=s["seed"],
            workers=self.workers or 1,
            callbacks=[_progress_callback(s["epochs"], self.progress)],
        )
        if self.kind == "fasttext":
            from gensim.models.fasttext import save_facebook_model

            model = FastText(sentences, min_n=s["min_n"], max_n=s["max_n"], **common)
            save_facebook_model(model, str(folder / FILES[self.kind]))
        else:
            model = Word2Vec(sentences, **common)
            model.wv.save_word2vec_format(str(folder / FILES[self.kind]), binary=True)
        return len(model.wv)
