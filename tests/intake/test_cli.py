"""`ascflow intake --port N` serves the app, and its log never holds a customer's link."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ascflow.local_prefect import free_port


def test_the_intake_command_serves_the_app_and_logs_requests_without_the_link(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "ASCFLOW_DATA_DIR": str(tmp_path / "data"),
        "ASCFLOW_INTAKE_OPERATOR_TOKEN": "t" * 32,
    }
    log = tmp_path / "intake.log"
    command = [str(Path(sys.executable).parent / "ascflow"), "intake", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the intake did not start"
            time.sleep(0.1)
        secret_link = "eyJhbGciOiJIUzI1NiJ9.not-a-real-link-but-shaped-like-one.c2lnbmF0dXJl"
        assert httpx.get(f"{base}/o/{secret_link}", timeout=5).status_code == 404
        assert httpx.get(f"{base}/o/{secret_link}/status", timeout=5).status_code == 404
        assert httpx.get(f"{base}/api/openapi.json", timeout=5).json()["paths"]
        assert httpx.get(f"{base}/api/onboardings", timeout=5).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)
    text = log.read_text()
    assert "GET /o/<link> 404" in text
    assert "GET /o/<link>/status 404" in text
    assert secret_link not in text
