"""migrate_threshold: a threshold carried to another model keeps what it kept, and reusing the
raw value is called out."""

import numpy as np
import pytest

from simwidgets.errors import SimwidgetsWarning
from simwidgets.evaluation import migrate_threshold


def test_equal_kept_share_by_hand():
    old, new = [0.1, 0.5, 0.7, 0.9], [0.2, 0.3, 0.6, 0.95]
    moved = migrate_threshold(0.6, old, new, warn=False)
    assert moved.kept_share_old == 0.5 and moved.threshold == 0.6 and moved.kept_share == 0.5
    assert moved.note is None  # here the raw value keeps the same share: nothing to say


def test_reusing_the_raw_value_on_another_scale_is_called_out():
    rng = np.random.default_rng(0)
    old = rng.random(10_000)
    new = 0.6 + 0.4 * old  # a new model whose scores crowd near the top
    reused = r"reusing 0.8 on the new model would keep 50.1% of these pairs, not the 20.2%"
    with pytest.warns(SimwidgetsWarning, match=reused):
        moved = migrate_threshold(0.8, old, new)
    assert moved.kept_share == pytest.approx(moved.kept_share_old, abs=1e-4)
    assert moved.threshold == pytest.approx(0.6 + 0.4 * 0.8, abs=1e-3)
    assert moved.kept_share_if_reused > 0.45  # the silent failure: two and a half times the pairs kept
    # NaN scores are left out of the shares
    with_nan = np.append(new, np.nan)
    assert migrate_threshold(0.8, np.append(old, np.nan), with_nan, warn=False).threshold == moved.threshold


def test_equal_precision_on_labelled_pairs_keeps_the_most_pairs_at_that_precision():
    rng = np.random.default_rng(1)
    n = 4000
    good = rng.random(n) < 0.4
    old = np.clip(0.5 + 0.25 * good + rng.normal(0, 0.15, n), 0, 1)
    new = np.clip(0.3 + 0.45 * good + rng.normal(0, 0.12, n), 0, 1)  # a better model on another scale
    labels = good.astype(float)
    labels[rng.random(n) < 0.5] = np.nan  # half the pairs unlabelled
    moved = migrate_threshold(0.7, old, new, how="precision", labels=labels, warn=False)
    rows = ~np.isnan(labels)
    target = good[rows][old[rows] >= 0.7].mean()
    assert moved.precision_old == pytest.approx(target)
    assert moved.precision >= target
    # brute force: no lower threshold reaches the precision (so none keeps more labelled pairs)
    candidates = np.sort(new[rows])
    reaching = [t for t in candidates if good[rows][new[rows] >= t].mean() >= target]
    assert moved.threshold == pytest.approx(min(reaching))
    assert moved.kept_share > moved.kept_share_old  # the better model keeps more at the same precision


def test_bad_calls_are_refused():
    with pytest.raises(ValueError, match="same pairs"):
        migrate_threshold(0.5, [0.1, 0.2], [0.3])
    with pytest.raises(ValueError, match="how must be"):
        migrate_threshold(0.5, [0.1], [0.2], how="median")
    with pytest.raises(ValueError, match="needs labels"):
        migrate_threshold(0.5, [0.1, 0.9], [0.2, 0.8], how="precision")
    with pytest.raises(ValueError, match="no finite score"):
        migrate_threshold(0.5, [np.nan], [0.2])


def test_two_real_models_on_sts_pairs(test_data, glove):
    from simwidgets import score_pairs
    from simwidgets.readers import read_stsb

    pairs = read_stsb(test_data / "sts" / "stsb-en-dev.csv").iloc[:400]
    scored = score_pairs(pairs.left, pairs.right, [glove, "tfidf"])
    with pytest.warns(SimwidgetsWarning, match="another scale"):
        moved = migrate_threshold(0.9, scored["score_glove-50d"], scored["score_tfidf"], labels=pairs.score >= 3)
    assert abs(moved.kept_share - moved.kept_share_old) <= 1 / 400
    assert np.isfinite(moved.precision) and np.isfinite(moved.precision_if_reused)


def _parts(frame, folder, rows_per_part):
    folder.mkdir()
    for k, start in enumerate(range(0, len(frame), rows_per_part)):
        frame.iloc[start : start + rows_per_part].to_parquet(folder / f"part-{k:05d}.parquet", index=False)
    return folder


def test_on_score_folders_the_shares_are_exact_over_every_row_and_equal_the_arrays(tmp_path):
    import pandas as pd

    rng = np.random.default_rng(3)
    n = 30_000
    good = rng.random(n) < 0.3
    old = np.clip(0.5 + 0.25 * good + rng.normal(0, 0.15, n), 0, 1)
    new = np.round(np.clip(0.3 + 0.45 * good + rng.normal(0, 0.12, n), 0, 1), 3)  # ties, as real scores have
    old[rng.random(n) < 0.01] = np.nan
    log = pd.DataFrame({"score_old": old, "score_new": new, "truth": good.astype(float)})
    folder = _parts(log, tmp_path / "scored", rows_per_part=4_000)
    from_arrays = migrate_threshold(0.7, old, new, warn=False)
    from_folder = migrate_threshold(0.7, folder, folder, old_column="score_old", new_column="score_new", warn=False)
    assert from_folder == from_arrays
    # the two models' logs need not be one folder, nor hold the same rows
    other = _parts(log[["score_new"]].iloc[::2], tmp_path / "other", rows_per_part=3_000)
    moved = migrate_threshold(0.7, folder, other, old_column="score_old", new_column="score_new", warn=False)
    assert moved.kept_share == pytest.approx(moved.kept_share_old, abs=1e-3)
    half = np.sort(new[::2])[::-1]
    assert moved.threshold == half[int(round(moved.kept_share_old * len(half))) - 1]  # by hand
    with pytest.raises(TypeError, match="new_column"):
        migrate_threshold(0.7, folder, folder, old_column="score_old")
    # precision carried with an audit's labels file: each label weighed by the rows it stands for
    from simwidgets.evaluation import audit_sample, estimate_on_log

    audit = audit_sample(folder, "score_new", n=600, bands=[0.4, 0.5, 0.6, 0.7])
    audit["label"] = audit["truth"]
    by_precision = migrate_threshold(
        0.7, folder, folder, old_column="score_old", new_column="score_new", how="precision", labels=audit, warn=False
    )
    estimated = estimate_on_log(folder, audit, "score_new", [by_precision.threshold], n_boot=0)
    assert by_precision.precision == pytest.approx(estimated["precision"].iloc[0])
    old_estimate = estimate_on_log(folder, audit, "score_old", [0.7], n_boot=0)["precision"].iloc[0]
    assert by_precision.precision_old == pytest.approx(old_estimate)  # the audit's weighted estimate
    assert abs(by_precision.precision_old - good[old >= 0.7].mean()) < 0.15  # within about 3 standard errors
    assert by_precision.precision >= by_precision.precision_old - 1e-9
    # the same from the audit's labels file, whose rows' scores are read from the log
    from simwidgets.evaluation.labelling import AUDIT_COLUMNS, AUDIT_DESIGN, LabelStore

    store = LabelStore(tmp_path / "audit-labels.csv", layout=AUDIT_COLUMNS)
    for i, row in audit.iterrows():
        store.append(f"q{i}", f"r{i}", row["label"], "audit", "audit", {c: row[c] for c in AUDIT_DESIGN})
    from_file = migrate_threshold(
        0.7, folder, folder, old_column="score_old", new_column="score_new", how="precision",
        labels=tmp_path / "audit-labels.csv", warn=False,
    )  # fmt: skip
    assert from_file == by_precision
