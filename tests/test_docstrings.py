"""The runnable examples in the docstrings of the modules that need no model."""

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "simwidgets.vectors",
        "simwidgets.texts",
        "simwidgets.evaluation.gold",
        "simwidgets.models.specs",
        "simwidgets.extras",
        "simwidgets.models.pair_scorer",
        "simwidgets.models.pair_reasons",
        "simwidgets.evaluation.folds",
        "simwidgets.evaluation.paired",
        "simwidgets.evaluation.resampling",
        "simwidgets.evaluation.threshold_migration",
        "simwidgets.evaluation.query_metrics",
        "simwidgets.evaluation.slices",
        "simwidgets.evaluation.cleaning",
        "simwidgets.evaluation.labelling",
        "simwidgets.training.candidates",
        "simwidgets.batch.job",
        "simwidgets.batch.runner",
        "simwidgets.errors",
        "simwidgets.columns",
        "simwidgets.readers",
        "simwidgets.trainers",
        "simwidgets.extend",
    ],
)
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
