"""Drive a real JupyterLab (started on loopback for the test) in headless chromium.

The chapters are MyST Markdown files; JupyterLab opens them as notebooks because the
environment sets "Jupytext Notebook" as the default viewer (vaebook.lab_settings). A "Run All"
clicked before the kernel's websocket is connected is silently dropped, so :func:`open_notebook`
waits until a ``kernel_info_reply`` has crossed the websocket.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

JUPYTER = Path(sys.executable).with_name("jupyter")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def jupyter_lab(root_dir: Path, work_dir: Path, timeout: float = 90):
    """Start ``jupyter lab`` on ``root_dir`` with isolated settings; yields its base URL."""
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    for name in (
        "JUPYTER_CONFIG_DIR",
        "JUPYTER_RUNTIME_DIR",
        "JUPYTERLAB_SETTINGS_DIR",
        "JUPYTERLAB_WORKSPACES_DIR",
    ):
        env[name] = str(work_dir / name.lower())
    news = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True, exist_ok=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    command = [
        str(JUPYTER),
        "lab",
        "--no-browser",
        "--allow-root",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--LabApp.news_url=",
        "--ServerApp.open_browser=False",
    ]
    log = open(work_dir / "jupyter-lab.log", "w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(  # noqa: B904 (the OSError is the expected one)
                        "jupyter lab did not start:\n"
                        + (work_dir / "jupyter-lab.log").read_text()[-3000:]
                    )
                time.sleep(0.5)
        yield base, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def open_notebook(page, base: str, token: str, relative_path: str, timeout_ms: int = 90000):
    """Open a file in JupyterLab and wait until its kernel is really connected."""
    kernel_ready = {"done": False}

    def watch(ws):
        if "/api/kernels/" in ws.url:
            ws.on(
                "framereceived",
                lambda payload: (
                    "kernel_info_reply"
                    in (payload if isinstance(payload, str) else payload.decode("utf-8", "ignore"))
                    and kernel_ready.update(done=True)
                ),
            )

    page.on("websocket", watch)
    page.goto(f"{base}/lab/tree/{relative_path}?token={token}", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while not kernel_ready["done"]:
        if time.monotonic() > deadline:
            raise TimeoutError("the notebook's kernel never sent kernel_info_reply")
        page.wait_for_timeout(200)


def run_all_cells(page, timeout_ms: int = 300000):
    """Run every cell through the menu and wait until the kernel is idle and all have run."""
    page.locator(".jp-Notebook").first.click()
    page.get_by_role("menuitem", name="Run").click()
    page.locator("li[data-command='runmenu:run-all']").click()
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        timeout=timeout_ms,
    )
