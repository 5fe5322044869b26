"""In a real JupyterLab: ModelComparison's speed columns and the labeller's learning curve show
on the page as Python holds them."""

from pathlib import Path

from .conftest import ARTIFACTS
from .test_interactions_lab import _wait_python

PAIRS = Path(__file__).resolve().parents[2] / "examples" / "data" / "entertainment_search_pairs.csv"

TRAINER = """
class GloveLine(sw.trainers.Trainer):  # cheap: GloVe's cosine through a line fitted on the training pairs
    name = "glove line"

    def fit(self, left, right, gold, *, seed=0, gold_range=None, progress=False):
        from sklearn.linear_model import LinearRegression

        cos = lambda a, b: sw.score_pairs(a, b, "glove-50d")[["score_glove-50d"]].fillna(0).to_numpy()
        line = LinearRegression().fit(cos(left, right), gold)
        return sw.extend.PairFunction(lambda a, b: line.predict(cos(a, b)), name=self.name)
"""


def test_speed_columns_and_the_learning_curve_show_on_the_page(notebook, tmp_path):
    nb = notebook(
        [
            "import pandas as pd\nimport simwidgets as sw\n"
            f"pairs = pd.read_csv({str(PAIRS)!r})\n"
            "c = sw.ModelComparison(pairs.iloc[:150], 'query', 'result', 'grade', models=['glove-50d', 'tfidf'],\n"
            "                       ensemble=None, n_boot=50, progress=False, speed_rows=10**9)\nc",
            TRAINER + "\n"
            "w = sw.PairLabeler(pairs.iloc[:80], 'query', 'result', models=['glove-50d'],\n"
            f"                   path={str(tmp_path / 'l.csv')!r})\n"
            "gold = dict(zip(zip(pairs['query'], pairs['result']), pairs['grade']))\n"
            "for _ in range(45):\n"
            "    w.label(min((0, 0.5, 1), key=lambda v: abs(v - gold[(w.pair['left'], w.pair['right'])])))\n"
            "curve = w.learning_curve([GloveLine()], sizes=[10, 20, 30], folds=3, n_boot=50, progress=False)\nw",
        ]
    )
    page = nb.page
    page.locator(".sw-metrics th", has_text="texts_per_s_cpu").first.wait_for(state="visible")
    page.locator(".sw-metrics th", has_text="hours_cpu").first.wait_for(state="visible")
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".sw-metrics").first.screenshot(path=str(ARTIFACTS / "comparison-speed-columns.png"))
    _wait_python(nb, "print('learning_curve' in w.progress, end='')", "True")
    page.wait_for_function(
        "() => document.querySelector('.sw-label-progress').textContent.includes('glove line spearman')"
    )
    text = page.locator(".sw-label-progress").first.text_content()
    assert "at 30" in text and "the next +0.01" in text
    page.locator(".sw-label-progress").first.scroll_into_view_if_needed()
