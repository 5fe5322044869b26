"""ULMFiT / AWD-LSTM language models from fastai: loading, training and sentence pooling.

Two ways in:

* **safe**: a folder with ``weights.pth`` (a state dict, read with
  ``torch.load(weights_only=True)``) and ``vocab.json``; :func:`save_ulmfit` writes it, and
  the architecture is read off the weight shapes.
* **trusted**: a ``learn.export()`` pickle. Unpickling runs code from the file, so it loads
  only with ``trust=True``.

Sentence vectors pool the encoder's last hidden states over the text's tokens: ``mean``,
``max``, ``last``, or ``concat`` (ULMFiT's classifier pooling: last, max and mean joined).
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np

from ..errors import InputError, UntrustedFileError
from ..files import cache_dir
from ..texts import ALL_OOV
from ..vocab import Vocabulary, token_kinds
from .base import Embedder, Note

POOLINGS = ("mean", "max", "last", "concat")
#: fastai's default ``max_len`` for text classifiers (72 * 20 tokens).
DEFAULT_MAX_TOKENS = 1440


def _fastai_text():
    """fastai's text module, imported without the deprecation notices its own imports raise
    (torch's ``jit.script``, a pandas option): they are fastai's to fix, not the user's, and a
    red warning above a widget reads as an error."""
    import warnings

    from ..extras import require

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return require("fastai.text.all", "ULMFiT")


def _encoder_state(state: dict) -> dict:
    """The AWD-LSTM encoder's entries of a language-model or encoder state dict."""
    if "model" in state and isinstance(state["model"], dict):
        state = state["model"]  # learn.save(with_opt=True)
    if any(k.startswith("0.encoder.") for k in state):
        return {k[2:]: v for k, v in state.items() if k.startswith("0.")}
    if "encoder.weight" in state:
        return dict(state)
    raise InputError(
        "the weights file does not look like an AWD-LSTM: no 'encoder.weight' or "
        f"'0.encoder.weight' entry (found {sorted(state)[:5]}...)"
    )


def _encoder_from_state(state: dict):
    """Build an ``AWD_LSTM`` whose shapes match the state dict, and load it."""
    fastai_text = _fastai_text()
    vocab_sz, emb_sz = state["encoder.weight"].shape
    n_layers = len({k.split(".")[1] for k in state if k.startswith("rnns.")})
    n_hid = state["rnns.0.weight_hh_l0_raw"].shape[1]
    encoder = fastai_text.AWD_LSTM(vocab_sz, emb_sz, n_hid, n_layers)
    encoder.load_state_dict(state, strict=True)
    return encoder


def copy_encoder(encoder):
    """A new AWD-LSTM with the same weights (``copy.deepcopy`` fails on its weight-dropout tensors)."""
    return _encoder_from_state({k: v.detach().clone() for k, v in encoder.state_dict().items()})


class ULMFiTModel(Embedder):
    """Sentence vectors from a fastai AWD-LSTM encoder.

    Build one with :func:`load_ulmfit`, :func:`train_ulmfit` or :meth:`from_learner`.
    ``self.learner`` is the fastai ``Learner`` when one was loaded or trained.
    """

    batch_size = 64

    def __init__(
        self,
        encoder,
        vocab: list[str],
        name: str = "ulmfit",
        pooling: str = "mean",
        tokenizer=None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        source: str = "",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if pooling not in POOLINGS:
            raise InputError(f"unknown pooling {pooling!r} for ULMFiT; use one of {POOLINGS}")
        fastai_text = _fastai_text()
        self.encoder = encoder.eval()
        self.vocab = list(vocab)
        if len(self.vocab) != encoder.encoder.weight.shape[0]:
            raise InputError(
                f"vocab has {len(self.vocab)} tokens but the encoder has "
                f"{encoder.encoder.weight.shape[0]} rows: they must come from the same model"
            )
        self._stoi = {tok: i for i, tok in reversed(list(enumerate(self.vocab)))}
        self.unk = self._stoi.get("xxunk", 0)
        self.pad = self._stoi.get("xxpad", 1)
        self.tokenizer = tokenizer or fastai_text.Tokenizer(fastai_text.WordTokenizer())
        self._rule_tokens = set(fastai_text.defaults.text_spec_tok)
        self.pooling = pooling
        self.name = name if pooling == "mean" else f"{name}-{pooling}"
        self.max_tokens = max_tokens
        emb = encoder.encoder.weight.shape[1]  # the last LSTM layer outputs emb_sz
        self._dim = int(emb * (3 if pooling == "concat" else 1))
        self._source = source
        self.learner = None
        self._vocab: Vocabulary | None = None

    @classmethod
    def from_learner(cls, learn, **kwargs) -> ULMFiTModel:
        """Wrap a fastai language-model (or classifier) ``Learner`` without copying weights."""
        model = learn.model[0]
        encoder = getattr(model, "module", model)  # a classifier's SentenceEncoder wraps it
        tokenizer = getattr(learn.dls, "tokenizer", None)
        if isinstance(tokenizer, (list, tuple)):
            tokenizer = tokenizer[0] if tokenizer else None
        out = cls(encoder.cpu(), list(learn.dls.vocab), tokenizer=tokenizer, **kwargs)
        out.learner = learn
        return out

    @property
    def identity(self) -> str:
        weight = self.encoder.encoder.weight
        checksum = float(weight.detach().double().abs().sum())
        return f"ulmfit:{self._source}:{tuple(weight.shape)}:{checksum:.6f}:{self.pooling}"

    def tokenize(self, text: str) -> list[str]:
        """fastai's tokens for a text (spaCy words plus rule tokens such as ``xxmaj``)."""
        return list(self.tokenizer(text))

    def embed_batch(self, texts: list[str]) -> tuple[np.ndarray, list[Note]]:
        import torch

        ids, notes = [], []
        for text in texts:
            tokens = self.tokenize(text)
            truncated = len(tokens) > self.max_tokens
            tokens = tokens[: self.max_tokens]
            row = [self._stoi.get(t, self.unk) for t in tokens]
            oov = tuple(t for t, i in zip(tokens, row) if i == self.unk and t != "xxunk")
            words = [t for t in tokens if t not in self._rule_tokens]
            reason = ALL_OOV if words and len(oov) == len(words) else None
            ids.append(row)
            notes.append(Note(oov=oov, n_tokens=len(tokens), truncated=truncated, reason=reason))
        lengths = torch.tensor([len(r) for r in ids])
        batch = torch.full((len(ids), int(lengths.max())), self.pad, dtype=torch.long)
        for i, row in enumerate(ids):  # right padding: real tokens never see a pad first
            batch[i, : len(row)] = torch.tensor(row)
        with torch.inference_mode():
            self.encoder.reset()
            hidden = self.encoder(batch)  # (n, seq, emb)
            mask = (torch.arange(batch.shape[1])[None, :] < lengths[:, None]).unsqueeze(-1)
            mean = (hidden * mask).sum(1) / lengths[:, None]
            last = hidden[torch.arange(len(ids)), lengths - 1]
            maxed = hidden.masked_fill(~mask, float("-inf")).max(1).values
            pooled = {
                "mean": mean,
                "last": last,
                "max": maxed,
                "concat": torch.cat([last, maxed, mean], dim=1),
            }[self.pooling]
            self.encoder.reset()
        out = pooled.float().numpy()
        out[[n.reason is not None for n in notes]] = np.nan
        return out, notes

    def vocabulary(self) -> Vocabulary:
        """The fastai vocab with exactly the encoder's embedding matrix (``encoder.weight``)."""
        if self._vocab is None:
            specials = set(_fastai_text().defaults.text_spec_tok) | {"xxfake"}
            self._vocab = Vocabulary(
                tokens=self.vocab,
                vectors=self.encoder.encoder.weight.detach().cpu().numpy(),
                kinds=token_kinds(self.vocab, specials=specials),
                ranks=np.arange(len(self.vocab)),  # fastai sorts its vocab by frequency
                cased=False,
            )
        return self._vocab


CENTRING_FILE = "centring.npz"
#: Principal directions removed by default from ULMFiT sentence vectors. Measured on STS-B
#: dev with the bundled model, centring fitted on its training corpus: Spearman 0.249 raw,
#: 0.252 / 0.276 / 0.291 / 0.278 / 0.218 with 0 / 1 / 2 / 4 / 8 directions removed, and the
#: middle 90% of its cosines from 0.93-1.00 to 0.16-0.96 (``benchmarks/bench_centring.py``).
DEFAULT_CENTRE = 2


def save_ulmfit(model_or_learner, folder: str | Path) -> Path:
    """Write the safe format: ``weights.pth`` (encoder state dict) and ``vocab.json``, plus
    ``centring.npz`` (two arrays, read without pickle) when the model's vectors are centred."""
    import torch

    model = model_or_learner
    if not isinstance(model, ULMFiTModel):
        model = ULMFiTModel.from_learner(model_or_learner)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.encoder.state_dict(), folder / "weights.pth")
    (folder / "vocab.json").write_text(json.dumps(model.vocab), encoding="utf-8")
    if model._centring is not None and model._centring.fitted:
        model._centring.save(folder / CENTRING_FILE, model.pooling)
    elif (folder / CENTRING_FILE).exists():
        (folder / CENTRING_FILE).unlink()
    return folder


class _PickledL:
    """Stands in for fastcore's ``L`` while a vocabulary pickle is read: it only collects
    the items, so no code of the file's choosing runs."""

    def __setstate__(self, state):
        self.items = state.get("items") if isinstance(state, dict) else state


class _VocabUnpickler(pickle.Unpickler):
    """Reads a pickle that holds a list of strings (fastai's ``vocab.pkl``, WT103's
    ``itos_wt103.pkl``) and nothing else: any other class or function is refused."""

    def find_class(self, module, name):
        if (module, name) == ("fastcore.foundation", "L"):
            return _PickledL
        raise UntrustedFileError(
            f"the vocabulary pickle asks for {module}.{name}, which is not a list of strings; "
            "load it only if you trust the file, with trust=True"
        )


def read_vocab_pickle(path: str | Path, *, trust: bool = False) -> list[str]:
    """The token list of a fastai vocabulary pickle (``pickle.dump(learn.dls.vocab, ...)``).

    By default it is read by an unpickler that accepts nothing but a list (or fastcore
    ``L``) of strings, so a hostile file cannot run code; ``trust=True`` reads any pickle.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        if trust:
            vocab = pickle.load(fh)
        else:
            try:
                vocab = _VocabUnpickler(fh).load()
            except UntrustedFileError:
                raise
            except Exception as exc:
                raise InputError(f"could not read the vocabulary pickle {path}: {exc}") from exc
    if isinstance(vocab, _PickledL) or type(vocab).__name__ == "L":
        vocab = list(vocab.items)
    return vocab


def _load_weights(weights: Path) -> dict:
    """A weights file read with ``weights_only``: ours, or fastai's ``learn.save()``, whose
    optimizer state holds fastcore ``L`` lists and numpy scalars: those (and numpy dtypes)
    are the only extra types allowed, and none of them runs code of the file's choosing."""
    import torch

    try:
        return torch.load(weights, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        message = str(exc)
        if "fastcore.foundation.L" not in message and "numpy" not in message:
            raise InputError(
                f"could not read ULMFiT weights {weights} safely (weights_only): {message.splitlines()[0]}; "
                "save them with simwidgets.models.save_ulmfit(learn, folder) or learn.save(name, with_opt=False)"
            ) from exc
    from fastcore.foundation import L

    try:
        from numpy._core.multiarray import scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import scalar
    allowed = [L, scalar, np.dtype, *(t for t in vars(np.dtypes).values() if isinstance(t, type))]
    try:
        with torch.serialization.safe_globals(allowed):
            return torch.load(weights, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise InputError(
            f"could not read ULMFiT weights {weights} safely (weights_only): {str(exc).splitlines()[-3:]}; "
            "save them with simwidgets.models.save_ulmfit(learn, folder) or learn.save(name, with_opt=False)"
        ) from exc


def _read_vocab(path: Path, trust: bool = False) -> list[str]:
    if not path.is_file():
        raise FileNotFoundError(f"ULMFiT vocab file not found: {path}")
    if path.suffix == ".json":
        vocab = json.loads(path.read_text(encoding="utf-8"))
    elif path.suffix in (".txt", ".vocab"):
        vocab = path.read_text(encoding="utf-8").split("\n")
        vocab = vocab[:-1] if vocab and vocab[-1] == "" else vocab
    elif path.suffix == ".pkl":
        vocab = read_vocab_pickle(path, trust=trust)
    else:
        raise UntrustedFileError(f"vocab file {path} is not .json, .txt or .pkl")
    if not isinstance(vocab, list) or not all(isinstance(t, str) for t in vocab):
        raise InputError(f"{path} must hold a list of token strings")
    return vocab


def load_ulmfit(
    path: str | Path,
    *,
    trust: bool = False,
    vocab: str | Path | None = None,
    pooling: str = "mean",
    centre="saved",
    **kwargs,
) -> ULMFiTModel:
    """Load a ULMFiT model from a safe weights+vocab folder or, with ``trust=True``, an export.

    Parameters
    ----------
    path
        A folder holding ``weights.pth`` and ``vocab.json`` (see :func:`save_ulmfit`), a
        ``.pth`` weights file (then give ``vocab``), or a ``learn.export()`` ``.pkl`` file.
    trust
        Required for ``.pkl`` exports: unpickling runs code stored in the file.
    centre
        ``"saved"`` (default): centre the vectors as the folder's ``centring.npz`` says
        (written by :func:`train_ulmfit`, fitted on its training texts), else not at all;
        ``D``: remove the mean and top ``D`` directions of the texts compared (or of a corpus
        given to ``model.fit_centring``); ``None``: the encoder's vectors as they are.
    """

    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"ULMFiT model not found: {path}")
    stem = path.stem if path.is_file() else path.name
    name = kwargs.pop("name", None) or f"ulmfit:{stem}"
    if path.is_file() and path.suffix != ".pth":
        if not trust:
            raise UntrustedFileError(
                f"{path} is a fastai learner export, which is a Python pickle: loading it can run "
                "any code stored in the file. Pass trust=True (or 'ulmfit:PATH?trust=true') only "
                "for files you made or trust; the safe alternative is a folder written by "
                "simwidgets.models.save_ulmfit(learn, folder), which loads with weights_only."
            )
        fastai_text = _fastai_text()
        import warnings

        try:
            with warnings.catch_warnings():  # the user opted in with trust=True
                warnings.filterwarnings("ignore", message=".*insecure pickle.*")
                learn = fastai_text.load_learner(path, cpu=True)
        except Exception as exc:
            raise InputError(f"could not load the fastai export {path}: {exc}") from exc
        out = ULMFiTModel.from_learner(
            learn, name=name, pooling=pooling, source=str(path), centre=None if centre == "saved" else centre, **kwargs
        )
        return out
    weights = path / "weights.pth" if path.is_dir() else path
    vocab_path = Path(vocab) if vocab else weights.parent / "vocab.json"
    if not vocab and not vocab_path.is_file():
        found = [p for p in (weights.parent / "vocab.pkl", weights.parent.parent / "vocab.pkl") if p.is_file()]
        if found:
            vocab_path = found[0]
    tokens = _read_vocab(vocab_path, trust=trust)
    if not weights.is_file():
        raise FileNotFoundError(f"ULMFiT weights not found: {weights}")
    try:
        state = _load_weights(weights)
    except ValueError:
        raise
    except Exception as exc:
        raise InputError(f"could not read ULMFiT weights {weights} ({type(exc).__name__}: {exc})") from exc
    encoder = _encoder_from_state(_encoder_state(state))
    saved = weights.parent / CENTRING_FILE
    model = ULMFiTModel(
        encoder,
        tokens,
        name=name,
        pooling=pooling,
        source=str(weights.resolve()),
        centre=None if centre == "saved" else centre,
        **kwargs,
    )
    if centre == "saved" and saved.is_file() and path.is_dir():
        from .centring import Centring

        model._centring = Centring.load(saved, pooling)  # None if fitted for another pooling
        model.centre = model._centring.components if model._centring is not None else None
    return model


def _config_of_weights(weights: Path) -> dict:
    """fastai's language-model config with the sizes read off a weights file (WT103 or ours)."""
    import torch

    try:
        state = _encoder_state(torch.load(weights, map_location="cpu", weights_only=True))
    except Exception as exc:
        raise InputError(f"could not read pretrained weights {weights}: {exc}") from exc
    emb_sz = state["encoder.weight"].shape[1]
    n_layers = len({k.split(".")[1] for k in state if k.startswith("rnns.")})
    n_hid = state["rnns.0.weight_hh_l0_raw"].shape[1]
    return {**_fastai_text().awd_lstm_lm_config, "emb_sz": emb_sz, "n_hid": n_hid, "n_layers": n_layers}


def train_ulmfit(
    texts,
    *,
    epochs: int = 1,
    emb_sz: int = 100,
    n_hid: int = 256,
    n_layers: int = 2,
    bs: int = 32,
    seq_len: int = 48,
    lr: float = 1e-2,
    valid_pct: float = 0.1,
    pretrained: tuple[str | Path, str | Path] | None = None,
    save_to: str | Path | None = None,
    seed: int = 0,
    progress: bool = True,
    pooling: str = "mean",
    min_freq: int = 3,
    max_vocab: int = 60_000,
    centre: int | None = DEFAULT_CENTRE,
) -> ULMFiTModel:
    """Train an AWD-LSTM language model on texts with fastai; return it as an embedder.

    Parameters
    ----------
    texts
        Training texts (one document or line each).
    epochs, lr, bs, seq_len
        fastai's ``fit_one_cycle`` epochs and learning rate, batch size and BPTT length.
    emb_sz, n_hid, n_layers
        Architecture when training from scratch (with ``pretrained``, read off its weights).
    pretrained
        ``(weights.pth, vocab.pkl)`` of a pretrained language model such as fastai's WT103
        files, read by fastai (the vocab is a pickle: give only files you trust). The model
        is then fine-tuned: one epoch on the head, then ``epochs`` on all layers.
    save_to
        A folder to write the safe weights+vocab format to (see :func:`save_ulmfit`).
    progress
        Show fastai's progress bars.
    min_freq, max_vocab
        The vocabulary: tokens seen at least ``min_freq`` times, at most ``max_vocab`` of
        them (fastai's defaults, 3 and 60,000). A small corpus gives a small vocabulary at
        ``min_freq=3`` (4,800 STS-B sentences: 2,664 tokens; 9,016 at ``min_freq=1``, which
        keeps every token seen). Ignored with ``pretrained`` (its vocabulary is kept).

    centre
        Principal directions removed from the sentence vectors ("all-but-the-top"), fitted
        on the training texts (up to 5,000 of them) and saved with the model; ``None`` keeps
        the raw mean-pooled states, whose cosines all sit between about 0.9 and 1.

    Time: one epoch over 4,800 STS-B sentences at the default sizes took 20.7 s on 2 CPU
    cores with ``min_freq=3`` and 51.3 s with ``min_freq=1`` (``benchmarks/bench_ulmfit_train.py``).

    The trained ``Learner`` is kept as ``model.learner``.
    """
    from contextlib import nullcontext

    import pandas as pd

    from ..texts import as_text_list, clean_texts

    fastai_text = _fastai_text()
    clean = [t for t in clean_texts(as_text_list(texts))[0] if t is not None]
    if len(clean) < 10:
        raise InputError(f"train_ulmfit needs at least 10 non-empty texts, got {len(clean)}")
    fastai_text.set_seed(seed, reproducible=True)
    for option, value in (("min_freq", min_freq), ("max_vocab", max_vocab)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{option} must be a whole number >= 1, got {value!r}")
    frame = pd.DataFrame({"text": clean})
    block = fastai_text.TextBlock.from_df("text", is_lm=True, seq_len=seq_len, min_freq=min_freq, max_vocab=max_vocab)
    dls = fastai_text.DataBlock(
        blocks=block,
        get_x=fastai_text.ColReader("text"),
        splitter=fastai_text.RandomSplitter(valid_pct, seed=seed),
    ).dataloaders(frame, bs=bs, seq_len=seq_len)
    if pretrained is not None:
        weights, vocab = (Path(p).expanduser() for p in pretrained)
        for f in (weights, vocab):
            if not f.is_file():
                raise FileNotFoundError(f"pretrained file not found: {f}")
        learn = fastai_text.language_model_learner(
            dls,
            fastai_text.AWD_LSTM,
            config=_config_of_weights(weights),
            pretrained=True,
            path=weights.parent,
            model_dir=".",
            pretrained_fnames=[weights.stem, vocab.stem],
        )
    else:
        config = {**fastai_text.awd_lstm_lm_config, "emb_sz": emb_sz, "n_hid": n_hid, "n_layers": n_layers}
        learn = fastai_text.language_model_learner(dls, fastai_text.AWD_LSTM, pretrained=False, config=config)
    with nullcontext() if progress else learn.no_bar(), learn.no_logging() if not progress else nullcontext():
        if pretrained is not None:
            learn.fit_one_cycle(1, lr)
            learn.unfreeze()
        learn.fit_one_cycle(epochs, lr)
    model = ULMFiTModel.from_learner(learn, pooling=pooling, source=f"trained-seed{seed}")
    if centre is not None and len(clean) >= 20:
        model.fit_centring(clean[:5000], centre)
    if save_to is not None:
        save_ulmfit(model, save_to)
    return model


def lee_corpus() -> list[str]:
    """gensim's Lee background corpus: 300 English news paragraphs shipped with gensim."""
    from gensim.test.utils import datapath

    text = Path(datapath("lee_background.cor")).read_text(encoding="latin-1")
    return [line.strip() for line in text.splitlines() if line.strip()]


def load_small_ulmfit(pooling: str = "mean", **kwargs) -> ULMFiTModel:
    """The offline default ULMFiT: a small AWD-LSTM trained on gensim's Lee corpus.

    Trained once (about ten seconds on two cores) and kept in the safe format under
    :func:`simwidgets.files.cache_dir`; later loads read the weights with ``weights_only``.
    It is small and trained on 300 paragraphs: a demonstration of the pipeline, not a good
    language model. Its vectors are centred by default (``centre=2``: the mean and top two
    principal directions of its training paragraphs removed), which spreads its cosines
    out (the middle 90% of STS-B dev pairs: 0.93-1.00 raw, 0.16-0.96 centred) and raised
    its STS-B dev Spearman from 0.249 to 0.291; ``centre=None`` turns it off.
    """
    folder = cache_dir() / "ulmfit-lee-v1"
    if not (folder / "weights.pth").is_file():
        # trained in a temporary folder renamed into place: another process (a second notebook,
        # a test worker) never reads a half-written model, and the first one to finish wins
        from ..files import staged_folder

        with staged_folder(folder, existing="keep") as tmp:
            train_ulmfit(
                lee_corpus(), epochs=4, emb_sz=100, n_hid=256, n_layers=2, progress=False, save_to=tmp, centre=None
            )
    name = kwargs.pop("name", None) or ("ulmfit-small" if pooling == "mean" else f"ulmfit-small-{pooling}")
    centre = kwargs.pop("centre", DEFAULT_CENTRE)
    model = load_ulmfit(folder, pooling=pooling, centre=None, **kwargs)
    if centre is not None:  # fitted on the corpus it was trained on, once per pooling
        from .centring import Centring

        saved = folder / f"centring-{pooling}-{centre}.npz"
        if saved.is_file():
            model._centring, model.centre = Centring.load(saved, pooling), centre
        else:
            model.fit_centring(lee_corpus(), centre)
            model._centring.save(saved, pooling)
    model.name = name
    return model
