"""The ASGI application: Apple's API under /v1, presigned upload parts, and the /_simulator/ control API."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import ascflow.simulator.routes  # noqa: F401  (importing it registers the handlers)
from ascflow.simulator.auth import ADMIN_ROLES, authenticate, key_id_of
from ascflow.simulator.control import handle_control
from ascflow.simulator.documents import ApiError, Errors, Json
from ascflow.simulator.faults import FaultRule
from ascflow.simulator.processes import advance
from ascflow.simulator.rendering import Renderer
from ascflow.simulator.routes.builds import UPLOAD_PATH, PartRejected, receive_part
from ascflow.simulator.routing import HANDLERS, Call, Reply
from ascflow.simulator.scenario import Scenario
from ascflow.simulator.seeding import build_team
from ascflow.simulator.spec import load_spec
from ascflow.simulator.state import ApiKeyRecord, Team

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ADMIN_ONLY = ("/v1/users", "/v1/userInvitations", "/v1/certificates")
NEEDS_AGREEMENTS = ("/v1/bundleIds", "/v1/certificates", "/v1/profiles")
WRITES = {"POST", "PATCH", "DELETE", "PUT"}
# A presigned URL's signature is a credential for that part: the log keeps the fact, not the value.
SIGNATURE = "Signature"


class ConnectionDropped(Exception):
    """The fault plan says to close this connection without an answer."""


@dataclass
class LogEntry:
    method: str
    path: str
    query: dict[str, str]
    status: int | None
    key_id: str | None
    time: float
    fault: str | None = None

    def as_json(self) -> Json:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "key_id": self.key_id,
            "time": self.time,
            "fault": self.fault,
        }


@dataclass
class Simulator:
    """The ASGI callable; holds the team and the request log."""

    scenario: Scenario
    team: Team = field(init=False)
    log: list[LogEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.spec = load_spec()
        self.team = build_team(self.scenario)

    def reset(self) -> None:
        self.team = build_team(self.scenario)
        self.log.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method: str = scope["method"]
        path: str = scope["path"]
        query = dict(parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True))
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        body = await _read_body(receive)
        if path.startswith("/_simulator/"):
            status, payload = handle_control(self, method, path, body)
            await _send(send, status, payload, {})
            return
        logged_query = {k: "<redacted>" if k == SIGNATURE else v for k, v in query.items()}
        entry = LogEntry(
            method, path, logged_query, None, key_id_of(headers.get("authorization")), time.time()
        )
        self.log.append(entry)
        faults = self.team.faults.draw(method, path)
        if faults:
            entry.fault = ",".join(f.kind for f in faults)
        try:
            status, payload, extra = await self._answer(method, path, query, headers, body, faults)
        except ConnectionDropped:
            await _drop(send)
            return
        entry.status = status
        await _send(send, status, payload, extra)

    async def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
        faults: list[FaultRule],
    ) -> tuple[int, Json | str | None, dict[str, str]]:
        for fault in faults:
            if fault.kind == "latency":
                await asyncio.sleep(fault.latency_seconds)
            elif fault.kind == "hang":
                await asyncio.sleep(fault.hang_seconds)
            elif fault.kind == "reset":
                raise ConnectionDropped
            elif fault.kind == "server_error":
                status, document = Errors.server_error()
                document["status"] = str(fault.status)
                return fault.status, {"errors": [document]}, {}
            elif fault.kind == "rate_limit":
                status, document = Errors.rate_limited()
                extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                return status, {"errors": [document]}, extra
        if path.startswith(UPLOAD_PATH + "/"):
            status, text = self._upload_part(path, query, headers, body)
            answer: tuple[int, Json | str | None, dict[str, str]] = (status, text, {})
        elif path == "/v1" or path.startswith(("/v1/", "/v2/", "/v3/")):  # v2/v3: availability, price points
            answer = self._api(method, path, query, headers, body)
        else:
            error_status, document = Errors.path_error(path)
            answer = (error_status, {"errors": [document]}, {})
        if any(f.kind == "drop_after_write" for f in faults):
            raise ConnectionDropped
        return answer

    def _upload_part(
        self, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> tuple[int, str | None]:
        parts = path[len(UPLOAD_PATH) + 1 :].split("/")
        if len(parts) != 2:
            return 404, "NoSuchKey"
        advance(self.team)
        try:
            receive_part(self.team, parts[0], parts[1], query, headers, body)
        except PartRejected as exc:
            return exc.status, str(exc)
        return 200, None

    def _api(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> tuple[int, Json | None, dict[str, str]]:
        team = self.team
        rate: dict[str, str] = {}
        try:
            key = authenticate(team, headers.get("authorization"))
            limit, remaining, allowed = team.count_call(key.key_id)
            rate = {"X-Rate-Limit": f"user-hour-lim:{limit};user-hour-rem:{remaining};"}
            if not allowed:
                raise ApiError(Errors.rate_limited())
            reply = self._dispatch(method, path, query, headers, body, key)
        except ApiError as exc:
            # A 401 names no key, so it has no budget to report: no X-Rate-Limit (what Apple sends is unknown).
            return exc.status, exc.document(), {**rate, **exc.headers}
        return reply.status, reply.body, {**rate, **reply.headers}

    def _dispatch(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
        key: ApiKeyRecord,
    ) -> Reply:
        matched = self.spec.match(path)
        if matched is None:
            raise ApiError(Errors.path_error(path))
        route, ids = matched
        operation = route.methods.get(method)
        if operation is None:
            raise ApiError(Errors.method_not_allowed(method, path))
        handler = HANDLERS.get((method, route.template))
        if handler is None:
            operation_id = self.spec.operation_id(method, route.template)
            raise ApiError(Errors.not_implemented(method, route.template, operation_id))
        if path.startswith(ADMIN_ONLY) and key.role not in ADMIN_ROLES:
            raise ApiError(Errors.forbidden())
        if not self.team.agreements_ok and (path.startswith(NEEDS_AGREEMENTS) or method in WRITES):
            raise ApiError(Errors.agreements_missing())
        self.spec.check_query(operation, query)
        parsed: Any = None
        if "requestBody" in operation:
            if "json" not in headers.get("content-type", ""):
                raise ApiError(Errors.unsupported_media_type())
            try:
                parsed = json.loads(body or b"null")
            except ValueError as exc:
                raise ApiError(Errors.entity_invalid(f"The request body is not valid JSON: {exc}")) from exc
            self.spec.check_body(operation, parsed)
        advance(self.team)
        renderer = Renderer(self.team, self.spec, _base_url(headers), path, query)
        return handler(Call(self.team, renderer, method, path, ids, query, parsed, key, _base_url(headers)))


def _base_url(headers: dict[str, str]) -> str:
    return f"http://{headers.get('host', '127.0.0.1')}"


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send: Send, status: int, payload: Json | str | None, headers: dict[str, str]) -> None:
    if payload is None:
        data, content_type = b"", None
    elif isinstance(payload, str):
        data, content_type = payload.encode(), b"text/plain; charset=utf-8"
    else:
        data, content_type = json.dumps(payload).encode(), b"application/json"
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if content_type:
        raw.append((b"content-type", content_type))
    raw.append((b"content-length", str(len(data)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


async def _drop(send: Send) -> None:
    """Close the TCP connection without a byte of answer: the client sees a transport error."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionDropped("the ASGI server gives no transport to abort")
    transport.abort()
    # Let uvicorn see the disconnect so it does not try to answer 500 on the dead connection.
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(scenario: Scenario) -> Simulator:
    return Simulator(scenario)
