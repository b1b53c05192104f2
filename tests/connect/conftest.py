"""The real client against the simulator over loopback HTTP, with every request it sends checked against the spec."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from ascflow.connect import ApiKey, AppStoreConnect, Session
from ascflow.simulator.control import ControlClient, LoggedRequest
from tests.fixtures.openapi import SPEC
from tests.fixtures.simulator import DEFAULT_BUNDLE_ID, RunningSimulator, StartSimulator

BUNDLE = DEFAULT_BUNDLE_ID
POLL = 0.02
# Small parts, so a test file of a few KB is sent in several presigned parts.
PART_SIZE = 1000


class RecordingTransport(httpx.BaseTransport):
    """The real HTTP transport, keeping each request so the test can hold it against Apple's spec.

    Each answer also goes through the simulator fixture's response check (Apple's response schemas).
    """

    def __init__(self, check_response: Callable[[httpx.Response], None]) -> None:
        self._inner = httpx.HTTPTransport()
        self._check_response = check_response
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        response = self._inner.handle_request(request)
        response.request = request
        self._check_response(response)
        return response

    def close(self) -> None:
        self._inner.close()


@dataclass
class Apple:
    """A running simulator, our client of it, and what the client sent."""

    simulator: RunningSimulator
    client: AppStoreConnect
    transport: RecordingTransport

    @property
    def control(self) -> ControlClient:
        return self.simulator.control

    def log(self) -> list[LoggedRequest]:
        return self.control.requests()

    def writes(self, method: str, path: str) -> int:
        """How many `method path` requests reached the simulator and were answered 2xx."""
        return sum(
            1
            for r in self.log()
            if r.method == method and r.path == path and r.status is not None and 200 <= r.status < 300
        )

    def count(self, resource: str) -> int:
        return len(self.control.state().get(resource, []))


@pytest.fixture
def make_apple(start_simulator: StartSimulator) -> Iterator[Callable[..., Apple]]:
    """Start a simulator (the team fixture, with scenario fields overridden) and our client of it."""
    running: list[Apple] = []

    def start(**fields: object) -> Apple:
        simulator = start_simulator(**({"upload_part_size": PART_SIZE} | fields))
        transport = RecordingTransport(simulator.checks)
        key = simulator.admin_key
        api_key = ApiKey.from_p8(key.p8, key_id=key.key_id, issuer_id=key.issuer_id)
        client = AppStoreConnect(Session(api_key, base_url=simulator.base_url, transport=transport))
        apple = Apple(simulator, client, transport)
        running.append(apple)
        return apple

    yield start
    for apple in running:
        apple.client.close()
    for apple in running:
        for request in apple.transport.requests:
            if request.url.path.startswith("/v1/"):
                body = json.loads(request.content) if request.content else None
                SPEC.check_request(
                    request.method, request.url.path, dict(request.url.params.multi_items()), body
                )


@pytest.fixture
def apple(make_apple: Callable[..., Apple]) -> Apple:
    return make_apple()
