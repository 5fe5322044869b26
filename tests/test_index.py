import numpy as np
import pytest

from simwidgets.index import NeighbourIndex, recall_at_k


@pytest.fixture(scope="module")
def vectors():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(40, 16))
    return (centres[rng.integers(0, 40, 20_000)] + 0.3 * rng.normal(size=(20_000, 16))).astype(np.float32)


def test_exact_index_equals_numpy(vectors):
    index = NeighbourIndex(vectors, "exact")
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores, rows = index.search(vectors[:5], k=7)
    expected = np.argsort(-(unit[:5] @ unit.T), axis=1)[:, :7]
    np.testing.assert_array_equal(rows, expected)
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)
    assert index.recall == 1.0


def test_ivf_reaches_its_measured_recall_and_is_cached(vectors, tmp_path):
    index = NeighbourIndex(vectors, "ivf", target_recall=0.9, cache_dir=tmp_path)
    assert index.recall >= 0.9 and index.nprobe >= 1
    exact = NeighbourIndex(vectors, "exact")
    queries = vectors[np.random.default_rng(1).choice(len(vectors), 200, replace=False)]
    _, truth = exact.search(queries, 10)
    _, found = index.search(queries, 10)
    assert recall_at_k(found, truth, 10) >= 0.85  # measured on other queries, close to the target
    assert len(list(tmp_path.glob("ivf-*.faiss"))) == 1
    again = NeighbourIndex(vectors, "ivf", target_recall=0.9, cache_dir=tmp_path)
    assert again.nprobe == index.nprobe and again.recall == index.recall
    np.testing.assert_array_equal(again.search(queries, 10)[1], found)


def test_auto_and_bad_arguments(vectors):
    assert NeighbourIndex(vectors[:100], "auto").kind == "exact"
    with pytest.raises(ValueError, match="kind"):
        NeighbourIndex(vectors, "lsh")
    with pytest.raises(ValueError, match="dimensions"):
        NeighbourIndex(vectors[:100]).search(np.zeros((1, 3)))


def test_approximate_vocabulary_neighbours(glove):
    from simwidgets import neighbours

    exact = neighbours("king", glove, k=10)
    approx = neighbours("king", glove, k=10, approximate=True)
    assert len(set(exact["token"]) & set(approx["token"])) >= 7
