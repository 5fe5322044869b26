import pandas as pd
import pytest


@pytest.fixture
def shell():
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "simwidgets")
    return ip


def test_magics_open_widgets_on_notebook_variables(shell, glove):
    from simwidgets import NeighbourExplorer, SimilarityHeatmap, ThresholdTuner

    shell.user_ns["texts"] = ["a cat", "a kitten", "stock prices"]
    w = shell.run_line_magic("simheatmap", "texts --model glove-50d --threshold 0.5")
    assert isinstance(w, SimilarityHeatmap) and w.threshold == 0.5
    diff = shell.run_line_magic("simheatmap", "texts --model glove-50d --model tfidf-char")
    assert diff.diverging and diff.model_names == ["glove-50d", "tfidf-char"]
    n = shell.run_line_magic("simneighbours", "frog --model glove-50d -k 3")
    assert isinstance(n, NeighbourExplorer) and n.results[0]["tokens"] == ["snake", "ape", "toad"]
    shell.user_ns["df"] = pd.DataFrame({"q": ["a cat", "a dog"], "r": ["a kitten", "a car"], "y": [1, 0]})
    t = shell.run_line_magic("simtune", "df --left q --right r --label y --model glove-50d")
    assert isinstance(t, ThresholdTuner) and t.labels.tolist() == [1, 0]
    m = shell.run_line_magic("simmap", "glove-50d --method pca --max-points 500")
    assert m.coords.shape == (500, 2)


def test_magic_help_and_errors(shell, capsys):
    from IPython.core.error import UsageError

    help_text = shell.run_line_magic("simheatmap", "--help")
    assert help_text is None
    out = capsys.readouterr().out
    assert "--model" in out and "texts" in out
    with pytest.raises(NameError, match="not a variable"):
        shell.run_line_magic("simheatmap", "nothing_here --model glove-50d")
    with pytest.raises(UsageError):
        shell.run_line_magic("simtune", "df")  # --left and --right are required
