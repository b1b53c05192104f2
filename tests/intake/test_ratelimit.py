"""Uploads are limited per link and per client address: 429 with a page that says when to try again, and the
first refusal of a window in the audit trail. Over real HTTP; the client addresses are told to uvicorn the way a
proxy on loopback tells them (X-Forwarded-For, which uvicorn trusts from 127.0.0.1 only).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ascflow.audit import Action
from ascflow.intake.security import SECURITY_HEADERS
from tests.fixtures.keys import make_customer_key
from tests.fixtures.simulator import RunningSimulator
from tests.intake.conftest import Browser, IntakeServer, NoPrefect, intake_settings, make_request


@pytest.fixture
def start_server(tmp_path: Path, simulator: RunningSimulator) -> Iterator[Any]:
    servers: list[IntakeServer] = []

    def start(**limits: Any) -> IntakeServer:
        settings = intake_settings(tmp_path / f"data{len(servers)}", simulator.base_url, **limits)
        servers.append(IntakeServer(settings, NoPrefect()).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def clients() -> Iterator[Any]:
    made: list[httpx.Client] = []

    def browser(server: IntakeServer, address: str) -> Browser:
        made.append(httpx.Client(base_url=server.base_url, headers={"X-Forwarded-For": address}, timeout=30))
        return Browser(made[-1])

    yield browser
    for client in made:
        client.close()


def attempt(browser: Browser, link: str) -> httpx.Response:
    """An upload refused by the key ID's shape: a full attempt that needs no answer from Apple."""
    return browser.upload(link, make_customer_key(), key_id="abc")


def limited_events(server: IntakeServer) -> list[str]:
    events = server.intake.audit.events()
    return [e.error_code or "" for e in events if e.action == Action.INTAKE_UPLOADS_LIMITED]


def test_too_many_uploads_on_one_link_are_refused_with_when_to_try_again(
    start_server: Any, clients: Any
) -> None:
    server = start_server()  # the defaults: 10 in 15 minutes
    browser = clients(server, "198.51.100.1")
    _, link = server.new_link(make_request("com.example.demoapp"))
    for _ in range(10):
        assert attempt(browser, link).status_code == 422
    started = datetime.now(UTC)
    refused = attempt(browser, link)
    assert refused.status_code == 429, refused.text
    assert "Too many attempts" in refused.text
    assert "We accept 10 uploads with this link within 15 minutes" in refused.text
    retry_after = int(refused.headers["retry-after"])
    assert 14 * 60 < retry_after <= 15 * 60
    when = re.search(r"Try again after (\d\d:\d\d:\d\d) UTC \(in about 15 minutes\)", refused.text)
    assert when, refused.text
    expected = started + timedelta(seconds=retry_after)
    assert when.group(1) in {f"{expected + timedelta(seconds=s):%H:%M:%S}" for s in range(-1, 3)}
    for name, value in SECURITY_HEADERS.items():
        assert refused.headers[name] == value
    assert attempt(browser, link).status_code == 429
    assert limited_events(server) == ["INTAKE.TOO_MANY_UPLOADS.LINK"], "one audit event per window"
    assert server.intake.custody.list() == []


def test_the_limits_are_per_link_and_per_client_address(start_server: Any, clients: Any) -> None:
    server = start_server(intake_upload_attempts=3)
    alice, bob = clients(server, "198.51.100.1"), clients(server, "203.0.113.9")
    _, first = server.new_link(make_request("com.example.demoapp"))
    _, second = server.new_link(make_request("com.example.demoapp", tenant="other-games"))
    for _ in range(3):
        assert attempt(alice, first).status_code == 422
    refused = attempt(bob, first)  # another address, the same link: the link's limit
    assert refused.status_code == 429
    assert "with this link" in refused.text
    assert attempt(bob, second).status_code == 422  # another link from another address: admitted
    refused = attempt(alice, second)  # another link from the first address: the address's limit
    assert refused.status_code == 429
    assert "from your network" in refused.text
    assert sorted(limited_events(server)) == [
        "INTAKE.TOO_MANY_UPLOADS.CLIENT",
        "INTAKE.TOO_MANY_UPLOADS.LINK",
    ]
    tenants = {e.tenant for e in server.intake.audit.events() if e.action == Action.INTAKE_UPLOADS_LIMITED}
    assert tenants == {"acme-games", "other-games"}


def test_an_attempt_is_admitted_again_once_the_window_has_passed(start_server: Any, clients: Any) -> None:
    server = start_server(intake_upload_attempts=2, intake_upload_window_seconds=1.5)
    browser = clients(server, "198.51.100.1")
    _, link = server.new_link(make_request("com.example.demoapp"))
    assert [attempt(browser, link).status_code for _ in range(3)] == [422, 422, 429]
    time.sleep(1.6)
    assert attempt(browser, link).status_code == 422
    assert attempt(browser, link).status_code == 422
    assert attempt(browser, link).status_code == 429
    assert len(limited_events(server)) == 2, "a new window, a new audit event"
