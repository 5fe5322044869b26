import subprocess
from pathlib import Path

import numpy as np
import pytest

from simwidgets.widgets.base import STATIC, from_wire, to_wire

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "dtype, sent",
    [
        ("float32", "float32"),
        ("float64", "float32"),
        ("int32", "int32"),
        ("int64", "int32"),
        ("uint8", "uint8"),
        ("bool", "uint8"),
        ("int16", "int16"),
        ("uint32", "uint32"),
    ],
)
@pytest.mark.parametrize("shape", [(0,), (5,), (3, 4), (2, 3, 2)])
def test_arrays_cross_as_binary_with_dtype_and_shape(dtype, sent, shape):
    array = (np.arange(int(np.prod(shape))) % 7).astype(dtype).reshape(shape)
    wire = to_wire(array)
    assert isinstance(wire["buffer"], memoryview)
    assert wire["dtype"] == sent and wire["shape"] == list(shape)
    np.testing.assert_array_equal(from_wire(wire), array.astype(sent))


def test_non_contiguous_arrays_are_copied_and_odd_dtypes_refused():
    array = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]
    np.testing.assert_array_equal(from_wire(to_wire(array)), array)
    with pytest.raises(TypeError, match="cannot send dtype"):
        to_wire(np.array(["a"]))
    with pytest.raises(ValueError, match="int32"):
        to_wire(np.array([2**40]))
    assert to_wire(None) is None


def test_heatmap_traits(glove):
    from simwidgets import SimilarityHeatmap

    texts = ["a cat", "a kitten", "stock prices", "markets fell"]
    w = SimilarityHeatmap(texts, model=glove, threshold=0.5, order="cluster")
    assert w.matrix.dtype == np.float32 and w.matrix.shape == (4, 4)
    assert sorted(w.row_labels) == sorted(texts) and w.row_labels == w.col_labels
    assert w.threshold == 0.5 and w.model_names == ["glove-50d"]
    i, j = w.row_labels.index("a cat"), w.col_labels.index("a kitten")
    w.selected = [[i, j]]
    pairs = w.selected_pairs
    assert pairs.iloc[0]["left"] == "a cat" and pairs.iloc[0]["right"] == "a kitten"
    assert pairs.iloc[0]["score_glove-50d"] == pytest.approx(float(w.matrix[i, j]))
    for name in ("matrix", "threshold", "selected", "row_labels"):
        assert w.traits()[name].help, name


def test_heatmap_compare_and_rectangular(glove):
    from simwidgets import SimilarityHeatmap

    w = SimilarityHeatmap(["a cat", "a dog"], ["kitten", "puppy", "car"], compare=("glove-50d", "tfidf-char"))
    assert w.matrix.shape == (2, 3) and w.diverging
    np.testing.assert_allclose(w.matrix, w.detail_a - w.detail_b, atol=1e-6)
    w.selected = [[0, 0]]
    assert list(w.selected_pairs.columns) == ["left", "right", "score_glove-50d", "score_tfidf-char"]


def test_widgets_are_strict():
    from simwidgets import SimilarityHeatmap

    with pytest.raises(TypeError, match="unknown argument"):
        SimilarityHeatmap(["a", "b"], model="glove-50d", colour="red")
    with pytest.raises(ValueError, match="order"):
        SimilarityHeatmap(["a", "b"], model="glove-50d", order="random")
    with pytest.raises(TypeError, match="single str"):
        SimilarityHeatmap("just one text")


def test_bundles_are_built_from_the_sources(tmp_path):
    if not (ROOT / "js" / "node_modules" / "esbuild").exists():
        pytest.skip("esbuild is not installed (make js)")
    subprocess.run(["node", "build.mjs", str(tmp_path)], cwd=ROOT / "js", check=True, capture_output=True)
    for built in tmp_path.iterdir():
        committed = STATIC / built.name
        assert committed.exists(), f"{built.name} is not committed in simwidgets/static"
        assert committed.read_bytes() == built.read_bytes(), f"{built.name} is stale: run make js"


def test_shipped_bundles_are_minified_and_marked_as_generated():
    for bundle in STATIC.glob("*.js"):
        text = bundle.read_text()
        assert text.count("\n") < 20 and "@typedef" not in text, f"{bundle.name} is not minified"
    attributes = (ROOT / ".gitattributes").read_text()
    assert "simwidgets/static/*.js linguist-generated=true" in attributes


def test_neighbour_explorer_overlap_and_errors(glove, minilm):
    from simwidgets import NeighbourExplorer

    w = NeighbourExplorer(["glove-50d", "minilm"], query="frog", k=5)
    assert [r["model"] for r in w.results] == ["glove-50d", "minilm"]
    assert w.results[0]["tokens"][:3] == ["snake", "ape", "toad"]
    shared = set(w.results[0]["tokens"]) & set(w.results[1]["tokens"])
    union = set(w.results[0]["tokens"]) | set(w.results[1]["tokens"])
    assert w.overlap[0][1] == pytest.approx(len(shared) / len(union))
    assert w.results[0]["only"] == [t not in w.results[1]["tokens"] for t in w.results[0]["tokens"]]
    w.query = "green frogs"  # a text: fine for word vectors, not a MiniLM word piece
    assert w.results[0]["error"] is None and "not a token" in w.results[1]["error"]
    assert list(w.table().columns) == ["glove-50d", "minilm"]
    w.query = ""
    assert w.results == []


def test_threshold_tuner_counts_and_cleaned_rows(glove):
    import pandas as pd

    from simwidgets import ThresholdTuner

    df = pd.DataFrame(
        {
            "q": ["a cat", "a dog", "stock prices", "", "music festival", "new film"],
            "r": ["a kitten", "a puppy", "a banana", "x", "band concert", "old car"],
            "y": [1, 1, 0, 1, 1, 0],
        },
        index=list("abcdef"),
    )
    w = ThresholdTuner(df, "q", "r", label="y", models=["glove-50d"], n_null=50)
    assert w.scores.shape == (1, 6) and w.labels.tolist() == [1, 1, 0, 1, 1, 0]
    assert w.label_cut == 0.5 and w.null_scores.shape == (1, 50)
    w.threshold = 0.8
    kept = w.cleaned()
    assert list(kept.index) == [i for i, s in zip("abcdef", w.scores[0]) if s >= 0.8]
    assert "d" not in kept.index  # the empty query has no score: removed, and its reason is kept
    assert w.scored().loc["d", "reason_glove-50d"] == "left: empty or whitespace-only text"
    unlabelled = ThresholdTuner(df, "q", "r", models=["glove-50d"], n_null=20)
    assert unlabelled.labels is None
    with pytest.raises(KeyError, match="not in pairs_df"):
        ThresholdTuner(df, "q", "nope")


def test_model_comparison_metrics_curves_disagreements_and_ensemble(test_data, glove):
    from simwidgets import ModelComparison
    from simwidgets.evaluation import read_stsb

    df = read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:200]
    w = ModelComparison(df, "left", "right", "score", models=["glove-50d", "tfidf-char"], ensemble="linear")
    assert list(w.table().index) == ["glove-50d", "tfidf-char"]
    assert set(w.curves) == {"glove-50d", "tfidf-char"}
    roc = w.curves["glove-50d"]["roc"]
    assert roc[0] == [0.0, 0.0] and roc[-1] == [1.0, 1.0]
    assert w.scores.shape == (2, 200) and len(w.disagreements) == 8
    before = w.disagreements
    w.x_model, w.y_model = 1, 0
    assert w.disagreements != before or w.disagreements[0]["x"] == before[0]["y"]
    assert w.ensemble["kind"] == "linear" and "lift" in w.ensemble
    assert (
        w.ensemble["verdict"] == w.ensemble_result.lift_text() and "%, " in w.ensemble["verdict"]
    )  # with its interval
    assert {r["feature"] for r in w.ensemble["importances"]} >= {"score_glove-50d", "score_tfidf-char"}
    with pytest.raises(KeyError):
        ModelComparison(df, "left", "right", "nope")


def test_cluster_order_puts_similar_rows_together():
    from simwidgets.widgets.heatmap import cluster_order

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    vectors = np.vstack([centres[i % 3] + 0.05 * rng.normal(size=16) for i in range(12)])
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    order = cluster_order(unit @ unit.T)
    groups = [i % 3 for i in order]
    assert sorted(order.tolist()) == list(range(12))
    changes = sum(a != b for a, b in zip(groups, groups[1:]))
    assert changes == 2  # three contiguous blocks


def test_embedding_map_colours_selection_neighbours_and_umap(glove, tmp_path):
    from simwidgets import EmbeddingMap

    m = EmbeddingMap("glove-50d", max_points=3000, method="pca", color_by="kind")
    assert m.coords.shape == (3000, 2) and m.coords.dtype == np.float32 and m.method_shown == "pca"
    assert m.color_mode == "category" and "word" in m.legend and m.colors.dtype == np.uint8
    assert EmbeddingMap("glove-50d", max_points=500, method="pca", color_by="rank").color_mode == "continuous"
    assert len(EmbeddingMap("glove-50d", max_points=500, method="pca", color_by="cluster").legend) == 10
    user = EmbeddingMap(np.random.default_rng(0).normal(size=(50, 8)), method="pca", color_by=["a", "b"] * 25)
    assert user.legend == ["a", "b"] and user.labels[:2] == ["0", "1"]
    m.selected_indices = [m.labels.index("king"), 0]
    assert m.selected["label"].tolist() == ["king", m.labels[0]]
    near = [m.labels[i] for i in m.neighbours_of(m.labels.index("king"), 5)]
    expected = [w for w, _ in glove.kv.most_similar("king", topn=5, restrict_vocab=3000)]
    assert near == expected
    slow = EmbeddingMap("glove-50d", max_points=1500, method="umap", color_by="trust", cache_dir=tmp_path).wait(300)
    assert slow.method_shown == "umap" and slow.status == "UMAP" and slow.color_mode == "continuous"
    with pytest.raises(ValueError, match="color_by"):
        EmbeddingMap("glove-50d", max_points=10, method="pca", color_by="rainbow")
    with pytest.raises(ValueError, match="labels for"):
        EmbeddingMap(np.zeros((3, 2)), labels=["a"], method="pca")
    with pytest.raises(ValueError, match="method"):
        EmbeddingMap("glove-50d", method="tsne")


def test_values_are_checked_at_construction_and_on_every_assignment(glove):
    import traitlets

    from simwidgets import SimilarityHeatmap

    texts = ["a cat", "a kitten", "stock prices"]
    with pytest.raises(traitlets.TraitError, match="threshold must be from -1 to 1"):
        SimilarityHeatmap(texts, model=glove, threshold=7)
    heatmap = SimilarityHeatmap(texts, model=glove, threshold=0.5)
    with pytest.raises(traitlets.TraitError, match="threshold must be from -1 to 1"):
        heatmap.threshold = 7
    with pytest.raises(traitlets.TraitError, match="'nonsense'"):
        heatmap.order = "nonsense"
    with pytest.raises(traitlets.TraitError, match="low < high"):
        heatmap.value_range = [1.0, 0.0]
    with pytest.raises(traitlets.TraitError, match="low < high"):
        SimilarityHeatmap(texts, model=glove, value_range=[1.0, -1.0])
    assert heatmap.threshold == 0.5 and heatmap.order == "input"
    heatmap.threshold = None  # None: nothing masked
    diff = SimilarityHeatmap(texts, compare=(glove, "tfidf"), threshold=-1.5)  # differences lie in [-2, 2]
    assert diff.threshold == -1.5


def test_changing_the_order_rearranges_rows_labels_and_pinned_pairs(glove):
    from simwidgets import SimilarityHeatmap

    texts = ["a cat", "stock prices", "a kitten", "the market fell"]
    heatmap = SimilarityHeatmap(texts, model=glove)
    heatmap.selected = [[0, 1]]
    heatmap.order = "cluster"
    assert sorted(heatmap.row_labels) == sorted(texts) and heatmap.row_labels != texts
    assert heatmap.selected == []  # positions of the old order are dropped
    i, j = heatmap.row_labels.index("a cat"), heatmap.col_labels.index("a kitten")
    heatmap.selected = [[i, j]]
    pair = heatmap.selected_pairs.iloc[0]
    assert (pair.left, pair.right) == ("a cat", "a kitten")
    assert heatmap.matrix[i, j] == pytest.approx(pair["score_glove-50d"])


def test_map_neighbour_requests_are_answered_by_id_with_errors(glove):
    from simwidgets import EmbeddingMap

    m = EmbeddingMap(glove, method="pca", max_points=300)
    sent = []
    m.send = sent.append
    m._handle_custom_msg({"type": "rpc-request", "id": 7, "method": "neighbours", "params": {"index": 3, "k": 4}}, [])
    m._handle_custom_msg({"type": "rpc-request", "id": 8, "method": "neighbours", "params": {"index": 10**6}}, [])
    m._handle_custom_msg({"type": "rpc-request", "id": 9, "method": "delete_everything", "params": {}}, [])
    m._handle_custom_msg({"type": "something else"}, [])
    assert [r["id"] for r in sent] == [7, 8, 9] and all(r["type"] == "rpc-reply" for r in sent)
    assert (
        sent[0]["ok"] and sent[0]["result"]["index"] == 3 and sent[0]["result"]["neighbours"] == m.neighbours_of(3, 4)
    )
    assert not sent[1]["ok"] and "point 1000000 is not on this map of 300 points" in sent[1]["error"]
    assert not sent[2]["ok"] and "unknown request 'delete_everything'" in sent[2]["error"]


def test_other_widgets_check_their_values_on_assignment(glove):
    import pandas as pd
    import traitlets

    from simwidgets import NeighbourExplorer, ThresholdTuner

    explorer = NeighbourExplorer(models=[glove], query="frog", k=3)
    with pytest.raises(traitlets.TraitError, match="k must be from 1 to 1000"):
        explorer.k = 0
    pairs = pd.DataFrame({"a": ["a cat", "a dog", "stocks"], "b": ["a kitten", "a puppy", "a frog"], "y": [1, 1, 0]})
    tuner = ThresholdTuner(pairs, "a", "b", label="y", models=[glove], n_null=50)
    with pytest.raises(traitlets.TraitError, match="finite"):
        tuner.threshold = float("nan")
    with pytest.raises(traitlets.TraitError, match="model_index must be from 0 to 0"):
        tuner.model_index = 3


@pytest.mark.filterwarnings("ignore:train_word_vectors.*far too few")
def test_model_comparison_takes_trainers_and_judges_every_candidate_out_of_fold(
    test_data, glove, tmp_path, monkeypatch
):
    from simwidgets import ModelComparison
    from simwidgets.evaluation import read_stsb
    from simwidgets.trainers import WordVectorTrainer

    monkeypatch.setenv("SIMWIDGETS_CACHE_DIR", str(tmp_path))
    df = read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:120]
    trainer = WordVectorTrainer("fasttext", dim=16, epochs=2, min_count=1)
    w = ModelComparison(
        df, "left", "right", "score", models=["glove-50d", trainer, "ensemble:forest"], folds=3, progress=False
    )
    table = w.table()
    assert list(table.index) == ["glove-50d", "fasttext trained", "ensemble (forest)"]
    assert table["type"].tolist() == ["off the shelf", "trained", "stacked"]
    assert {"fold_mean_spearman", "diff", "p_better", "beats_base"} <= set(table.columns)
    assert w.cross_validation.reference == "glove-50d" and w.scores.shape == (3, 120)
    np.testing.assert_allclose(w.scores[1], w.cross_validation.scores["score_fasttext trained"], rtol=1e-6)
    assert len(list((tmp_path / "trained").glob("fasttext-*"))) == 3  # one model per training fold


def test_threshold_tuner_shows_the_threshold_chosen_out_of_sample_beside_the_in_sample_best(test_data, glove):
    from simwidgets import ThresholdTuner, choose_threshold, score_pairs
    from simwidgets.evaluation import read_stsb

    df = read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:200]
    tuner = ThresholdTuner(df, "left", "right", label="score", models=["glove-50d"], label_cut=3, n_null=20)
    choice = tuner.choices[0]
    scores = score_pairs(df.left, df.right, ["glove-50d"])["score_glove-50d"]
    expected = choose_threshold(scores, (df.score >= 3).astype(float), "f1", n_boot=500)
    assert choice["threshold"] == pytest.approx(expected.threshold, abs=1e-6)
    assert choice["f1"][0] == pytest.approx(expected.table.loc["f1", "out_of_sample"])
    assert choice["f1"][1] <= choice["f1"][0] <= choice["f1"][2] and choice["in_sample_f1"] >= choice["f1"][0]
    unlabelled = ThresholdTuner(df, "left", "right", models=["glove-50d"], n_null=20)
    assert unlabelled.choices == []
    few = ThresholdTuner(df.iloc[:8], "left", "right", label="score", models=["glove-50d"], label_cut=3, n_null=20)
    assert "why" in few.choices[0]


def test_model_comparison_marks_real_differences_and_shows_slices(test_data, glove):
    from simwidgets import ModelComparison, compare_models, score_pairs
    from simwidgets.evaluation import read_stsb

    df = read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:200]
    w = ModelComparison(df, "left", "right", "score", models=["glove-50d", "tfidf"], ensemble=None, by="length")
    expected = compare_models(score_pairs(df.left, df.right, ["glove-50d", "tfidf"]), df.score.to_numpy())
    assert len(w.differences) == 1 and w.differences[0]["metric"] == "spearman"
    assert w.differences[0]["real"] == bool(expected.iloc[0]["real"])
    assert w.differences[0]["diff"] == pytest.approx(expected.iloc[0]["diff"])
    slices = w.slices
    assert slices["names"][0] == "all" and len(slices["names"]) == 5 and slices["metric"] == "spearman"
    table = slices["tables"][slices["names"][1]]
    assert {r["model"] for r in table} == {"glove-50d", "tfidf"}
    assert all(slices["best"][n] != slices["best"]["all"] for n in slices["changes"])
    w.slice_name = slices["names"][1]  # the browser's slice selector sets this


def test_embedding_map_maps_a_sample_says_so_and_cancels(glove, tmp_path):
    from simwidgets import EmbeddingMap

    m = EmbeddingMap("glove-50d", max_points=3000, umap_sample=1000, color_by="kind", cache_dir=tmp_path)
    assert "UMAP of 1,000 of 3,000 points (the rest placed after)" in m.status and m.running
    m.wait(300)
    assert m.method_shown == "umap" and not m.running
    assert m.status == "UMAP of 1,000 of 3,000 points; the rest placed beside their nearest"
    assert m.coords.shape == (3000, 2) and np.isfinite(m.coords).all()
    stopped = EmbeddingMap("glove-50d", max_points=2000, umap_sample=None, color_by="kind")
    stopped.cancel()
    stopped.wait(300)
    assert stopped.status == "UMAP cancelled; showing PCA" and stopped.method_shown == "pca" and not stopped.running
