"""simwidgets: decide which text-embedding model to trust for semantic similarity.

Library layers (no widgets needed):

* :mod:`simwidgets.models` - :func:`load_model` and every model family behind one protocol;
* :mod:`simwidgets.similarity` - cosine matrices, pair scores, neighbours;
* :mod:`simwidgets.evaluation` - labelled pairs, benchmarks, calibration, stacked models.
"""

from .batch import score_file
from .evaluation import (
    EnsembleResult,
    evaluate_pairs,
    fit_ensemble,
    load_pairs,
    read_mrpc,
    read_stsb,
    read_word_pairs,
)
from .evaluation.calibration import IsotonicCalibrator, PercentileCalibrator, random_pair_scores
from .export import export_html
from .models import (
    KNOWN_SPECS,
    Embedder,
    EmbedReport,
    UntrustedFileError,
    load_model,
    load_ulmfit,
    save_ulmfit,
    train_ulmfit,
)
from .similarity import cosine_matrix, neighbours, score_pairs, similarity_matrix
from .texts import SimwidgetsWarning
from .vocab import Vocabulary
from .widgets import EmbeddingMap, ModelComparison, NeighbourExplorer, SimilarityHeatmap, ThresholdTuner

__version__ = "0.1.0"

__all__ = [
    "KNOWN_SPECS",
    "EmbedReport",
    "EmbeddingMap",
    "Embedder",
    "EnsembleResult",
    "IsotonicCalibrator",
    "ModelComparison",
    "PercentileCalibrator",
    "NeighbourExplorer",
    "SimilarityHeatmap",
    "ThresholdTuner",
    "SimwidgetsWarning",
    "UntrustedFileError",
    "Vocabulary",
    "cosine_matrix",
    "evaluate_pairs",
    "export_html",
    "fit_ensemble",
    "load_model",
    "load_pairs",
    "load_ulmfit",
    "neighbours",
    "random_pair_scores",
    "read_mrpc",
    "read_stsb",
    "read_word_pairs",
    "save_ulmfit",
    "score_file",
    "score_pairs",
    "similarity_matrix",
    "train_ulmfit",
    "__version__",
]


def load_ipython_extension(ipython):
    """``%load_ext simwidgets``: register the magics of :mod:`simwidgets.magics`."""
    from .magics import load_ipython_extension as load

    load(ipython)
