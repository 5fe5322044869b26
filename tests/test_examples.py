"""The example notebooks run (in the Binder environment, see ``example_env``), and
`simwidgets demo` serves them."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(p.name for p in EXAMPLES.glob("*.ipynb"))


def test_examples_are_committed_without_outputs():
    import nbformat

    assert "quickstart.ipynb" in NOTEBOOKS
    for name in NOTEBOOKS:
        nb = nbformat.read(EXAMPLES / name, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{name} has outputs"


RUN = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": "."}}).execute()
errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
print("errors:", len(errors))
for e in errors:
    print(e.ename, e.evalue)
"""


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_example_notebook_runs(name, example_env):
    python, folder = example_env
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PATH": f"{Path(python).parent}:{os.environ['PATH']}",
        "SIMWIDGETS_EXAMPLES_QUICK": "1",  # the training examples' small settings
        "SIMWIDGETS_CACHE_DIR": str(Path(folder) / ".simwidgets-cache"),  # trained models stay in the test's folder
    }
    result = subprocess.run([python, "-c", RUN, name], cwd=folder, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0 and "errors: 0" in result.stdout, result.stdout[-3000:] + result.stderr[-3000:]


def _port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_demo(folder, port):
    env = {**os.environ, "JUPYTER_TOKEN": "t0ken", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "simwidgets", "demo", "--dir", str(folder), "--port", str(port), "--no-browser"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.time() + 120
    while True:
        try:
            url = f"http://127.0.0.1:{port}/api/contents/bert_vocabulary.ipynb?token=t0ken"
            with urllib.request.urlopen(url, timeout=5) as response:
                return proc, json.loads(response.read())
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                if proc.poll() is None:
                    os.killpg(proc.pid, 9)
                log = proc.stdout.read().decode()[-3000:]
                raise AssertionError("the demo server did not answer:\n" + log) from None
            time.sleep(0.5)


def _session_processes(sid: int) -> list[int]:
    import psutil

    out = []
    for p in psutil.process_iter(["pid"]):
        try:
            if os.getsid(p.pid) == sid:
                out.append(p.pid)
        except (ProcessLookupError, PermissionError):
            pass
    return out


def test_demo_copies_examples_and_serves_the_quickstart(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "quickstart.ipynb").write_text("{}")  # an edited copy: must be kept
    port = _port()
    proc, model = _start_demo(folder, port)
    try:
        assert model["type"] == "notebook" and model["content"]["cells"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab/tree/quickstart.ipynb?token=t0ken") as page:
            assert page.status == 200
        assert (folder / "quickstart.ipynb").read_text() == "{}"
        assert (folder / "bert_vocabulary.ipynb").exists()
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def test_sigterm_to_the_demo_stops_jupyterlab_and_frees_the_port(tmp_path):
    """SIGTERM to the demo's own process only (as a service manager sends it, not to the
    whole group): nothing of the session is left running and the port can be bound again."""
    import signal
    import socket

    port = _port()
    proc, _ = _start_demo(tmp_path / "demo", port)
    try:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        deadline = time.time() + 30
        while _session_processes(proc.pid) and time.time() < deadline:
            time.sleep(0.2)
        assert _session_processes(proc.pid) == [], "JupyterLab outlived the demo"
        with socket.socket() as s:  # the port is free again: a new server (which sets SO_REUSEADDR, as
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # Tornado does) can listen on it
            s.bind(("127.0.0.1", port))
            s.listen()
    finally:
        for pid in _session_processes(proc.pid):
            os.kill(pid, 9)
