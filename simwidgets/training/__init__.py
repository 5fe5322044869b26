"""Training on the user's own labels and texts.

* :func:`fine_tune` - a sentence encoder (MiniLM, any sentence-transformers or Hugging Face
  encoder) fine-tuned on labelled pairs with sentence-transformers' trainer and losses;
* :func:`train_cross_encoder` - a cross-encoder (a pair scorer, ``ce:PATH``) trained on
  labelled pairs with sentence-transformers' ``CrossEncoderTrainer``;
* :func:`train_word_vectors` - fastText or word2vec vectors from a corpus, with gensim;
* :func:`adapt` - a sentence encoder adapted to unlabelled texts of the domain (TSDAE, SimCSE
  or masked-language modelling), before or instead of labels;
* :func:`distill_static` - a static model (``m2v:PATH``) distilled from a sentence encoder,
  optionally taught by it on the log's texts: the encoder at word-vector cost.

* :func:`learning_curve` - each trainer's held-out metric against the labels it is given,
  and the labels the next +0.01 would take;
* :func:`frontier` - held-out quality against measured speed on this machine, and the hours a
  log of N rows would take, per candidate;
* :func:`cross_validate` - off-the-shelf models, trainers (:class:`FineTune`,
  :class:`CrossEncoderTrainer`, :class:`WordVectorTrainer`) and stacked models judged in the
  same folds, each trainer fitted on the training folds only.

Each training function returns a :class:`TrainedModel` whose ``spec`` every API takes, saved under the cache
folder by a hash of what made it (the same call again loads it) or in ``output_dir``.
"""

from .adaptation import adapt
from .candidates import CrossEncoderTrainer, FineTune, StackedTrainer, Trainer, WordVectorTrainer
from .cross_encoder import train_cross_encoder
from .cross_validation import CrossValidation, cross_validate
from .distillation import distill_static
from .encoder import OBJECTIVES, fine_tune
from .frontier import Frontier, frontier
from .learning_curve import LearningCurve, learning_curve
from .result import TrainedModel
from .word_vectors import train_word_vectors

__all__ = [
    "OBJECTIVES",
    "CrossEncoderTrainer",
    "CrossValidation",
    "FineTune",
    "LearningCurve",
    "StackedTrainer",
    "TrainedModel",
    "Trainer",
    "WordVectorTrainer",
    "adapt",
    "cross_validate",
    "distill_static",
    "frontier",
    "Frontier",
    "fine_tune",
    "learning_curve",
    "train_cross_encoder",
    "train_word_vectors",
]
