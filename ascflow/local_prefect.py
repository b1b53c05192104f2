"""A Prefect server and the served flows as child processes: what `ascflow demo` and the end-to-end tests run.

Each stack gets its own PREFECT_HOME (database, results, logs), so nothing leaks between runs or into
~/.prefect. Children inherit the environment given, so ASCFLOW_* settings reach the flows.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import httpx
from prefect import get_client
from prefect.client.orchestration import SyncPrefectClient
from prefect.settings import PREFECT_API_URL, temporary_settings

from ascflow import contracts

SERVER_START_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalPrefect:
    """`prefect server start` on a free port, then `python -m deployments.serve` against it."""

    def __init__(
        self,
        home: Path,
        *,
        env: Mapping[str, str] | None = None,
        poll_seconds: float = 300.0,
        log_dir: Path | None = None,
        project_dir: Path | None = None,
    ) -> None:
        self.home = home
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.ui_url = f"http://127.0.0.1:{self.port}"
        self.poll_seconds = poll_seconds
        self.log_dir = log_dir or home / "logs"
        self.project_dir = project_dir or Path(__file__).resolve().parent.parent
        self.env = {
            **os.environ,
            **(env or {}),
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_API_PORT": str(self.port),
            "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(home / "storage"),
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            # The client's retry lines (logger ascflow.connect.session) reach the run's logs in the UI.
            "PREFECT_LOGGING_EXTRA_LOGGERS": "ascflow",
            # A short poller interval must not fill SQLite with a hundred future runs at once.
            "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
            "PREFECT_SERVER_SERVICES_SCHEDULER_MAX_RUNS": "3",
            "PREFECT_SERVER_SERVICES_SCHEDULER_MIN_RUNS": "1",
            "PREFECT_SERVER_SERVICES_SCHEDULER_MIN_SCHEDULED_TIME": "0:00:10",
            "PREFECT_UI_ENABLED": "true",
            # SQLite under a busy machine: wait for its lock rather than answer 503 (Prefect's defaults: 10 s, 5 s).
            "PREFECT_SERVER_DATABASE_TIMEOUT": "60",
            "PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT": "30",
        }
        self._processes: list[subprocess.Popen[bytes]] = []

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # The child writes to its own copy of the file descriptor; ours is closed at once.
        with (self.log_dir / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
                args, env=self.env, cwd=self.project_dir, stdout=log, stderr=subprocess.STDOUT
            )
        self._processes.append(process)
        return process

    def start_server(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        server = self._spawn(
            "server", sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
            "--port", str(self.port),
        )  # fmt: skip
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"the Prefect server exited; see {self.log_dir / 'server.log'}")
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the Prefect server did not answer in {SERVER_START_TIMEOUT:.0f} s")

    def serve_flows(self) -> None:
        served = self._spawn(
            "serve", sys.executable, "-m", "deployments.serve", "--poll-seconds", str(self.poll_seconds)
        )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if served.poll() is not None:
                raise RuntimeError(f"serving the flows failed; see {self.log_dir / 'serve.log'}")
            if self._deployments_ready():
                return
            time.sleep(0.3)
        raise RuntimeError("the flows were not served in time")

    def _deployments_ready(self) -> bool:
        response = httpx.post(f"{self.api_url}/deployments/filter", json={"limit": 50}, timeout=5)
        names = {d["name"] for d in response.json()} if response.status_code == 200 else set()
        return {name.split("/")[1] for name in contracts.DEPLOYMENTS} <= names

    @contextmanager
    def client(self) -> Iterator[SyncPrefectClient]:
        """A Prefect client of this server (it retries what the server asks to retry, such as a busy 503)."""
        with temporary_settings({PREFECT_API_URL: self.api_url}), get_client(sync_client=True) as client:
            yield client

    def stop(self) -> None:
        # One at a time, the runner before the server: a runner that outlives the server spends its shutdown
        # retrying calls to it (15 s) instead of exiting (under 1 s).
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()

    def __enter__(self) -> LocalPrefect:
        try:
            self.start_server()
            self.serve_flows()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
