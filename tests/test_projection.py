import numpy as np
import pytest

from simwidgets.projection import knn, neighbour_overlap, pca_2d, project, trustworthiness, umap_2d


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(6, 20)) * 3
    labels = rng.integers(0, 6, 600)
    return (centres[labels] + rng.normal(size=(600, 20))).astype(np.float32), labels


def test_pca_is_instant_and_two_dimensional(blobs):
    coords = pca_2d(blobs[0])
    assert coords.shape == (600, 2) and coords.dtype == np.float32


def test_knn_lists_each_point_first(blobs):
    rows, dists = knn(blobs[0], 5)
    assert rows.shape == (600, 5)
    assert (rows[:, 0] == np.arange(600)).all()
    assert np.all(np.diff(dists, axis=1) >= -1e-6)


def test_umap_keeps_neighbourhoods_and_is_cached(blobs, tmp_path):
    vectors, labels = blobs
    stages = []
    coords = umap_2d(vectors, seed=0, cache_dir=tmp_path, n_epochs=100, on_stage=stages.append)
    assert coords.shape == (600, 2) and stages == ["neighbours", "layout"]
    assert trustworthiness(vectors, coords, k=10, sample=600) > 0.9
    shuffled = np.random.default_rng(1).permutation(coords)
    kept = neighbour_overlap(vectors, coords, k=10, sample=300).mean()
    assert kept > 3 * neighbour_overlap(vectors, shuffled, k=10, sample=300).mean()
    assert len(list(tmp_path.glob("map-*.npy"))) == 1
    again = umap_2d(vectors, seed=0, cache_dir=tmp_path, n_epochs=100)
    np.testing.assert_array_equal(again, coords)


def test_project_rejects_unknown_methods(blobs):
    with pytest.raises(ValueError, match="method"):
        project(blobs[0], "tsne")


def test_umap_reports_every_epoch_and_stops_when_told(blobs):
    import umap.layouts

    from simwidgets.projection import Cancelled

    vectors, _ = blobs
    seen = []
    umap_2d(vectors[:200], seed=0, n_epochs=30, on_epoch=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 30) and seen[-1] == (30, 30) and len(seen) == 31
    original = umap.layouts.tqdm

    def stop(done, total):
        if done == 3:
            raise Cancelled

    with pytest.raises(Cancelled):
        umap_2d(vectors[:200], seed=0, n_epochs=30, on_epoch=stop)
    assert umap.layouts.tqdm is original  # umap-learn's own bar is back for everyone else


def test_a_sample_is_laid_out_and_the_rest_placed_beside_its_nearest(blobs, tmp_path):
    vectors, labels = blobs
    stages = []
    coords = umap_2d(vectors, seed=0, n_epochs=100, sample=200, on_stage=stages.append, cache_dir=tmp_path)
    assert coords.shape == (600, 2) and stages == ["neighbours", "layout", "placing"]
    # placed points land among their own blob's laid-out points
    centres = np.array([coords[:200][labels[:200] == b].mean(axis=0) for b in range(6)])
    placed = coords[200:]
    nearest = np.argmin(((placed[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
    assert (nearest == labels[200:]).mean() > 0.9
    assert trustworthiness(vectors, coords, k=10, sample=600) > 0.85
    # a sample of given rows, and the cache tells samples apart
    rows = np.arange(0, 600, 3)
    other = umap_2d(vectors, seed=0, n_epochs=100, sample=rows, cache_dir=tmp_path)
    assert other.shape == (600, 2) and len(list(tmp_path.glob("map-*.npy"))) == 2
