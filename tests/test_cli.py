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


def test_evaluate_a_word_pair_file(capsys, shared_data, glove):
    path = shared_data / "word-sim" / "EN-MC-30.txt"
    assert main(["evaluate", str(path), "-m", "glove-50d", "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    assert "spearman" in out and "EN-MC-30.txt" in out


def test_standard_benchmarks(capsys, shared_data, glove):
    assert main(["evaluate", "--standard", str(shared_data), "-m", "glove-50d", "--bootstrap", "0"]) == 0
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
