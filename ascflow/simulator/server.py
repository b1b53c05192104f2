"""Serve the simulator with uvicorn: in a background thread for tests and the demo, or in the foreground."""

from __future__ import annotations

import functools
import logging
import socket
import threading
import time
from types import TracebackType

import uvicorn

from ascflow.simulator.app import Simulator, create_app
from ascflow.simulator.control import ControlClient
from ascflow.simulator.scenario import Scenario

STARTUP_TIMEOUT = 10.0


class _QuietDrops(logging.Filter):
    """A fault that aborts a connection on purpose is not an error worth logging."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without starting response" not in record.getMessage()


@functools.cache
def _quiet_drops() -> None:
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


def config(
    app: Simulator, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http="h11",
        lifespan="on",
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=1,
    )


def serve_forever(scenario: Scenario, *, host: str, port: int) -> None:
    """Serve in the foreground until interrupted (the `ascflow simulator` command)."""
    _quiet_drops()
    uvicorn.Server(config(create_app(scenario), host=host, port=port, log_level="info")).run()


class SimulatorServer:
    """`with SimulatorServer(scenario, port=0) as sim:` serves on 127.0.0.1 in a thread until the block ends."""

    def __init__(self, scenario: Scenario | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.scenario = scenario or Scenario()
        self.app = create_app(self.scenario)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit it: without it, headers and body written apart cost a 40 ms delayed ACK.
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        self._server = uvicorn.Server(config(self.app))
        self._thread = threading.Thread(target=self._run, name=f"simulator:{self.port}", daemon=True)
        self._control: ControlClient | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def control(self) -> ControlClient:
        if self._control is None:
            self._control = ControlClient(self.base_url)
        return self._control

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._socket.close()

    def start(self) -> SimulatorServer:
        _quiet_drops()
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the simulator did not start on {self.base_url}")
            time.sleep(0.005)
        return self

    def stop(self, *, wait: bool = True) -> None:
        """Shut down; `wait=False` returns at once and lets the thread finish on its own (uvicorn polls
        its exit flag every 0.1 s, which adds up over hundreds of tests)."""
        if self._control is not None:
            self._control.close()
        self._server.should_exit = True
        if wait:
            self._thread.join(timeout=5)

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
