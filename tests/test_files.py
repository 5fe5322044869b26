"""Files and folders written whole or not at all (simwidgets.files), and the writers that use it."""

from __future__ import annotations

import numpy as np
import pytest

from simwidgets.files import is_temporary, replaced, staged_folder, write_atomic


def test_a_file_replaces_its_target_only_when_written_whole(tmp_path):
    target = tmp_path / "coords.npy"
    with replaced(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".npy" and is_temporary(tmp)
        np.save(tmp, np.arange(3))  # numpy keeps a name that ends in .npy
        assert not target.exists()  # a reader sees nothing until the rename
    assert np.load(target).tolist() == [0, 1, 2]

    with pytest.raises(RuntimeError), replaced(target) as tmp:
        np.save(tmp, np.arange(5))
        raise RuntimeError("the writer failed half way")
    assert np.load(target).tolist() == [0, 1, 2]  # the old file, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coords.npy"]  # no leftover


def test_two_writers_of_one_target_never_share_a_temporary_file(tmp_path):
    target = tmp_path / "labels.csv"
    with replaced(target) as first, replaced(target) as second:
        assert first != second
        first.write_text("first, complete\n")
        second.write_text("second, complete\n")
    # each rename is of a whole file: the last one to finish is what stays
    assert target.read_text() == "first, complete\n"
    assert [p.name for p in tmp_path.iterdir()] == ["labels.csv"]
    assert write_atomic(target, "text\n").read_text() == "text\n"
    assert write_atomic(target, b"bytes").read_bytes() == b"bytes"


def test_a_staged_folder_replaces_or_keeps_what_is_there(tmp_path):
    target = tmp_path / "model"
    with staged_folder(target) as tmp:
        (tmp / "weights").write_text("one")
    assert (target / "weights").read_text() == "one"

    with staged_folder(target) as tmp:  # replace (a retrained model)
        (tmp / "weights").write_text("two")
    assert (target / "weights").read_text() == "two"

    with staged_folder(target, existing="keep") as tmp:  # another process built it first
        (tmp / "weights").write_text("three")
    assert (target / "weights").read_text() == "two"

    with pytest.raises(ValueError, match="boom"), staged_folder(target) as tmp:
        (tmp / "weights").write_text("half")
        raise ValueError("boom")
    assert (target / "weights").read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary folder left

    with pytest.raises(ValueError, match="'replace' or 'keep'"), staged_folder(target, existing="merge"):
        pass


def test_the_cached_writers_leave_no_temporary_names(tmp_path):
    """A centring file goes through the helper: the whole file, nothing beside it."""
    from simwidgets.models.centring import Centring

    rng = np.random.default_rng(0)
    centring = Centring(components=1).fit(rng.normal(size=(20, 4)))
    centring.save(tmp_path / "centring.npz", "mean")
    loaded = Centring.load(tmp_path / "centring.npz", "mean")
    np.testing.assert_allclose(loaded.transform(np.eye(4)), centring.transform(np.eye(4)))
    assert [p.name for p in tmp_path.iterdir()] == ["centring.npz"]
