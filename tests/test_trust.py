"""What is trusted and what is not: hostile files are refused before anything in them runs,
nothing of the user's is deleted or silently replaced (docs/trust.md)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import simwidgets as sw
from simwidgets.cli import main
from simwidgets.evaluation import EnsembleResult, fit_ensemble

PAIRS = pd.DataFrame(
    {
        "query": ["star wars", "frozen", "zelda", "cat", "taylor swift", "matrix", "halo", "dog"] * 3,
        "result": ["star wars a new hope", "frozen 2", "stock market", "car", "swift album", "reloaded", "x", "dog"]
        * 3,
        "grade": [1, 1, 0, 0, 1, 0.5, 0, 1] * 3,
    }
)


def _hostile_stack(honest: EnsembleResult, path, marker):
    """An honest stacked model with a chain in front of it that runs a shell command when it
    predicts: ``np.full_like`` fills the features with a string, ``np.min`` takes it out,
    ``runstring`` (an ``exec`` in numpy's test helpers) runs it."""
    import skops.io as sio
    from numpy.testing._private.utils import runstring
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    code = f"import os; os.system('touch {marker}')"
    chain = make_pipeline(
        FunctionTransformer(np.full_like, kw_args={"fill_value": code, "dtype": object}),
        FunctionTransformer(np.min),
        FunctionTransformer(runstring, kw_args={"dict": {}}),
        honest.model,
    )
    state = {"model": chain, "meta": json.dumps({"format": "simwidgets-ensemble-1"})}
    path.write_bytes(sio.dumps(state))
    return path


@pytest.fixture
def stack(tmp_path, glove):
    scores = sw.score_pairs(PAIRS["query"], PAIRS["result"], ["glove-50d", "tfidf"])
    return scores, fit_ensemble(scores, PAIRS["grade"], n_estimators=10, cv=3)


def test_a_stacked_model_file_that_would_run_a_command_is_refused_by_name(tmp_path, stack):
    scores, honest = stack
    marker = tmp_path / "PWNED"
    path = _hostile_stack(honest, tmp_path / "stack.skops", marker)
    # the attack is real: loading it the way the file asks runs the command
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    assert "numpy.testing._private.utils.runstring" in untrusted
    with pytest.raises(ValueError, match=r"refused without running anything.*runstring"):
        EnsembleResult.load(path)
    assert not marker.exists()
    # through the batch job too: refused before any work, one line, exit 2
    source = tmp_path / "pairs.csv"
    PAIRS.to_csv(source, index=False)
    argv = ["score", str(source), "-o", str(tmp_path / "out"), "--left", "query", "--right", "result", "-q"]
    assert main([*argv, "-m", "glove-50d", "-m", "tfidf", "--ensemble", str(path)]) == 2
    assert not marker.exists()
    assert not (tmp_path / "out" / "part-00000.parquet").exists()
    # an honest file of either kind still loads and predicts
    for kind in ("forest", "linear"):
        result = honest if kind == "forest" else fit_ensemble(scores, PAIRS["grade"], kind="linear", cv=3)
        loaded = EnsembleResult.load(result.save(tmp_path / f"{kind}.skops"))
        np.testing.assert_allclose(loaded.predict(scores), result.predict(scores))
