"""``simwidgets demo``: JupyterLab on a copy of the example notebooks, opening the quickstart."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def examples_dir() -> Path:
    """The example notebooks: shipped in the wheel (``simwidgets/_examples``) or in a checkout."""
    packaged = Path(__file__).resolve().parent / "_examples"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[1] / "examples"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("the example notebooks are missing from this installation")


def copy_examples(target: str | os.PathLike) -> list[Path]:
    """Copy the examples into ``target`` (created if needed); files already there are kept,
    so notebooks a user has edited are never overwritten. Returns the files copied."""
    source = examples_dir()
    target = Path(target).expanduser()
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for item in sorted(source.rglob("*")):
        if item.is_dir() or ".ipynb_checkpoints" in item.parts or item.name.startswith("."):
            continue
        dest = target / item.relative_to(source)
        if dest.exists():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(item, dest)
        copied.append(dest)
    return copied


def lab_command(folder: Path, port: int | None, no_browser: bool) -> list[str]:
    cmd = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={folder}", "--ServerApp.ip=127.0.0.1"]
    if port:
        cmd += [f"--port={port}", "--ServerApp.port_retries=0"]
    if no_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    cmd.append("quickstart.ipynb")  # opened at start, relative to the notebook folder
    return cmd


def run_demo(folder: str | os.PathLike = "simwidgets-demo", port: int | None = None, no_browser: bool = False) -> int:
    """Copy the examples into ``folder`` and run JupyterLab there until it is stopped."""
    from .extras import require

    require("jupyterlab", "simwidgets demo")
    folder = Path(folder).expanduser().resolve()
    copied = copy_examples(folder)
    print(f"examples in {folder} ({len(copied)} copied, others kept as they were)", flush=True)
    env = {**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
    cmd = lab_command(folder, port, no_browser)
    if os.name == "posix":
        # Become JupyterLab: a SIGTERM (a service manager, a closing terminal) or Ctrl-C then
        # reaches the server itself, which shuts down and frees its port; nothing is left behind.
        os.chdir(folder)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(cmd[0], cmd, env)
    return _run_forwarding_signals(cmd, folder, env)  # pragma: no cover - Windows


def _run_forwarding_signals(cmd: list[str], folder: Path, env: dict) -> int:  # pragma: no cover - Windows
    """Where a process cannot be replaced: run JupyterLab as a child and pass termination on."""
    import signal

    child = subprocess.Popen(cmd, cwd=folder, env=env)

    def forward(signum, frame):
        child.terminate()

    signal.signal(signal.SIGTERM, forward)
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.terminate()
        return child.wait()
