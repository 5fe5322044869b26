"""simwidgets: decide which text-embedding model to trust for semantic similarity.

Library layers (no widgets needed):

* :mod:`simwidgets.models` - :func:`load_model` and every model family behind one protocol;
* :mod:`simwidgets.similarity` - cosine matrices, pair scores, neighbours;
* :mod:`simwidgets.evaluation` - labelled pairs, benchmarks, calibration, stacked models.

The face holds the names of the README's tour; the rest is in namespaces:
:mod:`simwidgets.readers` (labelled-pair files), :mod:`simwidgets.trainers` (for
``cross_validate``), :mod:`simwidgets.results` (returned types), :mod:`simwidgets.extend`
(new model families) and :mod:`simwidgets.errors`.
"""

import warnings
from importlib import import_module

#: The face: the names the README's tour uses, and the module each lives in. Importing
#: ``simwidgets`` loads none of them: each is imported on first use, so the command line, Dask
#: workers and GPU machines load only the layers they need (no widget or plotting stack to
#: score pairs).
_FACE = {
    # models and scores
    "load_model": ".models",
    "score_pairs": ".similarity",
    "similarity_matrix": ".similarity",
    "neighbours": ".similarity",
    # judging models against labels
    "evaluate_pairs": ".evaluation",
    "evaluate_sts_dir": ".evaluation",
    "compare_models": ".evaluation",
    "choose_threshold": ".evaluation",
    "threshold_report": ".evaluation",
    "fit_ensemble": ".evaluation",
    "clean_results": ".evaluation",
    # training
    "fine_tune": ".training",
    "train_cross_encoder": ".training",
    "train_word_vectors": ".training",
    "train_ulmfit": ".models",
    "adapt": ".training",
    "cross_validate": ".training",
    "learning_curve": ".training",
    "distill_static": ".training",
    "frontier": ".training",
    # at scale, and out of the notebook
    "score_file": ".batch",
    "export_html": ".export",
    # widgets
    "SimilarityHeatmap": ".widgets",
    "EmbeddingMap": ".widgets",
    "NeighbourExplorer": ".widgets",
    "ThresholdTuner": ".widgets",
    "ModelComparison": ".widgets",
    "PairLabeler": ".widgets",
    "SimwidgetsWarning": ".errors",
}

#: The rest lives in namespaces, each a module of its own.
NAMESPACES = ("readers", "trainers", "results", "extend", "errors", "models", "evaluation", "training", "batch")

#: Names the face had before, and their home now: they still work for one release, with a
#: ``FutureWarning`` naming the new home.
_MOVED = {
    "load_pairs": "readers",
    "read_columns": "readers",
    "read_mrpc": "readers",
    "read_sick": "readers",
    "read_stsb": "readers",
    "read_word_pairs": "readers",
    "FineTune": "trainers",
    "CrossEncoderTrainer": "trainers",
    "WordVectorTrainer": "trainers",
    "StackedTrainer": "trainers",
    "Trainer": "trainers",
    "TrainedModel": "results",
    "CrossValidation": "results",
    "EnsembleResult": "results",
    "ThresholdChoice": "results",
    "EmbedReport": "results",
    "IsotonicCalibrator": "results",
    "PercentileCalibrator": "results",
    "KNOWN_SPECS": "extend",
    "Embedder": "extend",
    "PairFunction": "extend",
    "Vocabulary": "extend",
    "normalize_rows": "extend",
    "UntrustedFileError": "errors",
    "NoVectorsError": "errors",
    "random_pair_scores": "evaluation",
    "cosine_matrix": "similarity",
    "load_ulmfit": "models",
    "save_ulmfit": "models",
}


def __getattr__(name: str):
    if name in _FACE:
        value = getattr(import_module(_FACE[name], __name__), name)
        globals()[name] = value
        return value
    if name in NAMESPACES:
        return import_module(f".{name}", __name__)
    if name in _MOVED:
        home = f"simwidgets.{_MOVED[name]}"
        warnings.warn(
            f"simwidgets.{name} is now {home}.{name}; the old name goes in the next release",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(import_module(home), name)  # not cached: every use of the old name warns
    raise AttributeError(f"module 'simwidgets' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_FACE) | set(NAMESPACES))


__version__ = "0.1.0"

__all__ = [*_FACE, "__version__"]


def load_ipython_extension(ipython):
    """``%load_ext simwidgets``: register the magics of :mod:`simwidgets.magics`."""
    from .magics import load_ipython_extension as load

    load(ipython)
