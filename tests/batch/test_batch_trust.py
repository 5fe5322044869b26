"""Batch jobs on hostile and broken inputs: one job per folder, no duplicate columns, huge and
compressed records bounded, empty inputs, damaged folders and full disks as one-line errors."""

from __future__ import annotations

import gzip
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import zlib

import pandas as pd
import pytest

from simwidgets.cli import main

pytest.importorskip("distributed", reason="batch scoring needs the [scale] extra (Dask)")

ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def _pairs(path, n=40, **extra):
    frame = pd.DataFrame({"query": [f"cat {i}" for i in range(n)], "result": ["a dog"] * n, **extra})
    frame.to_csv(path, index=False)
    return path


def _score(source, out, *more, model="glove-50d"):
    argv = ["score", str(source), "-o", str(out), "--left", "query", "--right", "result", "-q", "--workers", "1"]
    return main([*argv, "-m", model, *more])


# A job whose partitions after the first wait until the test says go: the job is then surely
# running (its folder claimed) while the second job starts.
SLOW_JOB = """
import os, sys, time
import simwidgets.batch.runner as runner
score_partition = runner.score_partition
def held(task):
    deadline = time.time() + 120
    while task.index and not os.path.exists(os.environ["GO_FILE"]) and time.time() < deadline:
        time.sleep(0.05)
    return score_partition(task)
runner.score_partition = held
from simwidgets.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _held_job(source, out, go, **popen):
    """A real ``simwidgets score`` job of GloVe into ``out``, running, with its first part
    written and the others held until the file ``go`` exists."""
    common = ["score", str(source), "-o", str(out), "--left", "query", "--right", "result", "-q"]
    job = subprocess.Popen(
        [sys.executable, "-c", SLOW_JOB, *common, "-m", "glove-50d", "--workers", "1", "--blocksize", "600"],
        env={**ENV, "GO_FILE": str(go)},
        **popen,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list(out.glob("part-*.parquet")):
        time.sleep(0.05)
    return job


def test_two_jobs_into_one_folder_the_second_fails_at_once_naming_it(tmp_path):
    source = _pairs(tmp_path / "pairs.csv", n=400)
    out = tmp_path / "out"
    common = ["score", str(source), "-o", str(out), "--left", "query", "--right", "result", "-q"]
    first = _held_job(source, out, tmp_path / "go", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert first.poll() is None, first.communicate()
    started = time.time()
    second = subprocess.run(
        [sys.executable, "-m", "simwidgets", *common, "-m", "tfidf"], env=ENV, capture_output=True, text=True
    )
    assert second.returncode == 2 and time.time() - started < 30
    assert f"another simwidgets score job is writing into {out}" in second.stderr
    assert "Traceback" not in second.stderr
    (tmp_path / "go").touch()
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    scored = pd.read_parquet(out)
    assert len(scored) == 400 and "score_glove-50d" in scored and "score_tfidf" not in scored
    assert _score(source, out, "--blocksize", "600") == 0  # free again once the job ends: the same job resumes


def test_input_columns_named_like_the_output_are_refused_before_any_work(tmp_path, capsys):
    source = _pairs(tmp_path / "pairs.csv")
    assert _score(source, tmp_path / "once") == 0
    again = tmp_path / "scored.parquet"
    pd.read_parquet(tmp_path / "once").to_parquet(again)  # a scored file, scored again
    assert _score(again, tmp_path / "twice") == 2
    err = capsys.readouterr().err
    assert "already has the column(s) ['score_glove-50d', 'reason_glove-50d']" in err
    assert not list((tmp_path / "twice").glob("part-*"))
    # a name only the loaded model knows is caught by the first partition, before it writes
    named = tmp_path / "named.csv"
    _pairs(named, score_mine=[0.1] * 40)
    assert _score(named, tmp_path / "named", model="glove-50d?name=mine") == 2
    assert "['score_mine']" in capsys.readouterr().err
    assert not list((tmp_path / "named").glob("part-*"))


def test_a_record_of_many_megabytes_is_scored_like_any_other(tmp_path):
    source = tmp_path / "big.csv"
    long_text = "word " * 1_000_000  # 5 MB in one field: Arrow's 1 MB block cannot hold it
    pd.DataFrame({"query": ["cat", long_text, "dog"], "result": ["kitten", "word", "puppy"]}).to_csv(
        source, index=False
    )
    assert _score(source, tmp_path / "out") == 0
    out = pd.read_parquet(tmp_path / "out")
    assert len(out) == 3 and out["query"].iloc[1] == long_text and out["score_glove-50d"].notna().all()


def test_header_only_inputs_give_empty_parts(tmp_path):
    (tmp_path / "alone.csv").write_text("query,result\n")
    assert _score(tmp_path / "alone.csv", tmp_path / "a") == 0
    assert list(pd.read_parquet(tmp_path / "a").columns) == ["query", "result", "score_glove-50d", "reason_glove-50d"]
    folder = tmp_path / "folder"
    folder.mkdir()
    _pairs(folder / "1.csv", n=5)
    (folder / "2.csv").write_text("query,result\n")
    assert _score(folder, tmp_path / "b") == 0 and len(pd.read_parquet(tmp_path / "b")) == 5
    with gzip.open(tmp_path / "empty.csv.gz", "wt") as fh:
        fh.write("query,result\n")
    assert _score(tmp_path / "empty.csv.gz", tmp_path / "c") == 0 and len(pd.read_parquet(tmp_path / "c")) == 0


def test_compressed_inputs_are_read_in_bounded_records(tmp_path, capsys):
    # 100 MB with no line break, compressed to a few kB: the header read is bounded and linear
    no_lines = tmp_path / "nolines.csv.gz"
    no_lines.write_bytes(gzip.compress(b"x" * 100_000_000, compresslevel=1))
    started = time.perf_counter()
    assert _score(no_lines, tmp_path / "a", "--max-record-bytes", "10000000") == 2
    assert time.perf_counter() - started < 30
    err = capsys.readouterr().err
    assert str(no_lines) in err and "longer than 10,000,000 bytes" in err and "--max-record-bytes" in err
    # a header, then a gigabyte of zeros in one record: stops at the bound, not at the memory's end
    bomb = tmp_path / "bomb.csv.gz"
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(bomb, "wb") as fh:
        fh.write(compressor.compress(b"query,result\ncat,"))
        zeros = bytes(1 << 24)
        for _ in range(64):
            fh.write(compressor.compress(zeros))
        fh.write(compressor.flush())
    assert bomb.stat().st_size < 5_000_000
    assert _score(bomb, tmp_path / "b", "--max-record-bytes", "20000000") == 2
    assert "a record is longer than 20,000,000 bytes" in capsys.readouterr().err


def test_files_that_are_not_what_their_names_say_are_one_line_errors(tmp_path, capsys):
    fake = tmp_path / "fake.csv.gz"
    fake.write_text("query,result\ncat,dog\n")  # plain text named .gz
    assert _score(fake, tmp_path / "a") == 2
    err = capsys.readouterr().err
    assert "cannot be read as gzip" in err and str(fake) in err and "Traceback" not in err
    cut = tmp_path / "cut.csv.gz"
    whole = gzip.compress(("query,result\n" + "cat,dog\n" * 50_000).encode())
    cut.write_bytes(whole[: len(whole) // 2])  # a download cut short
    assert _score(cut, tmp_path / "b") == 2
    assert "cannot be read as gzip" in capsys.readouterr().err


def test_a_damaged_manifest_or_part_is_named_with_the_fix(tmp_path, capsys):
    source = _pairs(tmp_path / "pairs.csv")
    out = tmp_path / "out"
    assert _score(source, out) == 0
    part = out / "part-00000.parquet"
    part.write_bytes(part.read_bytes()[:50])
    assert _score(source, out) == 2
    err = capsys.readouterr().err
    assert "part-00000.parquet" in err and "Delete them and run the same command again" in err
    part.unlink()
    assert _score(source, out) == 0 and len(pd.read_parquet(out)) == 40  # just that part scored again
    manifest = out / "_manifest.json"
    manifest.write_text(manifest.read_text()[:30])
    assert _score(source, out) == 2
    err = capsys.readouterr().err
    assert "_manifest.json is damaged" in err and f"delete the folder {out}" in err


def test_a_full_disk_is_one_line_not_a_traceback(tmp_path):
    source = _pairs(tmp_path / "pairs.csv", n=3000)

    def small_files():  # no file over 8 kB, as a full disk would stop it (EFBIG instead of ENOSPC)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))

    argv = ["score", str(source), "-o", str(tmp_path / "out"), "--left", "query", "--right", "result", "-q"]
    proc = subprocess.run(
        [sys.executable, "-m", "simwidgets", *argv, "-m", "glove-50d", "--workers", "1"],
        env=ENV,
        capture_output=True,
        text=True,
        preexec_fn=small_files,
    )
    assert proc.returncode == 1, proc.stderr
    assert "error: no room left" in proc.stderr and "run the same command again to resume" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_cluster_on_a_port_in_use_and_dashboards_on_this_machine_only(tmp_path):
    import psutil

    from simwidgets.batch.cluster import dashboard_link, local_cluster

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "simwidgets", "cluster", "--port", str(port)],
            env=ENV,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 2 and f"port {port} on 127.0.0.1 is in use" in proc.stderr
    assert "Traceback" not in proc.stderr
    for processes in (None, True):
        cluster = local_cluster(workers=1, processes=processes)
        try:
            me = psutil.Process()
            listening = {
                c.laddr.ip
                for p in [me, *me.children(recursive=True)]
                for c in p.net_connections()
                if c.status == psutil.CONN_LISTEN
            }
            assert listening == {"127.0.0.1"}, listening
            assert dashboard_link(cluster).startswith("http://127.0.0.1:")
        finally:
            cluster.close()


def test_neighbours_k_0_is_a_clear_error(capsys):
    assert main(["neighbours", "frog", "-m", "glove-50d", "-k", "0"]) == 2
    err = capsys.readouterr().err
    assert "-k must be at least 1" in err and "vocabulary" not in err


def test_an_unfinished_job_folder_is_told_apart_from_a_finished_one(tmp_path, capsys):
    from simwidgets.evaluation.datasets import read_table

    source = _pairs(tmp_path / "pairs.csv", n=200)
    out = tmp_path / "out"
    job = _held_job(source, out, tmp_path / "never")
    job.send_signal(signal.SIGKILL)  # kill -9 mid-job
    job.wait(30)
    assert not (out / "_SUCCESS").exists() and 0 < len(pd.read_parquet(out)) < 200  # pandas does not check
    with pytest.raises(ValueError, match=r"unfinished simwidgets score job \(1 of \d+ parts, no _SUCCESS\)"):
        read_table(out)
    assert len(read_table(out, allow_partial=True)) < 200
    threshold = ["threshold", str(out), "--score", "score_glove-50d", "-t", "0.5"]
    assert main(threshold) == 2 and "Run the same `simwidgets score` command again" in capsys.readouterr().err
    assert main([*threshold, "--partial"]) == 0
    capsys.readouterr()
    assert _score(source, out, "--blocksize", "600") == 0  # the rerun finishes it
    assert (out / "_SUCCESS").is_file() and len(read_table(out)) == 200
    assert main(threshold) == 0


def test_an_empty_csv_field_is_an_empty_text_and_a_parquet_null_a_missing_one(tmp_path):
    (tmp_path / "pairs.csv").write_text('query,result\ncat,dog\n,dog\n"",dog\n')
    assert _score(tmp_path / "pairs.csv", tmp_path / "csv") == 0
    out = pd.read_parquet(tmp_path / "csv")
    assert out["reason_glove-50d"].tolist()[1:] == ["left: empty or whitespace-only text"] * 2
    assert out["query"].isna().tolist() == [False, True, True]  # the column itself reads as pandas reads it
    pd.DataFrame({"query": ["cat", None], "result": ["dog", "dog"]}).to_parquet(tmp_path / "pairs.parquet")
    assert _score(tmp_path / "pairs.parquet", tmp_path / "pq") == 0
    assert pd.read_parquet(tmp_path / "pq")["reason_glove-50d"].iloc[1] == "left: missing text (None or NaN)"


def test_a_job_shows_the_texts_it_has_embedded_while_partitions_run(tmp_path, capfd):
    from simwidgets.batch import score_file
    from simwidgets.models.base import texts_embedded

    before = texts_embedded()
    import uuid

    fresh = uuid.uuid4().hex  # texts no earlier test of this process has embedded (no cache holds them)
    pd.DataFrame({"query": [f"cat {i} {fresh}" for i in range(300)], "result": [f"a dog {fresh}"] * 300}).to_csv(
        tmp_path / "pairs.csv", index=False
    )
    score_file(tmp_path / "pairs.csv", tmp_path / "out", "query", "result", ["glove-50d"], workers=1, progress=True)
    assert texts_embedded() > before  # every model's embedding is counted for the process
    err = capfd.readouterr().err
    assert "texts embedded" in err and "rows" in err and "/s" in err
    # of the distinct texts taken up to embed: 300 distinct queries and one result, no cache held them
    import re

    done, todo = map(lambda s: int(s.replace(",", "")), re.findall(r"texts embedded ([\d,]+) of ([\d,]+)", err)[-1])
    assert done == todo == 301
    # and the time left, by the partitions' bytes, at the pace so far (tqdm's count of partitions is not shown)
    assert "left at the pace so far" in err
