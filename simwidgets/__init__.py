"""simwidgets: decide which text-embedding model to trust for semantic similarity.

Library layers (no widgets needed):

* :mod:`simwidgets.models` - :func:`load_model` and every model family behind one protocol;
* :mod:`simwidgets.similarity` - cosine matrices, pair scores, neighbours;
* :mod:`simwidgets.evaluation` - labelled pairs, benchmarks, calibration, stacked models.
"""

from importlib import import_module

# Public names and the module each lives in. Importing ``simwidgets`` loads none of them:
# each is imported on first use, so the command line, Dask workers and GPU machines load only
# the layers they need (no widget or plotting stack to score pairs).
_EXPORTS = {
    "score_file": ".batch",
    "EnsembleResult": ".evaluation",
    "evaluate_pairs": ".evaluation",
    "evaluate_sts_dir": ".evaluation",
    "choose_threshold": ".evaluation",
    "ThresholdChoice": ".evaluation",
    "compare_models": ".evaluation",
    "clean_results": ".evaluation",
    "fit_ensemble": ".evaluation",
    "load_pairs": ".evaluation",
    "read_columns": ".evaluation",
    "read_mrpc": ".evaluation",
    "read_sick": ".evaluation",
    "threshold_report": ".evaluation",
    "read_stsb": ".evaluation",
    "read_word_pairs": ".evaluation",
    "IsotonicCalibrator": ".evaluation.calibration",
    "PercentileCalibrator": ".evaluation.calibration",
    "random_pair_scores": ".evaluation.calibration",
    "export_html": ".export",
    "KNOWN_SPECS": ".models",
    "Embedder": ".models",
    "EmbedReport": ".models",
    "UntrustedFileError": ".models",
    "load_model": ".models",
    "load_ulmfit": ".models",
    "save_ulmfit": ".models",
    "train_ulmfit": ".models",
    "cosine_matrix": ".similarity",
    "neighbours": ".similarity",
    "score_pairs": ".similarity",
    "similarity_matrix": ".similarity",
    "SimwidgetsWarning": ".texts",
    "Vocabulary": ".vocab",
    "TrainedModel": ".training",
    "fine_tune": ".training",
    "train_word_vectors": ".training",
    "train_cross_encoder": ".training",
    "cross_validate": ".training",
    "CrossValidation": ".training",
    "FineTune": ".training",
    "CrossEncoderTrainer": ".training",
    "WordVectorTrainer": ".training",
    "StackedTrainer": ".training",
    "Trainer": ".training",
    "NoVectorsError": ".models",
    "PairFunction": ".models",
    "normalize_rows": ".vectors",
    "EmbeddingMap": ".widgets",
    "ModelComparison": ".widgets",
    "NeighbourExplorer": ".widgets",
    "SimilarityHeatmap": ".widgets",
    "ThresholdTuner": ".widgets",
    "PairLabeler": ".widgets",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'simwidgets' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))


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
    "PairLabeler",
    "SimwidgetsWarning",
    "UntrustedFileError",
    "Vocabulary",
    "cosine_matrix",
    "evaluate_pairs",
    "evaluate_sts_dir",
    "choose_threshold",
    "ThresholdChoice",
    "compare_models",
    "clean_results",
    "export_html",
    "fine_tune",
    "fit_ensemble",
    "load_model",
    "load_pairs",
    "load_ulmfit",
    "neighbours",
    "normalize_rows",
    "random_pair_scores",
    "read_columns",
    "read_mrpc",
    "read_sick",
    "read_stsb",
    "read_word_pairs",
    "save_ulmfit",
    "score_file",
    "score_pairs",
    "similarity_matrix",
    "threshold_report",
    "train_ulmfit",
    "train_word_vectors",
    "train_cross_encoder",
    "cross_validate",
    "CrossValidation",
    "FineTune",
    "CrossEncoderTrainer",
    "WordVectorTrainer",
    "StackedTrainer",
    "Trainer",
    "TrainedModel",
    "NoVectorsError",
    "PairFunction",
    "__version__",
]


def load_ipython_extension(ipython):
    """``%load_ext simwidgets``: register the magics of :mod:`simwidgets.magics`."""
    from .magics import load_ipython_extension as load

    load(ipython)
