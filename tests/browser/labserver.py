"""A JupyterLab on localhost and Debian's chromium, for the browser tests and benchmarks/browser.py."""
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = os.environ.get("GRADLAB_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab(tuple):
    """(root_dir, url) of a running JupyterLab, with its ``token``."""

    token: str


@contextlib.contextmanager
def jupyterlab(base: Path):
    """JupyterLab from this venv in ``base`` (isolated config/data/runtime dirs): a Lab."""
    root = base / "root"
    root.mkdir()
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ,
           "JUPYTER_CONFIG_DIR": str(base / "config"), "JUPYTER_DATA_DIR": str(base / "data"),
           "JUPYTER_RUNTIME_DIR": str(base / "runtime"), "IPYTHONDIR": str(base / "ipython"),
           "JUPYTER_PLATFORM_DIRS": "1", "PYTHONPATH": str(ROOT),
           # the checkout's copy of what the wheel installs in <prefix>/etc/jupyter: it enables
           # the server extension gradlab (TCP_NODELAY on the kernel websockets)
           "JUPYTER_CONFIG_PATH": str(ROOT / "jupyter-config")}
    # the labextensions of anywidget and ipywidgets live in <venv>/share/jupyter, which
    # JupyterLab searches through sys.prefix whatever JUPYTER_DATA_DIR says
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--port", str(port),
           "--ip", "127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--ServerApp.open_browser=False", f"--LabApp.workspaces_dir={base / 'workspaces'}",
           # window.jupyterapp: the tests run JupyterLab's own commands (change the theme, ...)
           "--LabApp.expose_app_in_browser=True", "--JupyterNotebookApp.expose_app_in_browser=True",
           f"--LabApp.user_settings_dir={base / 'settings'}", "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:  # CI containers run as root
        cmd.append("--allow-root")
    log = open(base / "jupyterlab.log", "wb")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError("JupyterLab exited:\n" + (base / "jupyterlab.log").read_text())
            try:
                with urllib.request.urlopen(f"{url}api/status?token={token}", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start within 60 s:\n"
                                       + (base / "jupyterlab.log").read_text()) from None
                time.sleep(0.2)
        info = Lab((root, url))
        info.token = token
        yield info
    finally:
        _stop(proc)
        log.close()


def _stop(proc):
    """Stop the server and the kernels it started (its own process group)."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def chromium():
    """Headless Debian chromium (never a downloaded browser), driven by Playwright's sync API."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu",
                                    "--disable-background-networking",
                                    "--disable-component-update"])
        try:
            yield b
        finally:
            b.close()
