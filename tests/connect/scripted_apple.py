"""A scripted HTTP server on loopback: each test queues exactly the answers and faults it needs.

Behaviours are served in order, one per request: `Reply` (status, JSON or raw body, headers, optional delay past
the client's timeout), `Drop` (read the whole request, then close without answering) and `Reset` (read it, then
reset the connection). A request with nothing queued gets a 599 so that a test never passes by accident.
The server can also be created bound but not listening, so that connections are refused until `listen()`.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str -> sent as is; None -> empty
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass(frozen=True)
class Drop:
    """Receive the request completely, then close the connection without a response."""


@dataclass(frozen=True)
class Reset:
    """Receive the request completely, then reset the connection (RST)."""


Behaviour = Reply | Drop | Reset


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when the request was read
    peer: int  # the client's port: the same value means the same TCP connection

    def json(self) -> Any:
        return json.loads(self.body)


class ScriptedApple:
    def __init__(self, *, listening: bool = True) -> None:
        self.requests: list[Received] = []
        self._script: deque[Behaviour] = deque()
        self._always: Behaviour | None = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class(), bind_and_activate=False)
        self._server.daemon_threads = True
        self._server.server_bind()
        self.port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None
        if listening:
            self.listen()

    def queue(self, *behaviours: Behaviour) -> None:
        with self._lock:
            self._script.extend(behaviours)

    def always(self, behaviour: Behaviour) -> None:
        """Answer every request that finds the queue empty with this behaviour."""
        self._always = behaviour

    def listen(self) -> None:
        """Start accepting connections (until now, connecting was refused)."""
        self._server.server_activate()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> ScriptedApple:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _next(self, received: Received) -> Behaviour:
        with self._lock:
            self.requests.append(received)
            if self._script:
                return self._script.popleft()
        return self._always or Reply(599, {"errors": [{"status": "599", "code": "UNSCRIPTED", "title": "x"}]})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like Apple: the client's pool reuses connections

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                received = Received(
                    self.command,
                    url.path,
                    parse_qs(url.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    time.monotonic(),
                    self.client_address[1],
                )
                behaviour = scripted._next(received)
                if isinstance(behaviour, Drop):
                    self.close_connection = True
                    return
                if isinstance(behaviour, Reset):
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                self._reply(behaviour)

            def _reply(self, reply: Reply) -> None:
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if isinstance(reply.body, dict | list):
                    payload = json.dumps(reply.body).encode()
                    content_type = "application/json"
                elif isinstance(reply.body, str):
                    payload, content_type = reply.body.encode(), "text/plain"
                else:
                    payload, content_type = reply.body or b"", "application/octet-stream"
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": content_type, **reply.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    if reply.status != 204:
                        self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if reply.status != 204:
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up waiting: that was the point

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        return Handler
