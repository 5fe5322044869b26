"""Train a cross-encoder as a correction to its sentence encoder's cosine (an *anchored*
cross-encoder), so that it starts exactly where the encoder is and the labels can only move it
from there.

The score is ``sigmoid(logit + scale * cosine + offset)``: ``scale`` and ``offset`` calibrate
the encoder's cosine to the labels (a logistic fit on the training pairs), and the
cross-encoder's head starts at zero, so before any step it ranks pairs exactly as the encoder
does. Training moves the correction; the epoch with the best validation Spearman is kept only
when :func:`share_better` says the validation pairs are sure enough that it beats the start,
else the head is set back to zero (the encoder's own ranking).

>>> scale, offset = calibrate([0.1, 0.5, 0.9], [0.0, 0.5, 1.0])
>>> scale > 0
True
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError


def calibrate(cosine, gold, *, steps: int = 200) -> tuple[float, float]:
    """``(scale, offset)`` minimising binary cross-entropy of ``sigmoid(scale * cosine + offset)``
    against gold in [0, 1] (soft targets), by Newton's method on the two numbers."""
    x = np.asarray(cosine, dtype=np.float64)
    y = np.asarray(gold, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) < 2:
        raise InputError("an anchored cross-encoder needs at least 2 training pairs the encoder can score")
    design = np.column_stack([x, np.ones_like(x)])
    w = np.zeros(2)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(design @ w)))
        gradient = design.T @ (p - y)
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-6 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return float(w[0]), float(w[1])


def head(model):
    """The cross-encoder's one-output linear head (the last ``Linear`` with one output)."""
    import torch

    found = [(name, m) for name, m in model.named_modules() if isinstance(m, torch.nn.Linear) and m.out_features == 1]
    if not found:
        raise InputError("this cross-encoder has no one-output linear head to anchor")
    return found[-1]


def zero_head(model) -> None:
    """Set the head's weights and bias to zero: the correction is then 0 for every pair."""
    import torch

    _, linear = head(model)
    with torch.no_grad():
        linear.weight.zero_()
        if linear.bias is not None:
            linear.bias.zero_()


def anchored_loss(model):
    """Binary cross-entropy of ``sigmoid(logit + anchor_term)`` against gold; each row's label is
    ``[gold, anchor_term]`` (so sentence-transformers' collator carries the anchor beside it)."""
    import torch
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss
    from sentence_transformers.util import batch_to_device

    class AnchoredBinaryCrossEntropyLoss(BinaryCrossEntropyLoss):
        def forward(self, inputs, labels, prompt=None, task=None):
            if isinstance(labels, (list, tuple)):
                labels = torch.stack([torch.as_tensor(row) for row in labels])
            labels = labels.to(self.model.device).float()
            features = self.model.preprocess(list(zip(inputs[0], inputs[1])), prompt=prompt, task=task)
            logits = self.model(batch_to_device(features, self.model.device))["scores"].view(-1)
            return self.bce_with_logits_loss(logits + labels[:, 1], labels[:, 0])

    return AnchoredBinaryCrossEntropyLoss(model)


def anchored_evaluator(left, right, gold, anchor_term, *, name: str = "validation"):
    """sentence-transformers' correlation evaluator for ``logit + anchor_term`` (what the anchored
    model scores, before the sigmoid, which does not change a ranking)."""
    import torch
    from scipy.stats import pearsonr, spearmanr
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderCorrelationEvaluator

    term = np.asarray(anchor_term, dtype=np.float64)

    class AnchoredCorrelationEvaluator(CrossEncoderCorrelationEvaluator):
        def __call__(self, model, output_path=None, epoch=-1, steps=-1):
            logits = model.predict(
                self.sentence_pairs, batch_size=self.batch_size, show_progress_bar=False,
                convert_to_numpy=True, activation_fn=torch.nn.Identity(),
            )  # fmt: skip
            scores = np.asarray(logits, dtype=np.float64).reshape(-1) + term
            metrics = {"pearson": float(pearsonr(self.scores, scores)[0]),
                       "spearman": float(spearmanr(self.scores, scores)[0])}  # fmt: skip
            metrics = self.prefix_name_to_metrics(metrics, self.name)
            self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
            return metrics

    return AnchoredCorrelationEvaluator(list(zip(left, right)), list(map(float, gold)), name=name, write_csv=False)


def start_spearman(gold, anchor_term) -> float:
    """The validation Spearman of the start (the head at zero: the calibrated cosine alone)."""
    from scipy.stats import spearmanr

    return float(spearmanr(np.asarray(gold, dtype=np.float64), np.asarray(anchor_term, dtype=np.float64))[0])


def share_better(gold, trained, start, *, n_boot: int = 1000, seed: int = 0) -> float:
    """The share of bootstrap resamples of the pairs in which ``trained`` scores have a higher
    Spearman with ``gold`` than ``start`` scores (paired: the same resample for both).

    >>> gold = np.arange(40.0)
    >>> share_better(gold, gold, gold[::-1])
    1.0
    """
    from scipy.stats import rankdata

    gold, trained, start = (np.asarray(a, dtype=np.float64) for a in (gold, trained, start))
    rng = np.random.default_rng(seed)
    n = len(gold)
    better = 0
    rows = max(1, 2_000_000 // max(n, 1))  # resamples at a time: a few tens of MB at most

    def spearman(picks: np.ndarray, scores: np.ndarray) -> np.ndarray:
        g, s = rankdata(gold[picks], axis=1), rankdata(scores[picks], axis=1)
        g -= g.mean(axis=1, keepdims=True)
        s -= s.mean(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (g * s).sum(axis=1) / np.sqrt((g * g).sum(axis=1) * (s * s).sum(axis=1))

    for done in range(0, n_boot, rows):
        picks = rng.integers(0, n, size=(min(rows, n_boot - done), n))
        better += int(np.sum(spearman(picks, trained) > spearman(picks, start)))
    return better / n_boot
