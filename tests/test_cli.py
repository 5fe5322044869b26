import os
import subprocess
import sys

import pytest

from simwidgets.cli import main


def test_similarity_prints_a_table(capsys, glove):
    assert main(["similarity", "a cat", "a kitten", "", "-m", "glove-50d"]) == 0
    out = capsys.readouterr().out
    assert "glove-50d" in out and "a kitten" in out and "empty or whitespace-only" in out


def test_neighbours_side_by_side(capsys, glove):
    assert main(["neighbours", "frog", "-m", "glove-50d", "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert "snake" in out and "glove-50d token" in out


def test_evaluate_a_word_pair_file(capsys, test_data, glove):
    path = test_data / "word-sim" / "EN-MC-30.txt"
    assert main(["evaluate", str(path), "-m", "glove-50d", "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    assert "spearman" in out and "EN-MC-30.txt" in out


def test_standard_benchmarks(capsys, test_data, glove):
    assert main(["evaluate", "--standard", str(test_data), "-m", "glove-50d", "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    assert "WS-353" in out and "SimLex-999" in out and "STS-B dev" in out
    assert "0.503" in out  # GloVe 6B-50d on WordSim-353


@pytest.mark.parametrize(
    "argv, message",
    [
        (["similarity", "a", "b", "-m", "no-such-model"], "unknown model spec"),
        (["similarity", "only one"], "at least two texts"),
        (["evaluate", "/no/such/file.txt"], "not found"),
        (["evaluate"], "give a pairs FILE"),
        (["neighbours", "qqzzxxv", "-m", "glove-50d"], "cannot embed"),
    ],
)
def test_bad_usage_exits_2_with_a_message(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_a_bug_shows_its_traceback_and_a_usage_error_one_line(capsys, monkeypatch):
    """Only the package's own errors (and a missing file) are usage errors: a ValueError from
    anywhere else is a bug, and the user (and the bug report) sees where it came from."""
    import simwidgets.similarity as similarity
    from simwidgets.errors import InputError

    def bug(*args, **kwargs):
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr(similarity, "score_pairs", bug)
    with pytest.raises(ValueError, match="broadcast"):
        main(["similarity", "a", "b", "-m", "glove-50d"])

    def refused(*args, **kwargs):
        raise InputError("this is the user's to fix")

    monkeypatch.setattr(similarity, "score_pairs", refused)
    assert main(["similarity", "a", "b", "-m", "glove-50d"]) == 2
    assert capsys.readouterr().err == "simwidgets similarity: error: this is the user's to fix\n"


def test_a_missing_extra_is_one_line(capsys, monkeypatch):
    import simwidgets.similarity as similarity
    from simwidgets.extras import missing

    def needs(*args, **kwargs):
        raise missing("fastai", "ULMFiT")

    monkeypatch.setattr(similarity, "score_pairs", needs)
    assert main(["similarity", "a", "b", "-m", "glove-50d"]) == 2
    assert 'pip install "simwidgets[' in capsys.readouterr().err


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


def test_python_dash_m_and_help():
    result = subprocess.run([sys.executable, "-m", "simwidgets", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("similarity", "neighbours", "evaluate"):
        assert command in result.stdout
    result = subprocess.run([sys.executable, "-m", "simwidgets", "models"], capture_output=True, text=True)
    assert "glove-50d" in result.stdout


def test_neighbours_of_a_word_one_model_lacks_shows_the_others(capsys, glove, word_vector_files):
    fasttext = f"fasttext:{word_vector_files['folder'] / 'ft.bin'}"
    assert main(["neighbours", "governmentt", "-m", "glove-50d", "-m", fasttext, "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert "fasttext:ft token" in out  # fastText's subwords answer the misspelling
    assert "glove-50d: 'governmentt' is not in this model's vocabulary" in out
    assert main(["neighbours", "governmentt", "-m", "glove-50d"]) == 2
    assert "no model has 'governmentt' in its vocabulary" in capsys.readouterr().err


def test_ctrl_c_on_score_prints_one_line_saying_how_to_resume(tmp_path):
    import os
    import signal
    import time

    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    words = np.array(["star", "wars", "frozen", "zelda", "matrix", "swift", "album", "game", "film", "song"])
    n = 400_000
    pd.DataFrame(
        {"query": [" ".join(w) for w in words[rng.integers(0, 10, (n, 3))]], "result": words[rng.integers(0, 10, n)]}
    ).to_csv(tmp_path / "pairs.csv", index=False)
    argv = [sys.executable, "-m", "simwidgets", "score", str(tmp_path / "pairs.csv"), "-o", str(tmp_path / "out")]
    argv += [
        "--left",
        "query",
        "--right",
        "result",
        "-m",
        "glove-50d",
        "--workers",
        "1",
        "--blocksize",
        "20000",
    ]  # ~460 parts: seconds of work left at the signal
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        # started with SIGINT ignored, as some parents leave it (a test runner's worker, a shell's
        # background job): Ctrl-C must still stop the job with its message
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list((tmp_path / "out").glob("part-*.parquet")):
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "interrupted; finished parts are kept: run the same command again to resume" in err


def test_score_keeps_column_types_and_text_column_keeps_text(tmp_path, capsys):
    import pandas as pd

    pd.DataFrame(
        {"id": [1, 2, 3], "zip": ["007", "010", "123"], "query": ["cat", "dog", "frog"], "result": ["a"] * 3}
    ).to_csv(tmp_path / "pairs.csv", index=False)
    argv = ["score", str(tmp_path / "pairs.csv"), "-o", str(tmp_path / "out"), "--left", "query", "--right", "result"]
    assert main([*argv, "-m", "glove-50d", "--workers", "1", "--text-column", "zip", "--quiet"]) == 0
    out = pd.read_parquet(tmp_path / "out")
    assert out["id"].tolist() == [1, 2, 3] and out["zip"].tolist() == ["007", "010", "123"]


def test_evaluate_standard_works_outside_a_checkout(tmp_path):
    """The open sets ship in the package: no clone, no data folder beside it is needed."""
    env = {k: v for k, v in os.environ.items() if k != "SIMWIDGETS_DATA"}
    done = subprocess.run(
        [sys.executable, "-m", "simwidgets", "evaluate", "--standard", "-m", "glove-50d"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**env, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert "STS-B dev" in done.stdout and "SimLex-999" in done.stdout and "WS-353" in done.stdout
