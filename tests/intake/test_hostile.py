"""The intake attacked from loopback as an outsider would: malformed bodies, forged log lines, foreign Host
headers, junk after the form, a key file named for another key, what a refusal leaves in memory, and what the
customer's receipt reveals. The intake runs under uvicorn (real HTTP, raw sockets for what httpx will not send);
`ascflow intake` itself runs as a subprocess where its process settings (logging, core dumps) are the point.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from ascflow.audit import Actor
from ascflow.custody import CustodyInput
from ascflow.intake import app as intake_app
from ascflow.intake.pages import status_page
from ascflow.intake.security import SECURITY_HEADERS
from ascflow.intake.service import Intake
from ascflow.intake.status import StatusView, customer_receipt
from ascflow.intake.upload import KeyUpload, Limits, read_upload
from ascflow.local_prefect import free_port
from ascflow.settings import Settings
from tests.fixtures.keys import CustomerKey, make_customer_key
from tests.fixtures.simulator import RunningSimulator
from tests.intake import fuzzing
from tests.intake.conftest import (
    OPERATOR_TOKEN,
    Browser,
    IntakeServer,
    NoPrefect,
    intake_settings,
    make_request,
)
from tests.intake.test_outage import unreachable_prefect

UNREADABLE = "The form could not be read"


@pytest.fixture
def server(tmp_path: Path, simulator: RunningSimulator) -> Iterator[IntakeServer]:
    intake = IntakeServer(intake_settings(tmp_path / "data", simulator.base_url), NoPrefect()).start()
    yield intake
    intake.stop()


@pytest.fixture
def errors_logged() -> Iterator[list[logging.LogRecord]]:
    """What uvicorn logs about the app (an unhandled exception is logged here, with its traceback)."""
    with fuzzing.errors_logged() as records:
        yield records


def raw_exchange(server: IntakeServer, request: bytes) -> tuple[int, dict[str, str], str]:
    """Send bytes as they are; (status, headers with lower-case names, body) of the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(request)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body.decode(errors="replace")


def post_head(server: IntakeServer, path: str, cookie: str = "", **headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if cookie:
        lines.append(f"Cookie: ascflow_intake_browser={cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def part(name: str, value: bytes, *, filename: str | None = None, boundary: bytes = b"b") -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return (
        b"--" + boundary + b"\r\nContent-Disposition: " + disposition.encode() + b"\r\n\r\n" + value + b"\r\n"
    )


def valid_form(csrf: str, key: CustomerKey, *, boundary: bytes = b"b") -> bytes:
    return (
        part("csrf", csrf.encode(), boundary=boundary)
        + part("issuer_id", key.issuer_id.encode(), boundary=boundary)
        + part("key_id", key.key_id.encode(), boundary=boundary)
        + part("p8", key.p8.encode(), filename=key.filename, boundary=boundary)
        + b"--"
        + boundary
        + b"--\r\n"
    )


def assert_security_headers(headers: dict[str, str] | httpx.Headers) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers[name.lower()] == value, name


_PART = b'Content-Disposition: form-data; name="csrf"\r\n\r\nx\r\n'
MALFORMED = {
    "no boundary first": b"junk\r\n--b\r\n" + _PART + b"--b--\r\n",
    "another boundary": b"--c\r\n" + _PART + b"--c--\r\n",
    "NUL in a part header": b'--b\r\nContent-Disp\0osition: form-data; name="csrf"\r\n\r\nx\r\n--b--\r\n',
    "CR in a part header": b'--b\r\nContent-Disp\rosition: form-data; name="csrf"\r\n\r\nx\r\n--b--\r\n',
    "part header over 4 KiB": b'--b\r\nContent-Disposition: form-data; name="csrf"; x="'
    + b"a" * 5000
    + b'"\r\n\r\nx\r\n--b--\r\n',
    "nine part headers": b"--b\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(9)) + _PART + b"--b--\r\n",
    "no closing boundary": b"--b\r\n" + _PART,
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_form_is_refused_as_unreadable_without_a_server_error(
    server: IntakeServer, errors_logged: list[logging.LogRecord], body: bytes
) -> None:
    _, link = server.new_link(make_request("com.example.demoapp"))
    head = post_head(
        server, link, Content_Type="multipart/form-data; boundary=b", Content_Length=str(len(body))
    )
    status, headers, page = raw_exchange(server, head + body)
    assert status == 400, page
    assert UNREADABLE in page
    assert_security_headers(headers)
    assert errors_logged == [], "the intake logged an error (a traceback) for a malformed form"
    assert server.intake.custody.list() == []


def test_content_length_with_chunked_transfer_is_refused(
    server: IntakeServer, errors_logged: list[logging.LogRecord]
) -> None:
    _, link = server.new_link(make_request("com.example.demoapp"))
    body = b"--b\r\n" + _PART + b"--b--\r\n"
    head = post_head(
        server,
        link,
        Content_Type="multipart/form-data; boundary=b",
        Content_Length="5",
        Transfer_Encoding="chunked",
    )
    status, headers, page = raw_exchange(server, head + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
    assert status == 400
    assert "both a length and chunked transfer" in page
    assert_security_headers(headers)
    assert errors_logged == []


def test_every_error_carries_the_security_headers(server: IntakeServer) -> None:
    def explode() -> None:
        raise RuntimeError("a bug in the intake")

    server.app.add_api_route("/explode", explode)  # a route that fails, to reach the app's 500 handler
    _, link = server.new_link(make_request("com.example.demoapp"))
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        answers = {
            404: client.get("/nowhere"),
            405: client.put(link),
            413: client.post(
                link,
                content=b"x" * 20_000,
                headers={"Content-Type": "multipart/form-data; boundary=b"},
            ),
            400: client.get(link, headers={"Host": "evil.example"}),
            500: client.get("/explode"),
        }
    for status, response in answers.items():
        assert response.status_code == status, response.text
        assert_security_headers(response.headers)
    assert "Something went wrong on our side" in answers[500].text
    assert "a bug in the intake" not in answers[500].text
    assert "This page does not exist" in answers[404].text


def test_a_line_break_in_the_path_cannot_forge_a_log_line(
    server: IntakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ascflow.intake")
    forged = "/api/x%0aINFO:%20POST%20/api/onboardings/FORGED%20201%0d%0a"
    raw_exchange(server, f"GET {forged} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    lines = [r.getMessage() for r in caplog.records if "FORGED" in r.getMessage()]
    assert lines == ["GET /api/x\\x0aINFO: POST /api/onboardings/FORGED 201\\x0d\\x0a 404"]


def test_a_foreign_host_gets_no_redirect_and_no_link(server: IntakeServer) -> None:
    _, link = server.new_link(make_request("com.example.demoapp"))
    for path, host in ((f"{link}/", "evil.example"), (link, "evil.example"), (f"{link}/", "127.0.0.1")):
        request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
        status, headers, page = raw_exchange(server, request)
        assert status == (400 if host == "evil.example" else 404), (path, host)
        assert "location" not in headers
        assert "evil.example" not in page
        assert link.removeprefix("/o/") not in page
        assert_security_headers(headers)


def test_junk_after_a_valid_form_is_refused_before_it_is_read(
    server: IntakeServer, browser_session: Callable[[str], Browser]
) -> None:
    browser = browser_session(server.base_url)
    _, link = server.new_link(make_request("com.example.demoapp"))
    csrf = browser.open_form(link)
    head = post_head(
        server,
        link,
        browser.client.cookies["ascflow_intake_browser"],
        Content_Type="multipart/form-data; boundary=b",
        Transfer_Encoding="chunked",
    )
    junk = b"\0" * 16 * 1024
    chunk = b"%x\r\n" % len(junk) + junk + b"\r\n"
    sent, answer, started = 0, b"", time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
        form = valid_form(csrf, make_customer_key())
        conn.sendall(head + b"%x\r\n" % len(form) + form + b"\r\n")
        while sent < 99 * 1024 * 1024 and not answer:
            if select.select([conn], [], [], 0)[0]:
                answer = conn.recv(65536)
                break
            try:
                conn.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(junk)
        while not answer and select.select([conn], [], [], 5)[0]:
            answer = conn.recv(65536)
    # Refused for what follows the form's end, or for passing the size the form can have: whichever comes first.
    assert answer.startswith((b"HTTP/1.1 400", b"HTTP/1.1 413")), answer[:100]
    assert sent < 1024 * 1024, f"{sent} bytes of junk were sent before the refusal"
    assert time.monotonic() - started < 5
    assert server.intake.custody.list() == []


def test_the_largest_valid_form_fits_the_default_limit() -> None:
    settings = Settings(_env_file=None)
    limits = Limits(settings.intake_max_request_bytes, settings.intake_max_key_bytes)
    boundary = b"-" * 4 + b"x" * 66  # RFC 2046 allows 70 characters
    body = (
        part("csrf", b"c" * 1024, boundary=boundary)
        + part("issuer_id", b"i" * 1024, boundary=boundary)
        + part("key_id", b"k" * 1024, boundary=boundary)
        + part("p8", b"p" * limits.key_bytes, filename="AuthKey_ABCDEFGHIJ (12).p8", boundary=boundary)
        + b"--"
        + boundary
        + b"--\r\n"
    )

    async def chunks() -> Any:
        yield body

    upload = KeyUpload(limits)
    asyncio.run(read_upload(chunks(), boundary, limits, upload))
    assert upload.length == limits.key_bytes
    assert limits.request_bytes < 100 * 1024, "the limit is far above what the form can hold"


def test_a_file_named_for_another_key_is_refused_saying_what_to_check(
    server: IntakeServer, browser_session: Callable[[str], Browser]
) -> None:
    browser = browser_session(server.base_url)
    _, link = server.new_link(make_request("com.example.demoapp"))
    key, other = make_customer_key(), make_customer_key()
    for name in (f"AuthKey_{other.key_id} (1).p8", f"AuthKey_{other.key_id}-2.p8"):
        response = browser.upload(link, key, filename=name)
        assert response.status_code == 422, response.text
        assert "names a different key ID than the one entered" in response.text
        assert "Check that the Key ID entered belongs to this file" in response.text
    assert server.intake.custody.list() == []


def test_a_second_download_of_the_right_key_is_accepted(
    tmp_path: Path, simulator: RunningSimulator, browser_session: Callable[[str], Browser]
) -> None:
    settings = intake_settings(tmp_path / "data", simulator.base_url)
    server = IntakeServer(settings, unreachable_prefect).start()
    try:
        browser = browser_session(server.base_url)
        _, link = server.new_link(make_request(simulator.bundle_id))
        key = simulator.add_key()
        response = browser.upload(link, key, filename=f"AuthKey_{key.key_id} (1).p8")
        assert response.status_code == 200, response.text
        assert [r.key_id for r in server.intake.custody.list()] == [key.key_id]
    finally:
        server.stop()


class RecordedUploads:
    """Every KeyUpload the intake makes, kept to look at its buffer after the request (a spy, not a stub)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.made: list[KeyUpload] = []
        made = self.made

        class Recorded(KeyUpload):
            def __init__(self, limits: Limits) -> None:
                super().__init__(limits)
                made.append(self)

        monkeypatch.setattr(intake_app, "KeyUpload", Recorded)

    def assert_wiped(self, count: int) -> None:
        deadline = time.monotonic() + 5
        while len(self.made) < count or any(any(u.buffer) or u.length for u in self.made):
            assert time.monotonic() < deadline, "a key buffer was not wiped"
            time.sleep(0.05)
        assert len(self.made) == count


def test_the_key_is_wiped_on_every_path(
    server: IntakeServer,
    simulator: RunningSimulator,
    browser_session: Callable[[str], Browser],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uploads = RecordedUploads(monkeypatch)
    browser = browser_session(server.base_url)
    _, link = server.new_link(make_request("com.example.demoapp"))
    key = make_customer_key()
    browser.open_form(link)
    cookie = browser.client.cookies["ascflow_intake_browser"]
    key_first = part("p8", key.p8.encode(), filename=key.filename)

    # Refused while streaming, after the key arrived: a field past its limit.
    body = key_first + part("key_id", b"K" * 5000) + b"--b--\r\n"
    head = post_head(
        server, link, cookie, Content_Type="multipart/form-data; boundary=b", Content_Length=str(len(body))
    )
    assert raw_exchange(server, head + body)[0] == 413
    # Unreadable after the key arrived.
    body = key_first + b"--b\r\nBad\0Header: x\r\n\r\n--b--\r\n"
    head = post_head(
        server, link, cookie, Content_Type="multipart/form-data; boundary=b", Content_Length=str(len(body))
    )
    assert raw_exchange(server, head + body)[0] == 400
    # The browser goes away after sending the key, before the form's end.
    head = post_head(
        server, link, cookie, Content_Type="multipart/form-data; boundary=b", Content_Length="9000"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(head + key_first)
        time.sleep(0.3)
    # Refused by the key loader, and by Apple (a role below Admin).
    assert browser.upload(link, key, key_id="abc").status_code == 422
    assert browser.upload(link, simulator.add_key(role="DEVELOPER")).status_code == 422
    uploads.assert_wiped(5)
    assert server.intake.custody.list() == []


@pytest.fixture
def intake_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`ascflow intake` as an operator starts it, with its stderr captured."""
    port = free_port()
    env = {
        **os.environ,
        "ASCFLOW_DATA_DIR": str(tmp_path / "data"),
        "ASCFLOW_INTAKE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "ASCFLOW_INTAKE_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "ASCFLOW_ASC_BASE_URL": f"http://127.0.0.1:{free_port()}",
        "PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api",  # nothing here reaches Prefect
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "ascflow"), "intake", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "ascflow intake exited"
        assert time.monotonic() < deadline, "ascflow intake did not start"
        try:
            httpx.get(f"{base_url}/healthz", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    yield process, base_url
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


def test_the_intake_process_logs_no_forged_line_no_traceback_and_dumps_no_core(
    intake_process: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    process, base_url = intake_process
    data_dir = tmp_path / "data"
    limits = Path(f"/proc/{process.pid}/limits").read_text()
    core = next(line for line in limits.splitlines() if line.startswith("Max core file size"))
    assert core.split()[4:6] == ["0", "0"], core

    port = int(base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        forged = "/api/x%0aINFO:%20POST%20/api/onboardings/FORGED%20201"
        conn.sendall(f"GET {forged} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        while conn.recv(65536):
            pass
    # The link is made in the same data directory (and so signed with the same secret) the process uses.
    settings = intake_settings(data_dir, f"http://127.0.0.1:{free_port()}", intake_public_url=base_url)
    _, link = Intake(settings).create(make_request("com.example.demoapp"))
    refused = httpx.post(
        link,
        content=MALFORMED["no boundary first"],
        headers={"Content-Type": "multipart/form-data; boundary=b"},
        timeout=10,
    )
    assert refused.status_code == 400, refused.text
    process.terminate()
    _, stderr = process.communicate(timeout=10)
    forged_lines = [line for line in stderr.splitlines() if "FORGED" in line]
    assert len(forged_lines) == 1, stderr
    assert "\\x0aINFO: POST /api/onboardings/FORGED" in forged_lines[0]
    assert not any(line.startswith("INFO: POST") for line in stderr.splitlines())
    assert "Traceback" not in stderr, stderr


def test_the_customer_sees_their_identifiers_and_the_operator_keeps_the_audit_anchor(
    server: IntakeServer, customer_key: CustomerKey
) -> None:
    intake = server.intake
    onboarding_id, _ = server.new_link(make_request("com.example.demoapp"))
    record = intake.custody.deposit(
        CustodyInput(
            tenant="acme-games",
            app_bundle_id="com.example.demoapp",
            key_id=customer_key.key_id,
            issuer_id=SecretStr(customer_key.issuer_id),
            p8=SecretStr(customer_key.p8),
        ),
        actor=Actor(kind="customer", id="acme-games"),
    )
    intake.custody.destroy(record.id, actor=Actor(kind="operator", id="test"))
    intake.store.claim_custody(onboarding_id, record.id)
    signed = intake.custody.receipt(record.id)
    assert signed is not None

    page_response = status_page(
        bundle_id="com.example.demoapp",
        view=StatusView(phase="done", run_state="Completed", receipt=signed),
        receipt=customer_receipt(signed),
        form_url="/o/x",
    )
    page = bytes(page_response.body).decode()
    assert customer_key.key_id in page
    assert signed.key_fingerprint in page
    assert "Revoke the key now in App Store Connect" in page
    for anchor in (signed.audit_hash, f"#{signed.audit_seq}", "Audit log position", *signed.removed):
        assert anchor not in page, anchor
    assert str(server.settings.data_dir) not in page

    with server.operator() as api:
        full = api.get(f"/api/onboardings/{onboarding_id}/receipt")
    assert full.status_code == 200, full.text
    assert full.json()["audit_seq"] == signed.audit_seq
    assert full.json()["signature"] == signed.signature
    assert datetime.fromisoformat(full.json()["destroyed_at"]) <= datetime.now(UTC)
