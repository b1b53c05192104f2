"""`make server PREFECT_PORT=N` serves a UI that talks to port N: the UI reads its API address from the
server's /ui-settings, and Prefect's default there is :4200 whatever `--port` says (or whatever PREFECT_API_URL
an operator's shell exports, as the README has them do in every other terminal)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from ascflow.local_prefect import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_make_server_tells_the_ui_its_own_port(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path),
        "PREFECT_API_URL": "http://127.0.0.1:4200/api",  # a stale export must not win
    }
    env.pop("PREFECT_UI_API_URL", None)
    # `-o` the install stamp: the real target, without reinstalling the venv when pyproject.toml is newer.
    command = [
        "make",
        "--no-print-directory",
        "-o",
        ".venv/.installed-stamp",
        "server",
        f"PREFECT_PORT={port}",
    ]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        settings = _ui_settings(f"http://127.0.0.1:{port}", server)
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # make, its shell and the server: the group this test started
        server.wait(timeout=30)
    assert settings["api_url"] == f"http://127.0.0.1:{port}/api"


def _ui_settings(ui_url: str, server: subprocess.Popen[bytes]) -> dict[str, object]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, "make server exited"
        try:
            response = httpx.get(f"{ui_url}/ui-settings", timeout=2)
            if response.status_code == 200:
                return dict(response.json())
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("make server did not answer in 120 s")
