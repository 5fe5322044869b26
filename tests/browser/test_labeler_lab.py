"""PairLabeler in a real JupyterLab: keys reach Python, every label is on disk after its key,
a reopened labeller resumes, and hostile text stays text."""

from pathlib import Path

from .test_interactions_lab import XSS, _no_xss, _wait_python

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAIRS = Path(__file__).resolve().parents[2] / "examples" / "data" / "entertainment_search_pairs.csv"


# a key pressed while the last one is still on its way is ignored (it would label a pair not yet shown),
# so a test, like a person, waits for the next pair before the next key
IDLE = "() => !document.querySelector('.sw-labeler').dataset.busy"


def _press(page, key):
    page.wait_for_function(IDLE)
    page.keyboard.press(key)


def test_labeler_keys_disk_resume_and_xss(notebook, tmp_path):
    path = tmp_path / "labels.csv"
    nb = notebook(
        [
            "import pandas as pd\nimport simwidgets as sw\n"
            f"pairs = pd.read_csv({str(PAIRS)!r}).iloc[:40]\n"
            f"pairs.loc[0, 'query'] = {XSS!r}\n"
            "w = sw.PairLabeler(pairs, 'query', 'result', models=['glove-50d', 'tfidf-char'],\n"
            f"                   path={str(path)!r}, strategy='uncertain')\nw"
        ]
    )
    page = nb.page
    box = page.locator(".sw-labeler").first
    box.wait_for(state="visible")
    page.wait_for_function("() => document.querySelectorAll('.sw-label-button').length === 3")
    shown = page.locator(".sw-label-text").first.text_content()
    assert shown == nb.python("print(w.pair['left'], end='')")
    box.click()  # focus the widget: its keys are its own, not the notebook's shortcuts
    for key, count in (("1", 1), ("5", 2), ("0", 3)):
        _press(page, key)
        _wait_python(nb, f"print(len(pd.read_csv({str(path)!r})), end='')", str(count))  # on disk after each key
    assert nb.python("print(w.labels.label.tolist(), end='')") == "[1.0, 0.5, 0.0]"
    _press(page, "u")
    _wait_python(nb, "print(len(w.labels), len(pd.read_csv(w.path)), end='')", "2 2")
    _press(page, "s")
    _wait_python(nb, "print(w.progress['remaining'], end='')", "37")  # 40 - 2 labelled - 1 skipped
    # the page shows what Python holds
    page.wait_for_function(
        "(t) => document.querySelector('.sw-label-progress').textContent.startsWith(t)", arg="2 labelled"
    )
    # a button works as a key does
    page.wait_for_function(IDLE)
    page.locator(".sw-label-button").nth(2).click()
    _wait_python(nb, "print(len(pd.read_csv(w.path)), end='')", "3")
    # reopened on the same path (a new kernel, a closed tab): resumes, labelled pairs not offered again
    nb.python(
        f"w2 = sw.PairLabeler(pairs, 'query', 'result', models=['glove-50d'], path={str(path)!r}, strategy='random')"
    )
    assert nb.python("print(len(w2.labels), w2.progress['remaining'], end='')") == "3 37"
    assert (
        nb.python("print((w2.pair['left'], w2.pair['right']) not in set(zip(w2.labels.left, w2.labels.right)), end='')")
        == "True"
    )
    # hostile text is shown as text
    nb.python("w.strategy = 'random'")
    nb.python("w._show(0, 'random')")
    page.wait_for_function("(x) => document.querySelector('.sw-label-text').textContent === x", arg=XSS)
    _no_xss(page)
    nb.python("w._show(5, 'uncertain')")
    page.wait_for_timeout(300)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    box.screenshot(path=str(SCREENSHOTS / "pair-labeler.png"))
