"""A calibrator fitted on labels travels into batch scoring as a prob_<model> column."""

import json

import numpy as np
import pandas as pd
import pytest

from simwidgets.cli import main
from simwidgets.evaluation.calibration import IsotonicCalibrator, load_calibrators, save_calibrators

pytest.importorskip("distributed", reason="batch scoring needs the [scale] extra (Dask)")


def test_a_saved_calibrator_gives_the_same_probabilities_in_a_score_job(tmp_path, glove):
    from simwidgets import score_pairs
    from simwidgets.evaluation import DATA
    from simwidgets.readers import read_stsb

    pairs = read_stsb(DATA / "sts" / "stsb-en-dev.csv").iloc[:300]
    scored = score_pairs(pairs.left, pairs.right, [glove])
    fitted = IsotonicCalibrator().fit(scored["score_glove-50d"], (pairs.score >= 3).astype(float))
    path = save_calibrators({"glove-50d": fitted}, tmp_path / "calibrators.json")
    assert json.loads(path.read_text())["format"] == "simwidgets-calibrators-1"  # numbers only: nothing runs
    loaded = load_calibrators(path)["glove-50d"]
    np.testing.assert_allclose(loaded.transform(scored["score_glove-50d"]), fitted.transform(scored["score_glove-50d"]))
    source = tmp_path / "pairs.csv"
    pairs[["left", "right"]].to_csv(source, index=False)
    argv = ["score", str(source), "-o", str(tmp_path / "out"), "--left", "left", "--right", "right", "-q"]
    assert main([*argv, "-m", "glove-50d", "--workers", "1", "--calibrate", str(path)]) == 0
    out = pd.read_parquet(tmp_path / "out")
    np.testing.assert_allclose(
        out["prob_glove-50d"].to_numpy(np.float64), fitted.transform(out["score_glove-50d"]), atol=1e-6
    )


def test_a_file_that_is_not_a_calibrators_file_is_refused_before_any_work(tmp_path, capsys):
    bad = tmp_path / "cal.json"
    bad.write_text('{"format": "pickle"}')
    source = tmp_path / "pairs.csv"
    pd.DataFrame({"q": ["a cat"], "r": ["a dog"]}).to_csv(source, index=False)
    argv = ["score", str(source), "-o", str(tmp_path / "out"), "--left", "q", "--right", "r", "-q", "-m", "glove-50d"]
    assert main([*argv, "--calibrate", str(bad)]) == 2
    assert "not a calibrators file" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    # a calibrator for a model the job does not score
    save_calibrators({"minilm": IsotonicCalibrator().fit([0.1, 0.9], [0, 1])}, tmp_path / "other.json")
    assert main([*argv, "--calibrate", str(tmp_path / "other.json"), "--workers", "1"]) == 2
    assert "calibrates 'minilm', which this job does not score" in capsys.readouterr().err
