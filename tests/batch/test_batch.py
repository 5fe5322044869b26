"""Batch scoring on Dask: every row back in order, dedup, bad rows, resume after kill -9."""

import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from simwidgets import score_pairs
from simwidgets.batch import score_file


def _pairs(n=600, seed=0):
    rng = np.random.default_rng(seed)
    queries = ["star wars", "the matrix", "taylor swift songs", "zelda game", "frozen soundtrack"]
    results = [
        "star wars: a new hope",
        "matrix reloaded",
        "swift's new album",
        "legend of zelda",
        "let it go frozen",
        "qqzzxx",
    ]
    left = [queries[i] for i in rng.zipf(1.5, n) % len(queries)]
    right = [results[i] for i in rng.integers(0, len(results), n)]
    return pd.DataFrame({"id": np.arange(n), "query": left, "result": right, "clicks": rng.integers(0, 9, n)})


def _write_csv(frame, path):
    frame.to_csv(path, index=False)
    with open(path, "ab") as fh:  # a row with invalid UTF-8 and a row with an empty query
        fh.write(b"9001,\xff\xfe broken,star wars,1\n9002,,matrix reloaded,2\n")


def test_scores_equal_score_pairs_and_keep_every_row(tmp_path, client):
    frame = _pairs()
    source = tmp_path / "pairs.csv"
    _write_csv(frame, source)
    summary = score_file(
        source,
        tmp_path / "out",
        "query",
        "result",
        ["glove-50d"],
        blocksize=4000,
        client=client,
        progress=False,
    )
    out = pd.read_parquet(tmp_path / "out")
    assert summary.partitions > 3 and summary.rows == len(frame) + 2 == len(out)
    assert out["id"].astype(int).tolist() == list(range(len(frame))) + [9001, 9002]
    assert list(out.columns) == ["id", "query", "result", "clicks", "score_glove-50d", "reason_glove-50d"]
    expected = score_pairs(frame["query"], frame["result"], ["glove-50d"])
    np.testing.assert_allclose(out["score_glove-50d"][: len(frame)], expected["score_glove-50d"], atol=1e-6)
    assert out["reason_glove-50d"].iloc[-2] == "left: not valid UTF-8"
    assert out["reason_glove-50d"].iloc[-1] == "left: empty or whitespace-only text"  # an empty CSV field
    assert summary.reasons["glove-50d"]["left: not valid UTF-8"] == 1
    assert summary.scored["glove-50d"] + sum(summary.reasons["glove-50d"].values()) == summary.rows
    assert "\ufffd" in out["query"].iloc[-2]  # undecodable bytes shown as U+FFFD, row kept


def test_parquet_folder_input_and_resume(tmp_path, client):
    folder = tmp_path / "in"
    folder.mkdir()
    frame = _pairs(300)
    for i in range(3):
        frame.iloc[i * 100 : (i + 1) * 100].to_parquet(folder / f"f{i}.parquet", index=False)
    out_dir = tmp_path / "out"
    first = score_file(folder, out_dir, "query", "result", ["glove-50d"], client=client, progress=False)
    assert first.partitions == 3 and first.resumed == 0
    (out_dir / "part-00001.parquet").unlink()
    (out_dir / ".part-00002.parquet.tmp-dead").write_bytes(b"partial")
    again = score_file(folder, out_dir, "query", "result", ["glove-50d"], client=client, progress=False)
    assert again.resumed == 2 and again.rows == 300
    assert not list(out_dir.glob(".*tmp*"))
    assert pd.read_parquet(out_dir)["id"].tolist() == list(range(300))


def test_a_different_job_is_refused_in_the_same_folder(tmp_path, client):
    frame = _pairs(50)
    frame.to_parquet(tmp_path / "a.parquet", index=False)
    score_file(
        tmp_path / "a.parquet",
        tmp_path / "out",
        "query",
        "result",
        ["glove-50d"],
        client=client,
        progress=False,
    )
    with pytest.raises(ValueError, match="different job"):
        score_file(
            tmp_path / "a.parquet",
            tmp_path / "out",
            "query",
            "result",
            ["tfidf"],
            client=client,
            progress=False,
        )


def test_bad_arguments(tmp_path, client):
    _pairs(10).to_parquet(tmp_path / "a.parquet", index=False)
    with pytest.raises(ValueError, match="not in the input"):
        score_file(tmp_path / "a.parquet", tmp_path / "o", "nope", "result", ["glove-50d"], client=client)
    with pytest.raises(FileNotFoundError):
        score_file(tmp_path / "missing*.csv", tmp_path / "o", "q", "r", ["glove-50d"], client=client)
    with pytest.raises(ValueError, match="unknown model spec"):
        score_file(tmp_path / "a.parquet", tmp_path / "o", "query", "result", ["nope"], client=client)


def test_specs_that_cannot_load_fail_before_any_cluster_starts(tmp_path, monkeypatch):
    import simwidgets.batch.runner as runner

    def no_cluster(*args, **kwargs):
        raise AssertionError("a cluster was started for a job that cannot run")

    monkeypatch.setattr(runner, "_client", no_cluster)
    _pairs(10).to_parquet(tmp_path / "a.parquet", index=False)
    cases = [
        (["nope"], ValueError, "unknown model spec"),
        (["glove:"], ValueError, "names no path"),
        ([f"glove:{tmp_path}/missing.txt"], FileNotFoundError, "missing.txt"),
        ([f"st:{tmp_path}/no-model"], FileNotFoundError, "no-model"),
        (["glove-50d?pooling=siff"], ValueError, r"pooling='siff' in model spec .* is not one of mean, sif"),
        (["glove-50d?poolin=sif"], ValueError, r"unknown option 'poolin' .*did you mean 'pooling'"),
        ([f"ulmfit:{tmp_path}"], FileNotFoundError, "lacks weights.pth and vocab.json"),
    ]
    for specs, error, message in cases:
        with pytest.raises(error, match=message):
            score_file(tmp_path / "a.parquet", tmp_path / "o", "query", "result", specs)


def test_a_model_that_fails_to_load_on_the_workers_stops_the_job_with_its_error(tmp_path, client):
    """Specs pass the client's quick check; two models with one name only show when a worker
    loads them, and that error is what the user sees."""
    _pairs(10).to_parquet(tmp_path / "a.parquet", index=False)
    with pytest.raises(ValueError, match="share the name"):
        score_file(
            tmp_path / "a.parquet",
            tmp_path / "o2",
            "query",
            "result",
            ["glove-50d", "glove-50d?name=glove-50d&sif_a=0.01"],
            client=client,
        )


def _cli(*args, **kwargs):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "simwidgets", "score", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        **kwargs,
    )


def test_kill_9_then_rerun_gives_the_uninterrupted_output(tmp_path):
    frame = _pairs(3000, seed=3)
    source = tmp_path / "pairs.csv"
    _write_csv(frame, source)
    common = [
        "--left",
        "query",
        "--right",
        "result",
        "-m",
        "glove-50d",
        "--workers",
        "1",
        "--blocksize",
        "4000",
        "-q",
    ]
    reference = _cli(str(source), "-o", str(tmp_path / "ref"), *common)
    assert reference.wait(timeout=300) == 0, reference.stdout.read().decode()

    out_dir = tmp_path / "killed"
    job = _cli(str(source), "-o", str(out_dir), *common)
    deadline = time.time() + 180
    while time.time() < deadline and len(list(out_dir.glob("part-*.parquet"))) < 3:
        time.sleep(0.05)
    os.killpg(job.pid, signal.SIGKILL)  # the client, the local scheduler and its worker
    job.wait()
    n_parts = len(list((tmp_path / "ref").glob("part-*.parquet")))
    assert 3 <= len(list(out_dir.glob("part-*.parquet"))) < n_parts, "the kill came too late to test"

    rerun = _cli(str(source), "-o", str(out_dir), *common)
    output = rerun.communicate(timeout=300)[0].decode()
    assert rerun.returncode == 0, output
    assert "already done (resumed)" in output
    pd.testing.assert_frame_equal(pd.read_parquet(out_dir), pd.read_parquet(tmp_path / "ref"))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_existing_scheduler_and_worker_on_localhost(tmp_path):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    scheduler = subprocess.Popen(
        [
            os.path.join(bin_dir, "dask"),
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-dashboard",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [
            os.path.join(bin_dir, "dask"),
            "worker",
            address,
            "--nworkers",
            "1",
            "--nthreads",
            "1",
            "--no-dashboard",
            "--host",
            "127.0.0.1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from distributed import Client

        with Client(address, timeout=60) as c:
            c.wait_for_workers(1, timeout=60)
        frame = _pairs(200)
        frame.to_parquet(tmp_path / "a.parquet", index=False)
        summary = score_file(
            tmp_path / "a.parquet",
            tmp_path / "out",
            "query",
            "result",
            ["glove-50d"],
            scheduler=address,
            progress=False,
        )
        assert summary.rows == 200 and summary.scored["glove-50d"] > 0
        assert pd.read_parquet(tmp_path / "out")["id"].tolist() == list(range(200))
    finally:
        for proc in (worker, scheduler):
            proc.terminate()
            proc.wait(timeout=30)


def test_csv_blocks_read_like_pandas_reads_the_whole_file(tmp_path, client):
    """Quoted commas and quotes, a byte-order mark, CRLF line ends, empty fields and a column
    named like a number survive the cut into blocks; the text columns stay text and the others
    take the types pandas infers on the whole file (ids "0007" become 7, as pandas reads them)."""
    rng = np.random.default_rng(5)
    words = ['star "wars"', "matrix, reloaded", "zelda", "", "007", "1e3", "naïve café"]
    frame = pd.DataFrame(
        {
            "id": [f"{i:04d}" for i in range(400)],
            "query": [words[i] for i in rng.integers(0, len(words), 400)],
            "result": [words[i] for i in rng.integers(0, len(words), 400)],
            "2024": [str(x) if x % 3 else "" for x in rng.integers(0, 9, 400)],
        }
    )
    source = tmp_path / "pairs.csv"
    source.write_bytes(b"\xef\xbb\xbf" + frame.to_csv(index=False, lineterminator="\r\n").encode())
    summary = score_file(
        source, tmp_path / "out", "query", "result", ["glove-50d"], blocksize=700, client=client, progress=False
    )
    out = pd.read_parquet(tmp_path / "out")
    whole = pd.read_csv(
        source, dtype={"query": object, "result": object}, keep_default_na=False, na_values=[""], encoding="utf-8-sig"
    )
    assert summary.partitions > 10 and len(out) == len(whole) == 400
    assert whole["id"].dtype == out["id"].dtype == np.int64 and whole["2024"].dtype == out["2024"].dtype == float
    pd.testing.assert_frame_equal(out[list(whole.columns)], whole, check_dtype=False)
    expected = score_pairs(
        whole["query"].fillna(""), whole["result"].fillna(""), ["glove-50d"]
    )  # empty fields: empty texts
    np.testing.assert_allclose(out["score_glove-50d"], expected["score_glove-50d"], atol=1e-6)
    assert out["reason_glove-50d"].fillna("-").tolist() == expected["reason_glove-50d"].fillna("-").tolist()


def test_parquet_with_a_stored_index_and_non_text_values(tmp_path, client):
    frame = pd.DataFrame({"query": [1, 2, 3], "result": ["cat", "dog", None]}, index=[10, 11, 12])
    frame.to_parquet(tmp_path / "a.parquet")  # the pandas index is stored as a column
    score_file(
        tmp_path / "a.parquet", tmp_path / "out", "query", "result", ["glove-50d"], client=client, progress=False
    )
    out = pd.read_parquet(tmp_path / "out")
    assert list(out.columns) == ["query", "result", "score_glove-50d", "reason_glove-50d"]
    assert out["reason_glove-50d"].tolist()[:2] == ["left: not a string (int)"] * 2
    assert out["reason_glove-50d"].iloc[2] == "left: not a string (int); right: missing text (None or NaN)"


def test_arrow_and_python_factorizing_agree():
    import pyarrow as pa

    from simwidgets.batch.inputs import text_codes
    from simwidgets.texts import deduplicate

    table = pa.table({"l": ["a", None, "b", "a"], "r": ["b", "c", None, "a"]})
    codes, uniques = text_codes(table, "l", "r")  # in Arrow
    python_codes, python_uniques = deduplicate(table["l"].to_pylist() + table["r"].to_pylist())
    as_texts = [uniques[c] if c >= 0 else None for c in codes]
    assert as_texts == [python_uniques[c] if c >= 0 else None for c in python_codes]
    assert as_texts == ["a", None, "b", "a", "b", "c", None, "a"]


def test_default_blocksize_follows_the_input_size(tmp_path):
    from simwidgets.batch.runner import default_blocksize

    def sized(name, size):
        path = tmp_path / name
        with open(path, "wb") as fh:
            fh.truncate(size)  # a sparse file: only its size matters
        return path

    assert default_blocksize([sized("small.csv", 5_000)]) == 1_000_000
    assert default_blocksize([sized("mid.csv", 64_000_000)]) == 2_000_000
    assert default_blocksize([sized("a.csv", 300_000_000), sized("b.csv", 300_000_000)]) == 16_000_000


def test_a_line_longer_than_the_block_size_is_one_block(tmp_path, client):
    """Blocks are cut at record ends only: a line longer than the block size is never split
    and no block is left empty."""
    source = tmp_path / "pairs.csv"
    long_text = "star wars " * 60
    source.write_text(f"query,result\ncat,dog\nzelda,{long_text}\nmatrix,frozen\n")
    summary = score_file(
        source, tmp_path / "out", "query", "result", ["glove-50d"], blocksize=100, client=client, progress=False
    )
    out = pd.read_parquet(tmp_path / "out")
    assert summary.partitions == 2 and summary.rows == len(out) == 3
    assert out["query"].tolist() == ["cat", "zelda", "matrix"] and out["score_glove-50d"].notna().all()


def test_malformed_csv_stops_the_job_saying_where_when_asked(tmp_path, client):
    source = tmp_path / "ragged.csv"
    source.write_text("query,result\ncat,dog\nzelda,link,extra\n")
    with pytest.raises(ValueError, match=r"ragged.csv: malformed row: 3 fields where the header has 2, at byte 21"):
        score_file(source, tmp_path / "out", "query", "result", ["glove-50d"], on_bad_rows="fail", client=client)


class _Counting:
    """A model family for the threaded-worker test: counts each text it embeds and the
    most calls it was in at once."""

    seen: dict = {}
    active = peak = 0

    @classmethod
    def build(cls, target=None, **options):
        import threading

        from simwidgets.models import Embedder

        guard = threading.Lock()

        class Counting(Embedder):
            name = "counting"
            sort_by_length = False

            def embed_batch(self, texts):
                with guard:
                    cls.active += 1
                    cls.peak = max(cls.peak, cls.active)
                time.sleep(0.02)  # long enough for another thread to arrive meanwhile
                for text in texts:
                    cls.seen[text] = cls.seen.get(text, 0) + 1
                vectors = np.array([[len(t), t.count(" ") + 1.0, 1.0] for t in texts], dtype=np.float32)
                with guard:
                    cls.active -= 1
                return vectors, None

        return Counting(**options)


def test_threads_of_one_process_share_the_model_and_score_like_processes(tmp_path):
    """The default local worker is threads of this process: partitions run at once, the model
    runs in one of them at a time, each distinct text is embedded once per job (one shared
    cache), and the output equals score_pairs and a job on worker processes."""
    from simwidgets.models import register_family

    register_family("counting-test", _Counting.build, "counts embedded texts (a test family)")
    rng = np.random.default_rng(5)
    words = [f"w{i}" for i in range(300)]
    texts = [" ".join(rng.choice(words, rng.integers(1, 4))) for _ in range(400)]
    frame = pd.DataFrame({"query": [texts[i] for i in rng.zipf(1.3, 6000) % 400], "result": rng.choice(texts, 6000)})
    frame.loc[7, "query"] = ""  # a bad row keeps its reason
    frame.to_csv(tmp_path / "pairs.csv", index=False)
    summary = score_file(
        tmp_path / "pairs.csv",
        tmp_path / "out",
        "query",
        "result",
        ["counting-test"],
        workers=4,
        blocksize=4_000,
        progress=False,
    )
    assert summary.partitions > 8
    out = pd.read_parquet(tmp_path / "out")
    expected = score_pairs(out["query"].fillna(""), out["result"].fillna(""), [_Counting.build()])  # empty CSV fields
    assert len(out) == len(frame) and out["result"].tolist() == frame["result"].tolist()
    assert out["query"].fillna("").tolist() == frame["query"].tolist()
    np.testing.assert_allclose(out["score_counting"], expected["score_counting"], rtol=1e-6)
    assert out["reason_counting"][7] == expected["reason_counting"][7] and out["reason_counting"][7]
    distinct = set(frame["query"]) | set(frame["result"])
    assert set(_Counting.seen) == distinct - {""}
    assert max(_Counting.seen.values()) == 2  # once by the job, once by score_pairs' own model
    assert _Counting.peak == 1  # the model never ran in two threads at once

    threaded = score_file(
        tmp_path / "pairs.csv",
        tmp_path / "t",
        "query",
        "result",
        ["glove-50d"],
        workers=2,
        blocksize=4_000,
        progress=False,
    )
    processes = score_file(
        tmp_path / "pairs.csv",
        tmp_path / "p",
        "query",
        "result",
        ["glove-50d"],
        workers=2,
        blocksize=4_000,
        processes=True,
        progress=False,
    )
    assert threaded.rows == processes.rows == len(frame) and threaded.reasons == processes.reasons
    from simwidgets.batch.outputs import summarize  # counts from the tasks equal counts read back

    again = summarize(tmp_path / "t", threaded.partitions, threaded.partitions, 0.0)
    assert (again.rows, again.scored, again.reasons) == (threaded.rows, threaded.scored, threaded.reasons)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t"), pd.read_parquet(tmp_path / "p"))


def test_a_device_applies_to_the_models_that_run_on_one(tmp_path, client):
    """``--device`` goes to transformers; word vectors and TF-IDF, which run on no device,
    are scored beside them instead of failing the job with an unknown option."""
    _pairs(40).to_parquet(tmp_path / "a.parquet", index=False)
    summary = score_file(
        tmp_path / "a.parquet",
        tmp_path / "o",
        "query",
        "result",
        ["glove-50d", "tfidf"],
        device="cpu",
        client=client,
        progress=False,
    )
    assert summary.rows == 40 and set(summary.scored) == {"glove-50d", "tfidf"}
    with pytest.raises(ValueError, match="not cpu, cuda"):
        score_file(tmp_path / "a.parquet", tmp_path / "o2", "query", "result", ["minilm"], device="gpu")
