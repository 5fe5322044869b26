"""simwidgets cluster: a local cluster that score jobs reuse, its models loaded once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd

import simwidgets as sw
from simwidgets.batch.cluster import loaded_models


def test_jobs_reuse_a_running_cluster_with_its_models_loaded(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "simwidgets", "cluster", "--workers", "1", "--port", "0", "--preload", "glove-50d"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # Ctrl-C must still stop it
    )
    try:
        lines = []
        deadline = time.time() + 120
        while time.time() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("scheduler: "):
                break
        address = lines[-1].split()[-1]
        assert address.startswith("tcp://") and "glove-50d loaded on each" in "".join(lines)
        from distributed import Client

        with Client(address) as client:
            assert list(client.run(loaded_models).values()) == [["glove-50d"]]  # loaded before any job
        pairs = pd.DataFrame(
            {"query": ["a cat", "a dog", "frozen", None], "result": ["a kitten", "a car", "frozen ii", "x"]}
        )
        pairs.to_csv(tmp_path / "pairs.csv", index=False)
        for run in ("first", "second"):
            summary = sw.score_file(
                tmp_path / "pairs.csv",
                tmp_path / run,
                "query",
                "result",
                ["glove-50d"],
                scheduler=address,
                progress=False,
            )
            assert summary.rows == 4
        out = pd.read_parquet(tmp_path / "second")
        expected = sw.score_pairs(pairs["query"], pairs["result"], ["glove-50d"])
        np.testing.assert_allclose(out["score_glove-50d"], expected["score_glove-50d"], rtol=1e-6)
        assert out["reason_glove-50d"].iloc[3] == "left: empty or whitespace-only text"  # an empty CSV field
        with Client(address) as client:
            assert list(client.run(loaded_models).values()) == [["glove-50d"]]  # still the one loaded model
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "simwidgets cluster: stopped" in err


def test_workers_are_threads_unless_processes_are_asked_for_or_needed():
    """Threads of this process by default; worker processes when asked, or for several GPUs
    (a process sees one card); threads asked for with several GPUs are refused with the reason."""
    import pytest

    from simwidgets.batch.cluster import uses_processes

    assert not uses_processes(None, None) and not uses_processes("cuda", None, 1)
    assert uses_processes(None, True) and uses_processes("cuda", None, 2) and uses_processes("cuda", True, 1)
    with pytest.raises(ValueError, match="2 GPUs need one worker process each"):
        uses_processes("cuda", False, 2)
