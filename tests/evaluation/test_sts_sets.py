"""The standard STS sets from local files: SemEval 2012-2016 layouts and SICK, pooled per year."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from simwidgets import evaluate_sts_dir, score_pairs
from simwidgets.evaluation import read_sts_tsv
from simwidgets.evaluation.sts_sets import find_sts_sets

PAIRS = [
    ("A man is playing a guitar.", "A man plays the guitar.", 4.8),
    ("A woman is slicing an onion.", "A man is riding a horse.", 0.2),
    ("The cat sat on the mat.", "A cat is sitting on a mat.", 4.4),
    ("Stocks fell sharply today.", "The market dropped.", 3.1),
    ("A dog runs in the park.", "The weather is cold.", 0.4),
    ("Two men are talking.", "Two people speak.", 3.6),
]


@pytest.fixture
def sts_dir(tmp_path):
    (tmp_path / "2012").mkdir()
    lines = [f"{s}\t{a}\t{b}" for a, b, s in PAIRS[:4]]
    (tmp_path / "2012" / "MSRpar.test.tsv").write_text("\n".join(lines[:2]) + "\n\tan unscored\tline\n")
    (tmp_path / "2012" / "OnWN.test.tsv").write_text("\n".join(lines[2:]) + "\n")
    (tmp_path / "2012" / "MSRpar.train.tsv").write_text("5.0\tnot\ta test file\n")  # not counted
    (tmp_path / "2016.headlines.test.tsv").write_text("\n".join(f"{s}\t{a}\t{b}" for a, b, s in PAIRS) + "\n")
    sick = ["pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment"]
    sick += [f"{i}\t{a}\t{b}\t{1 + s * 0.8:.2f}\tNEUTRAL" for i, (a, b, s) in enumerate(PAIRS)]
    (tmp_path / "SICK_test_annotated.txt").write_text("\n".join(sick) + "\n")
    return tmp_path


def test_files_are_found_in_both_layouts_and_only_test_files_count(sts_dir):
    sets = find_sts_sets(sts_dir)
    assert list(sets) == ["STS12", "STS16", "SICK"]
    assert [p.name for p in sets["STS12"]] == ["MSRpar.test.tsv", "OnWN.test.tsv"]
    frame = read_sts_tsv(sts_dir / "2012" / "MSRpar.test.tsv")
    assert len(frame) == 2 and frame.attrs["skipped"] == 1 and frame.score.tolist() == [4.8, 0.2]


def test_each_year_is_pooled_over_its_pairs_as_mteb_does(sts_dir):
    table = evaluate_sts_dir(sts_dir, models=["glove-50d", "tfidf"])
    assert table.index.tolist() == ["STS12", "STS16", "SICK"]
    assert table.loc["STS12", "pairs"] == 4 and table.loc["STS12", "skipped"] == 1 and table.loc["STS12", "files"] == 2
    left, right, gold = zip(*PAIRS[:4])
    cosine = score_pairs(list(left), list(right), models=["glove-50d"])["score_glove-50d"]
    assert table.loc["STS12", "glove-50d"] == pytest.approx(stats.spearmanr(cosine, gold).statistic)
    assert np.isfinite(table[["glove-50d", "tfidf"]].to_numpy()).all()


def test_the_command_line_prints_the_table(sts_dir):
    out = subprocess.run(
        [sys.executable, "-m", "simwidgets", "evaluate", "--sts-dir", str(sts_dir), "-m", "glove-50d"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "STS12" in out.stdout and "SICK" in out.stdout and "MTEB" in out.stdout


def test_bad_folders_and_lines_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no STS files"):
        evaluate_sts_dir(tmp_path)
    with pytest.raises(FileNotFoundError, match="not found"):
        evaluate_sts_dir(tmp_path / "nope")
    (tmp_path / "2013.x.test.tsv").write_text("4.0\tonly two fields\n")
    with pytest.raises(ValueError, match="line 1"):
        read_sts_tsv(tmp_path / "2013.x.test.tsv")


def test_sick_whole_file_and_its_splits_count_each_pair_once(tmp_path, glove):
    from simwidgets.evaluation import evaluate_sts_dir

    header = "pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment"
    rows = [f"{i}\t{a}\t{b}\t{1 + s * 0.8:.2f}\tNEUTRAL" for i, (a, b, s) in enumerate(PAIRS)]
    (tmp_path / "SICK_all.txt").write_text("\n".join([header, *rows]) + "\n")
    (tmp_path / "SICK_train.txt").write_text("\n".join([header, *rows[:3]]) + "\n")
    (tmp_path / "SICK_test_annotated.txt").write_text("\n".join([header, *rows[3:]]) + "\n")
    table = evaluate_sts_dir(tmp_path, models=["glove-50d"])
    row = table.loc["SICK"]
    assert row["pairs"] == len(PAIRS) and row["files"] == 1 and row["file_names"] == "SICK_all.txt"
    assert row["repeated"] == len(PAIRS)
    (tmp_path / "SICK_all.txt").unlink()  # the splits alone: every pair once, both files used
    row = evaluate_sts_dir(tmp_path, models=["glove-50d"]).loc["SICK"]
    assert row["pairs"] == len(PAIRS) and row["files"] == 2
