"""Drive a real JupyterLab in headless Chromium: a server fixture and a notebook helper."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

CHROMIUM = os.environ.get("SIMWIDGETS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
# Throw-away JupyterLab settings: no news or update toasts, no autosave.
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """``jupyter lab`` on a free localhost port with a random token, in its own process group."""

    def __init__(self, root: Path, log: Path):
        self.root, self.log_path = Path(root), Path(log)
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.tmp = Path(tempfile.mkdtemp(prefix="sw-lab-"))
        self.proc = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}?token={self.token}"

    def start(self) -> LabServer:
        settings = self.tmp / "settings"
        for rel, value in SETTINGS.items():
            (settings / rel).parent.mkdir(parents=True, exist_ok=True)
            (settings / rel).write_text(json.dumps(value))
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.ip=127.0.0.1",
            f"--notebook-dir={self.root}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={self.tmp}",
        ]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        stsb_dev = Path(__file__).resolve().parents[2] / "simwidgets" / "data" / "sts" / "stsb-en-dev.csv"  # shipped
        env = {
            **os.environ,
            "JUPYTER_RUNTIME_DIR": str(self.tmp / "runtime"),
            "HF_HUB_OFFLINE": "1",
            "SW_STSB": str(stsb_dev),
        }
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            cmd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/status", headers={"Authorization": f"token {self.token}"}
        )
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited early; see {self.log_path}")
            try:
                with urllib.request.urlopen(request, timeout=2):
                    return self
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise TimeoutError("jupyter lab did not answer in 120 s") from None
                time.sleep(0.2)

    def api(self, method: str, path: str):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
            return json.loads(body) if body else None

    def shutdown_sessions(self, path: str) -> None:
        for session in self.api("GET", "sessions"):
            if session.get("path") == path:
                self.api("DELETE", f"sessions/{session['id']}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # leftover kernels of our own group
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.proc = None


class Notebook:
    """One open notebook: wait for its kernel, run cells, evaluate Python in a new cell."""

    def __init__(self, page, path: str):
        self.page, self.path = page, path

    def wait_ready(self) -> Notebook:
        self.page.wait_for_function(
            """(path) => {
              const app = window.jupyterapp;
              if (!app) return false;
              const panel = [...app.shell.widgets('main')].find(w => w.context && w.context.path === path);
              if (!panel) return false;
              window.__panel = panel;
              const k = panel.sessionContext.session && panel.sessionContext.session.kernel;
              return !!k && k.status === 'idle' && k.connectionStatus === 'connected';
            }""",
            arg=self.path,
        )
        return self

    def run_all(self) -> None:
        self.page.evaluate("""async () => {
            window.jupyterapp.shell.activateById(window.__panel.id);
            await window.jupyterapp.commands.execute('notebook:run-all-cells');
        }""")

    def python(self, code: str, timeout_ms: int = 60_000) -> str:
        """Run code in the notebook's kernel (as a new cell would) and return its last value's repr."""
        return self.page.evaluate(
            """async ([code, timeout]) => {
              const kernel = window.__panel.sessionContext.session.kernel;
              const future = kernel.requestExecute({code, store_history: false});
              let result = '';
              future.onIOPub = (msg) => {
                const t = msg.header.msg_type;
                if (t === 'execute_result') result = msg.content.data['text/plain'];
                if (t === 'error') result = 'ERROR: ' + msg.content.ename + ': ' + msg.content.evalue;
                if (t === 'stream') result += msg.content.text;
              };
              await Promise.race([future.done,
                new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeout))]);
              return result;
            }""",
            [code, timeout_ms],
        )
