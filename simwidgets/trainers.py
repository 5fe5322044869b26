"""Trainers for :func:`simwidgets.cross_validate`: each makes a model from the training pairs
of one fold, so a trained model is judged only on pairs it never saw.

>>> from simwidgets import trainers
>>> trainers.FineTune(epochs=1).name
'minilm fine-tuned'
"""

from .training.candidates import CrossEncoderTrainer, FineTune, StackedTrainer, Trainer, WordVectorTrainer

__all__ = ["CrossEncoderTrainer", "FineTune", "StackedTrainer", "Trainer", "WordVectorTrainer"]
