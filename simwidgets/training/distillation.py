"""Static models distilled from a sentence encoder: the encoder's knowledge at word-vector cost.

:func:`distill_static` follows model2vec's documented method (Tulkens and van Dongen, 2024):
every token of the vocabulary goes through the encoder alone (``[CLS] token [SEP]``, the
encoder's own pooling, before any final normalisation), the vectors are reduced by PCA, and
each row is weighted by SIF over a Zipf estimate of its frequency, ``a / (a + p(rank))``.
The result is written in model2vec's format and read by model2vec (the ``m2v:`` family).

model2vec's own ``distill`` needs ``transformers<5.4`` (its ``[distill]`` extra), which cannot
install beside the transformers this package uses, so the encoder is run here, by our own
model loading (any spec: the bundled MiniLM, ``st:PATH``, a fine-tuned or adapted model),
and only model2vec's loader and inference are used.

With ``vocabulary=`` (the log's texts), the log's most frequent words that the tokenizer
splits into pieces are added as whole tokens (Zipf head first, up to ``max_words``), each
distilled from its pieces in context, and the frequency ranks come from the log itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

from ..errors import InputError, OptionError
from ..extras import require
from .corpus import corpus_sample

_UNUSED = re.compile(r"^\[unused\d+\]$")
_VERSION = "1"  # bump when the recipe changes: earlier distillations are not reused


def _encoder(spec):
    """The sentence-transformers model behind ``spec`` (a spec string or a trained model), in torch."""
    from ..models import load_model
    from ..models.transformer import SentenceTransformerModel

    spec = getattr(spec, "spec", spec)
    if not isinstance(spec, str):
        raise OptionError(f"spec must be a model spec string or a trained model, got {type(spec).__name__}")
    model = load_model(spec)
    if not isinstance(model, SentenceTransformerModel):
        raise InputError(
            f"{spec!r} is not a sentence-transformers encoder on torch; distill_static distils those "
            "('minilm', 'st:PATH', a fine-tuned or adapted model)"
        )
    return spec, model


def _log_words(tokenizer, texts: list[str], max_words: int, min_count: int) -> tuple[list[str], Counter]:
    """The log's words (as the tokenizer normalises and splits them) that it does not hold as
    one token, most frequent first, and every word's count."""
    backend = tokenizer.backend_tokenizer
    normalize = backend.normalizer.normalize_str if backend.normalizer is not None else (lambda t: t)
    split = backend.pre_tokenizer.pre_tokenize_str if backend.pre_tokenizer is not None else (lambda t: [(t, None)])
    counts: Counter = Counter()
    for text in texts:
        counts.update(piece for piece, _ in split(normalize(text)))
    vocab = tokenizer.get_vocab()
    new = [w for w, c in counts.most_common() if c >= min_count and w not in vocab and w.isalpha() and len(w) > 1]
    return new[:max_words], counts


def _token_vectors(st, sequences: list[list[int]], batch_size: int, progress: bool | None) -> np.ndarray:
    """The encoder's pooled output for each id sequence (special tokens included), before a
    final Normalize module, in sequence order."""
    import torch
    from tqdm.auto import tqdm

    modules = list(st)
    if type(modules[-1]).__name__ == "Normalize":
        modules = modules[:-1]
    device = st.device
    order = np.argsort([len(s) for s in sequences], kind="stable")
    out = np.empty((len(sequences), 0), dtype=np.float32)
    show = progress if progress is not None else len(sequences) >= 2_000
    with (
        torch.inference_mode(),
        tqdm(total=len(sequences), desc="distilling tokens", unit=" tokens", disable=not show) as bar,
    ):
        for start in range(0, len(order), batch_size):
            at = order[start : start + batch_size]
            longest = max(len(sequences[i]) for i in at)
            ids = torch.zeros((len(at), longest), dtype=torch.long)
            mask = torch.zeros_like(ids)
            for row, i in enumerate(at.tolist()):
                ids[row, : len(sequences[i])] = torch.tensor(sequences[i])
                mask[row, : len(sequences[i])] = 1
            features = {
                "input_ids": ids.to(device),
                "attention_mask": mask.to(device),
                "token_type_ids": torch.zeros_like(ids).to(device),
            }
            for module in modules:
                features = module(features)
            vectors = features["sentence_embedding"].float().cpu().numpy()
            if out.shape[1] == 0:
                out = np.empty((len(sequences), vectors.shape[1]), dtype=np.float32)
            out[at] = vectors
            bar.update(len(at))
    return out


def _base_token_vectors(digest: str, st, sequences, batch_size, progress) -> np.ndarray:
    """Every vocabulary token's vector through the encoder, kept under the cache folder by the
    hash of the encoder's files: distilling again (another log, other settings) skips this pass."""
    from ..files import cache_dir, replaced

    if not digest:
        return _token_vectors(st, sequences, batch_size, progress)
    path = cache_dir() / "static" / f"token-vectors-{digest}-{_VERSION}.npy"
    if path.is_file():
        vectors = np.load(path)
        if len(vectors) == len(sequences):
            return vectors
    vectors = _token_vectors(st, sequences, batch_size, progress)
    with replaced(path) as tmp:
        np.save(tmp, vectors)
    return vectors


def distill_static(
    spec="minilm",
    vocabulary=None,
    *,
    column=None,
    dims: int = 256,
    max_words: int = 50_000,
    min_count: int = 2,
    sif: float = 1e-4,
    max_texts: int = 200_000,
    learn: int | None = 20_000,
    epochs: int = 8,
    seed: int = 0,
    out=None,
    batch_size: int = 512,
    progress: bool | None = None,
) -> str:
    """Distil a sentence encoder into a static model; returns its spec (``"m2v:PATH?name=..."``).

    Parameters
    ----------
    spec
        The encoder: ``"minilm"``, ``"st:PATH"``, or a fine-tuned / adapted model (its spec).
    vocabulary
        None: the encoder's word pieces only. Or the log's texts (a list, a column with
        ``column=``, a file or folder as :func:`~simwidgets.adapt` reads them; a sample of
        ``max_texts`` distinct texts is read): its words the tokenizer splits are added as
        whole tokens, most frequent first, and word frequencies come from the log.
    dims
        Dimensions kept by PCA (at most the encoder's).
    max_words, min_count
        At most this many log words are added, each seen at least ``min_count`` times.
    sif
        SIF's ``a`` (model2vec's default 1e-4); None for no weighting.
    learn, epochs, seed
        With ``vocabulary``: the encoder embeds up to ``learn`` of the log's texts, and the
        static model is then trained for ``epochs`` to give each of them the encoder's
        vector (cosine loss, through a learned projection folded into the table afterwards;
        model2vec's "tokenlearn" idea). This is the slow part on a CPU (MiniLM: a few hundred
        texts a second on two cores) and the one that helps most: on STS-B dev, MiniLM
        distilled alone scored 0.753 Spearman, trained on 10,536 STS-B train sentences 0.836
        (MiniLM itself: 0.867). ``learn=None`` skips it.
    out
        A folder to write the model to (it must not exist); default: the package's cache,
        keyed by the encoder, the vocabulary and the settings, and reused when called again.

    Examples
    --------
    >>> spec = sw.distill_static("minilm", log_texts)  # doctest: +SKIP
    >>> sw.cross_validate(["minilm", spec], left, right, gold)  # doctest: +SKIP
    >>> sw.score_file("log.parquet", models=[spec], out="scored/")  # doctest: +SKIP
    """
    model2vec = require("model2vec", "distill_static")
    from sklearn.decomposition import PCA

    from ..files import cache_dir, folder_digest, staged_folder

    if dims < 2:
        raise InputError(f"dims must be at least 2, got {dims}")
    if sif is not None and not 0 < sif < 1:
        raise InputError(f"sif must be between 0 and 1 (or None), got {sif}")
    spec, encoder = _encoder(spec)
    st = encoder.model
    tokenizer = st.tokenizer
    if not getattr(tokenizer, "is_fast", False):
        raise InputError(f"{spec!r} has no fast tokenizer; a static model needs one")
    texts = corpus_sample(vocabulary, column=column, most=max_texts) if vocabulary is not None else None
    if texts is not None and encoder.lowercase:
        texts = [t.lower() for t in texts]
    words, counts = _log_words(tokenizer, texts, max_words, min_count) if texts is not None else ([], Counter())

    source = Path(getattr(encoder, "source", ""))
    digest = folder_digest(source) if source.is_dir() else ""  # the encoder's files, not only its name
    key = hashlib.blake2b(digest_size=8)
    for part in (
        _VERSION,
        encoder.identity,
        digest,
        dims,
        max_words,
        min_count,
        sif,
        learn,
        epochs,
        seed,
        "\n".join(words),
    ):
        key.update(str(part).encode() + b"\0")
    key.update("\n".join(texts).encode("utf-8", "replace") if texts is not None else b"")
    label = (getattr(encoder, "name", "encoder") or "encoder").replace(":", "-").replace("/", "-")
    name = f"m2v-{label}" + ("-log" if texts is not None else "")
    folder = Path(out).expanduser() if out is not None else cache_dir() / "static" / f"{name}-{key.hexdigest()}"
    if out is not None and folder.exists():
        raise InputError(f"{folder} exists; distill_static never writes over a folder: give a new one")
    if not (folder / "model.safetensors").is_file():
        base_tokens = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
        cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
        wrap = (lambda ids: [cls, *ids, sep]) if cls is not None and sep is not None else (lambda ids: list(ids))
        base_vectors = _base_token_vectors(digest, st, [wrap([i]) for _, i in base_tokens], batch_size, progress)
        extra = [wrap(tokenizer(w, add_special_tokens=False)["input_ids"]) for w in words]
        vectors = np.vstack([base_vectors, _token_vectors(st, extra, batch_size, progress)]) if extra else base_vectors

        tokens = [t for t, _ in base_tokens] + words
        junk = np.array([bool(_UNUSED.match(t)) or t in tokenizer.all_special_tokens for t in tokens])
        dims = min(dims, vectors.shape[1], int((~junk).sum()) - 1)
        pca = PCA(n_components=dims, svd_solver="full", random_state=0).fit(vectors[~junk])
        table = pca.transform(vectors).astype(np.float32)
        if sif is not None:
            if texts is not None:  # ranks from the log: its tokens by count, then the rest in vocabulary order
                order = sorted(range(len(tokens)), key=lambda i: (-counts.get(tokens[i], 0), i))
            else:
                order = list(range(len(tokens)))
            rank = np.empty(len(tokens), dtype=np.float64)
            rank[order] = np.arange(len(tokens))
            inverse = 1.0 / (rank + 2)
            p = inverse / inverse.sum()
            table *= (sif / (sif + p)).astype(np.float32)[:, None]

        new_tokenizer = _with_words(tokenizer, words)
        if texts is not None and learn:
            rng = np.random.default_rng(seed)
            chosen = [texts[i] for i in sorted(rng.permutation(len(texts))[:learn].tolist())]
            teacher = encoder.embed(chosen, progress=progress)
            table = _learn(table, new_tokenizer, chosen, teacher, epochs, seed, progress)
        config = {
            "model_type": "model2vec",
            "architectures": ["StaticModel"],
            "tokenizer_name": spec,
            "apply_pca": dims,
            "sif_coefficient": sif,
            "hidden_dim": int(table.shape[1]),
            "seq_length": 1_000_000,
            "normalize": True,
            "pooling": "mean",
            "simwidgets": {
                "distilled_from": spec,
                "words_added": len(words),
                "texts_read": len(texts or []),
                "texts_learned": min(learn or 0, len(texts or [])),
            },
        }
        static = model2vec.StaticModel(vectors=table, tokenizer=new_tokenizer, config=config, normalize=True)
        with staged_folder(folder, existing="keep") as tmp:
            static.save_pretrained(tmp)
            saved = json.loads((tmp / "tokenizer.json").read_text(encoding="utf-8"))
            saved["padding"] = saved["truncation"] = None  # model2vec's save sets a truncation; texts are read whole
            (tmp / "tokenizer.json").write_text(json.dumps(saved), encoding="utf-8")
    return f"m2v:{folder}?name={name}"


def _with_words(tokenizer, words: list[str]):
    """A copy of a fast tokenizer, without padding or truncation, whose model also holds
    ``words`` as whole tokens (ids after the existing ones), so a word it split into pieces is
    now one token."""
    from tokenizers import Tokenizer

    state = json.loads(tokenizer.backend_tokenizer.to_str())
    state["padding"] = state["truncation"] = None  # a static model reads each text whole, unpadded
    vocab = state["model"].get("vocab")
    if words and (state["model"].get("type") != "WordPiece" or not isinstance(vocab, dict)):
        raise InputError(
            f"adding the log's words needs a WordPiece tokenizer (BERT's kind); this one is "
            f"{state['model'].get('type')}: call distill_static without vocabulary="
        )
    if words:
        start = max(vocab.values()) + 1
        for offset, word in enumerate(words):
            vocab[word] = start + offset
    return Tokenizer.from_str(json.dumps(state))


def _learn(
    table: np.ndarray, tokenizer, texts: list[str], teacher: np.ndarray, epochs: int, seed: int, progress
) -> np.ndarray:
    """Train the token table so that each text's mean row, through a learned linear map,
    points where the encoder's vector does (1 - cosine); return the table with the map folded
    in and cut back to its width by an SVD (a rotation: cosines between texts are kept up to
    the energy cut)."""
    import torch
    from tqdm.auto import tqdm

    ok = ~np.isnan(teacher).any(axis=1)
    ids = [e.ids for e in tokenizer.encode_batch(texts, add_special_tokens=False)]
    unk = tokenizer.token_to_id(tokenizer.model.unk_token) if hasattr(tokenizer.model, "unk_token") else None
    ids = [[t for t in x if t != unk] for x in ids]
    keep = [i for i in range(len(texts)) if ok[i] and ids[i]]
    if len(keep) < 2:
        return table
    generator = torch.Generator().manual_seed(seed)
    weights = torch.nn.Parameter(torch.tensor(table))
    project = torch.nn.Linear(table.shape[1], teacher.shape[1], bias=False)
    with torch.no_grad():  # start from the best linear map of the distilled table onto the encoder's space
        start = np.stack([table[ids[i]].mean(0) for i in keep])
        solution = np.linalg.lstsq(start, teacher[keep], rcond=None)[0]
        project.weight.copy_(torch.tensor(solution.T, dtype=torch.float32))
    target = torch.tensor(teacher[keep], dtype=torch.float32)
    lengths = np.array([len(ids[i]) for i in keep])
    optimizer = torch.optim.Adam([weights, *project.parameters()], lr=1e-3)
    batch = 256
    steps = epochs * -(-len(keep) // batch)
    show = progress if progress is not None else steps >= 200
    with tqdm(total=steps, desc="learning from the log", unit=" steps", disable=not show) as bar:
        for _ in range(epochs):
            order = torch.randperm(len(keep), generator=generator).numpy()
            for start_at in range(0, len(order), batch):
                rows = order[start_at : start_at + batch]
                flat = torch.tensor(np.concatenate([ids[keep[r]] for r in rows]))
                offsets = torch.tensor(np.r_[0, np.cumsum(lengths[rows])[:-1]])
                out = project(torch.nn.functional.embedding_bag(flat, weights, offsets, mode="mean"))
                loss = 1 - torch.nn.functional.cosine_similarity(out, target[rows]).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                bar.update(1)
    with torch.no_grad():
        folded = (weights @ project.weight.T).numpy().astype(np.float64)
    _, _, basis = np.linalg.svd(folded, full_matrices=False)
    return (folded @ basis[: table.shape[1]].T).astype(np.float32)
