"""NeighbourExplorer and ThresholdTuner in a real JupyterLab."""


def test_neighbour_explorer_query_typed_in_the_browser(notebook):
    nb = notebook(["from simwidgets import NeighbourExplorer\nw = NeighbourExplorer(['glove-50d', 'minilm'], k=5)\nw"])
    box = nb.page.locator("input.sw-query").first
    box.wait_for(state="visible")
    box.fill("frog")
    box.press("Enter")
    nb.page.wait_for_function("() => document.querySelectorAll('.sw-columns tr').length === 6")
    headers = nb.page.locator(".sw-columns th").all_text_contents()
    assert headers == ["#", "glove-50d", "minilm"]
    assert "snake" in nb.page.locator(".sw-columns").first.text_content()
    assert nb.page.locator(".sw-only").count() > 0
    assert nb.python("w.query").strip() == "'frog'"


def test_threshold_tuner_slider_updates_counts_in_the_browser(notebook):
    setup = (
        "import pandas as pd\nfrom simwidgets import ThresholdTuner\n"
        "df = pd.DataFrame({'q': ['a cat', 'a dog', 'stock prices', '<b>bold</b>', 'music festival', 'new film'],\n"
        "                   'r': ['a kitten', 'a puppy', 'a banana', 'x y', 'band concert', 'old car'],\n"
        "                   'y': [1, 1, 0, 1, 1, 0]})\n"
        "w = ThresholdTuner(df, 'q', 'r', label='y', models=['glove-50d'], n_null=100)\nw"
    )
    nb = notebook([setup])
    canvas = nb.page.locator("canvas.sw-hist").first
    canvas.wait_for(state="visible")
    nb.page.wait_for_function("(c) => Number(c.dataset.renders || 0) >= 1", arg=canvas.element_handle())
    slider = nb.page.locator("input.sw-threshold").first
    slider.evaluate("(s) => { s.value = '0.9'; s.dispatchEvent(new Event('input')); }")
    nb.page.wait_for_function("(c) => c.dataset.threshold === '0.9'", arg=canvas.element_handle())
    kept_js = int(canvas.evaluate("(c) => c.dataset.kept"))
    for _ in range(50):
        if nb.python("w.threshold").strip() == "0.9":
            break
        nb.page.wait_for_timeout(100)
    assert kept_js == int(nb.python("len(w.cleaned())"))
    stats = nb.page.locator(".sw-stats").first.text_content()
    assert "precision" in stats and "recall" in stats
    assert nb.python("print(w.label_cut, end='')") == "0.5"  # and the histogram's legend says so
    assert canvas.evaluate("(c) => c.dataset.legend").startswith("similar (label ≥ 0.5) / not similar (label < 0.5)")
    assert nb.page.locator(".sw-examples b").count() == 0  # '<b>bold</b>' stays text


def test_model_comparison_renders_curves_table_and_scatter(notebook):
    # the lab server passes the shipped simwidgets/data/sts/stsb-en-dev.csv to the notebook as SW_STSB
    setup = (
        "import os\nfrom simwidgets import ModelComparison\nfrom simwidgets.evaluation import read_stsb\n"
        "df = read_stsb(os.environ['SW_STSB']).iloc[:150]\n"
        "w = ModelComparison(df, 'left', 'right', 'score', models=['glove-50d', 'tfidf-char'], ensemble='linear')\nw"
    )
    nb = notebook([setup])
    scatter = nb.page.locator("canvas.sw-scatter").first
    scatter.wait_for(state="visible")
    nb.page.wait_for_function("(c) => c.dataset.points === '150'", arg=scatter.element_handle())
    headers = nb.page.locator(".sw-metrics th").all_text_contents()
    assert headers[:2] == ["model", "pairs"] and "spearman" in headers
    first_row = nb.page.locator(".sw-metrics tr").nth(1).locator("td").all_text_contents()
    assert first_row[headers.index("pairs")] == "150" and first_row[headers.index("gold_missing")] == "0"
    # the curves have ticks, and their legend sits under them, not over them
    assert nb.page.locator(".sw-legend-item").all_text_contents() == ["glove-50d", "tfidf-char"]
    assert nb.page.locator("canvas.sw-roc").first.evaluate("(c) => c.dataset.ticks") == "5"
    # calibration: each model's reliability, raw and calibrated out of fold, with its ECE
    assert int(nb.page.locator("canvas.sw-reliability").first.evaluate("(c) => c.dataset.points")) > 4
    # and the diagram draws both models' marks in their own colours (Tableau's blue and orange)
    colours = nb.page.locator("canvas.sw-reliability").first.evaluate(
        "(c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let blue = 0, orange = 0;"
        " for (let k = 0; k < d.length; k += 4) { if (d[k] === 78 && d[k + 1] === 121 && d[k + 2] === 167) blue++;"
        " if (d[k] === 242 && d[k + 1] === 142 && d[k + 2] === 43) orange++; } return [blue, orange]; }"
    )
    assert min(colours) > 20, colours
    assert "ECE" in nb.page.locator(".sw-ece").first.text_content()
    nb.page.locator(".sw-calibration").first.scroll_into_view_if_needed()  # the screenshot shows it
    assert "Stacked model (linear)" in nb.page.locator(".sw-ensemble h4").first.text_content()
    painted = nb.page.locator("canvas.sw-roc").first.evaluate(
        "(c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let k = 3; k < d.length; k += 4) if (d[k]) n++; return n; }"
    )
    assert painted > 500


def test_threshold_tuner_says_what_the_threshold_does_to_the_whole_log(notebook):
    setup = (
        "import numpy as np, pandas as pd\nfrom simwidgets import ThresholdTuner\n"
        "from simwidgets.evaluation import audit_sample\n"
        "rng = np.random.default_rng(0)\ngood = rng.random(4000) < 0.3\n"
        "log = pd.DataFrame({'score_glove-50d': np.where(good, rng.normal(0.8, 0.1, 4000), rng.normal(0.5, 0.1, 4000)),"
        " 'truth': good.astype(int)})\n"
        "audit = audit_sample(log, 'score_glove-50d', n=300)\naudit['label'] = audit['truth']\n"
        "df = pd.DataFrame({'q': ['a cat', 'a dog', 'stock prices'], 'r': ['a kitten', 'a puppy', 'a banana']})\n"
        "w = ThresholdTuner(df, 'q', 'r', models=['glove-50d'], n_null=50, log=log, audit=audit)\nw"
    )
    nb = notebook([setup])
    line = nb.page.locator(".sw-log-estimate").first
    line.wait_for(state="visible")
    nb.page.locator("input.sw-threshold").first.evaluate(
        "(s) => { s.value = '0.7'; s.dispatchEvent(new Event('input')); }"
    )
    nb.page.wait_for_function(
        "() => document.querySelector('.sw-log-estimate').textContent.includes('on the whole log at 0.7')"
    )
    text = line.text_content()
    assert "keeps" in text and "precision" in text and "good pairs lost" in text
