"""Bad input gets a clear 4xx naming the field, and nothing is stored: custody, disk and temp dir unchanged.

The intake runs under uvicorn on loopback; Apple is the simulator; Prefect is absent on purpose: a refused
upload must never reach it (NoPrefect fails the request if it does).
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ascflow.intake.links import LinkSigner
from ascflow.intake.upload import KeyUpload, Limits, UploadRefused, read_upload
from tests.fixtures.keys import CustomerKey, make_customer_key
from tests.fixtures.simulator import RunningSimulator
from tests.intake.conftest import (
    Browser,
    IntakeServer,
    NoPrefect,
    files_under,
    intake_settings,
    make_request,
)


class Refusals:
    """One intake server and a customer's link; snapshots of everything that must stay unchanged."""

    def __init__(self, server: IntakeServer, browser: Browser, spool: Path, data_dir: Path) -> None:
        self.server = server
        self.browser = browser
        self.spool = spool
        self.data_dir = data_dir
        request = make_request("com.example.demoapp")
        self.onboarding_id, self.link = server.new_link(request)
        server.intake.custody.list()  # open custody and audit now, so their own files exist before snapshots
        self.before = files_under(data_dir)

    def assert_refused(self, response: httpx.Response, status: int, field: str, *words: str) -> None:
        assert response.status_code == status, response.text
        marker = 'id="form-error"' if field == "form" else f'id="{field}-error"'
        assert marker in response.text
        for word in words:
            assert word in response.text
        assert "Nothing you sent was kept" in response.text
        self.assert_nothing_stored()

    def assert_nothing_stored(self) -> None:
        intake = self.server.intake
        assert intake.custody.list() == []
        assert list(intake.audit.events()) == []
        assert files_under(self.data_dir) == self.before
        assert list(self.spool.iterdir()) == [], "something was spooled to a temporary file"
        assert intake.store.get(self.onboarding_id).custody_id is None


@pytest.fixture
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own temp dir: a part spooled to disk anywhere in the process would land here."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def refusals(
    tmp_path: Path, simulator: RunningSimulator, spool: Path, browser_session: Callable[[str], Browser]
) -> Iterator[Callable[..., Refusals]]:
    servers: list[IntakeServer] = []

    def start(**settings: Any) -> Refusals:
        data_dir = tmp_path / f"data{len(servers)}"
        server = IntakeServer(intake_settings(data_dir, simulator.base_url, **settings), NoPrefect()).start()
        servers.append(server)
        return Refusals(server, browser_session(server.base_url), spool, data_dir)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def refused(refusals: Callable[..., Refusals]) -> Refusals:
    return refusals()


def test_the_form_explains_each_field_and_the_limits(refused: Refusals) -> None:
    page = refused.browser.get(refused.link)
    assert page.status_code == 200
    for text in (
        "Issuer ID",
        "Key ID",
        ".p8",
        "Users and Access",
        "Integrations",
        "16 KiB",
        "4 KiB",
        "Admin",
    ):
        assert text in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert "ascflow_intake_browser" in page.headers["set-cookie"]
    assert "samesite=strict" in page.headers["set-cookie"].lower()
    assert "httponly" in page.headers["set-cookie"].lower()


def test_every_response_carries_strict_security_headers(refused: Refusals) -> None:
    for response in (
        refused.browser.get(refused.link),
        refused.browser.get("/o/forged"),
        refused.browser.get("/static/intake.css"),
    ):
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "form-action 'self'" in csp
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"


def test_oversize_request_is_refused_by_its_content_length_before_the_body_is_read(refused: Refusals) -> None:
    browser = refused.browser
    csrf = browser.open_form(refused.link)
    cookie = browser.client.cookies["ascflow_intake_browser"]
    body = b'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n' + csrf.encode() + b"\r\n"
    host, port = refused.server.base_url.removeprefix("http://").split(":")
    head = (
        f"POST {refused.link} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {100 * 1024 * 1024}\r\nCookie: ascflow_intake_browser={cookie}\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head.encode() + body)  # 100 MB announced, a few bytes sent: the answer must come anyway
        received = b""
        while b"</html>" not in received and (chunk := conn.recv(65536)):
            received += chunk
    answer = received.decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "larger than the 16 KiB" in answer
    refused.assert_nothing_stored()


def test_oversize_body_without_content_length_is_cut_off_while_streaming(
    refusals: Callable[..., Refusals],
) -> None:
    refused = refusals(intake_max_request_bytes=2048)
    key = make_customer_key()
    csrf = refused.browser.open_form(refused.link)
    body = (
        b'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n' + csrf.encode() + b"\r\n"
        b'--b\r\nContent-Disposition: form-data; name="p8"; filename="'
        + key.filename.encode()
        + b'"\r\n\r\n'
        + key.p8.encode() * 12
        + b"\r\n--b--\r\n"
    )

    def chunks() -> Iterator[bytes]:  # no length known up front: Transfer-Encoding: chunked
        for start in range(0, len(body), 512):
            yield body[start : start + 512]

    response = refused.browser.post(
        refused.link, content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    refused.assert_refused(response, 413, "form", "larger than the 2 KiB")


def test_reading_stops_at_the_first_chunk_past_the_limit() -> None:
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        yield b'--b\r\nContent-Disposition: form-data; name="key_id"\r\n\r\n'
        while True:
            pulled += 1
            yield b"A" * 100

    async def read() -> None:
        limits = Limits(request_bytes=10_000, key_bytes=4096)
        await read_upload(endless(), b"b", limits, KeyUpload(limits))

    with pytest.raises(UploadRefused) as refused:
        asyncio.run(read())
    assert refused.value.status == 413
    assert pulled <= 11, "the parser went on reading after the field's limit"


def test_oversize_key_part(refused: Refusals) -> None:
    key = make_customer_key()
    response = refused.browser.upload(refused.link, key, p8=key.p8.encode() + b"\n" * 5000)
    refused.assert_refused(response, 413, "p8", "larger than 4096 bytes")


def test_no_file(refused: Refusals) -> None:
    key = make_customer_key()
    csrf = refused.browser.open_form(refused.link)
    data = {"csrf": csrf, "issuer_id": key.issuer_id, "key_id": key.key_id}
    response = refused.browser.post(
        refused.link, data=data, files={"p8": ("", b"", "application/octet-stream")}
    )
    refused.assert_refused(response, 400, "p8", "No key file was chosen")
    # A form with no file part at all, as a script might send it.
    response = refused.browser.post(
        refused.link,
        data={**data, "csrf": refused.browser.open_form(refused.link)},
        files={"other": ("x", b"")},
    )
    assert response.status_code == 400


def test_two_files(refused: Refusals) -> None:
    key = make_customer_key()
    csrf = refused.browser.open_form(refused.link)
    files = [("p8", (key.filename, key.p8.encode())), ("p8", (key.filename, key.p8.encode()))]
    data = {"csrf": csrf, "issuer_id": key.issuer_id, "key_id": key.key_id}
    response = refused.browser.post(refused.link, data=data, files=files)
    refused.assert_refused(response, 400, "p8", "More than one file")


@pytest.mark.parametrize("name", ["../AuthKey_{}.p8", "C:\\Users\\me\\AuthKey_{}.p8", "keys/AuthKey_{}.p8"])
def test_path_in_the_file_name(refused: Refusals, name: str) -> None:
    key = make_customer_key()
    response = refused.browser.upload(refused.link, key, filename=name.format(key.key_id))
    refused.assert_refused(response, 422, "p8", "file name", "path separator")


def _certificate_pem() -> bytes:
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not a key")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(private, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"hello, this is my key\n", "neither a PEM"),
        (_certificate_pem(), "is a certificate"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
    ],
    ids=["text", "certificate", "image"],
)
def test_a_file_that_is_not_a_key(refused: Refusals, content: bytes, words: str) -> None:
    response = refused.browser.upload(refused.link, make_customer_key(), p8=content)
    refused.assert_refused(response, 422, "p8", words, "App Store Connect")


def test_a_key_id_that_does_not_match_the_file(refused: Refusals) -> None:
    key = make_customer_key()
    other = make_customer_key().key_id
    response = refused.browser.upload(refused.link, key, key_id=other)
    refused.assert_refused(response, 422, "p8", "different key ID", "Key ID entered")


def test_a_key_id_of_the_wrong_shape(refused: Refusals) -> None:
    response = refused.browser.upload(refused.link, make_customer_key(), key_id="abc")
    refused.assert_refused(
        response, 422, "key_id", "The key ID must be exactly 10 characters", "Key ID shown"
    )


@pytest.mark.parametrize(
    "issuer", ["not-a-uuid", "1b2c3d4e-96fe-1a63-e053", "00f5d3e0-5c28-4fa2-bdb0-0134cf52f2330"]
)
def test_an_issuer_id_that_is_not_a_uuid(refused: Refusals, issuer: str) -> None:
    response = refused.browser.upload(refused.link, make_customer_key(), issuer_id=issuer)
    refused.assert_refused(response, 422, "issuer_id", "must be a UUID", "Issuer ID shown above the key list")
    assert issuer not in response.text


def test_a_key_whose_role_is_not_admin_is_refused_after_asking_apple(
    refused: Refusals, simulator: RunningSimulator
) -> None:
    key = simulator.add_key(role="DEVELOPER")
    response = refused.browser.upload(refused.link, key)
    refused.assert_refused(response, 422, "p8", "role is not Admin", "generate a new key with Admin access")
    assert any(r.path.startswith("/v1/") for r in simulator.control.requests()), "Apple was never asked"


def test_a_key_of_an_account_without_the_app_is_refused(
    refusals: Callable[..., Refusals], simulator: RunningSimulator
) -> None:
    refused = refusals()
    _, link = refused.server.new_link(make_request("com.example.notthere"))
    response = refused.browser.upload(link, simulator.add_key())
    assert response.status_code == 422
    assert "no app with bundle ID com.example.notthere" in response.text
    assert refused.server.intake.custody.list() == []


def test_a_forged_link(refused: Refusals) -> None:
    other = LinkSigner(b"x" * 32)
    onboarding = refused.server.intake.store.get(refused.onboarding_id)
    claims = other.issue(onboarding.id, onboarding.tenant, onboarding.bundle_id, timedelta(hours=1))
    for path in (f"/o/{other.token(claims)}", "/o/not-a-token", refused.link[:-3] + "abc"):
        for response in (refused.browser.get(path), refused.browser.post(path, files={"p8": ("a", b"b")})):
            assert response.status_code == 404
            assert "This link is not valid" in response.text
    refused.assert_nothing_stored()


def test_an_expired_link(refused: Refusals) -> None:
    intake = refused.server.intake
    onboarding = intake.store.get(refused.onboarding_id)
    claims = intake.signer.issue(
        onboarding.id, onboarding.tenant, onboarding.bundle_id, timedelta(seconds=-5)
    )
    intake.store.replace_link(onboarding.id, claims.nonce, claims.expires_at)
    path = f"/o/{intake.signer.token(claims)}"
    response = refused.browser.upload(path, make_customer_key(), csrf="x")
    assert response.status_code == 410
    assert "This link has expired" in response.text
    assert refused.browser.get(path + "/status").status_code == 410
    refused.assert_nothing_stored()


def test_a_new_link_revokes_the_old_one(refused: Refusals) -> None:
    _, new_link = refused.server.intake.new_link(refused.onboarding_id)
    old = refused.browser.get(refused.link)
    assert old.status_code == 410
    assert "replaced by a newer one" in old.text
    assert refused.browser.get(new_link.removeprefix(refused.server.base_url)).status_code == 200


def test_a_replayed_form(refused: Refusals, simulator: RunningSimulator) -> None:
    key = simulator.add_key(role="DEVELOPER")
    csrf = refused.browser.open_form(refused.link)
    first = refused.browser.upload(refused.link, key, csrf=csrf)
    assert first.status_code == 422
    requests_to_apple = len(simulator.control.requests())
    replay = refused.browser.upload(refused.link, key, csrf=csrf)
    refused.assert_refused(replay, 409, "form", "already sent once")
    assert len(simulator.control.requests()) == requests_to_apple, "a replayed form reached Apple"


def test_a_missing_csrf_token(refused: Refusals) -> None:
    refused.browser.open_form(refused.link)  # the browser has its cookie, the form lacks the token
    response = refused.browser.upload(refused.link, make_customer_key(), csrf="")
    refused.assert_refused(response, 403, "form", "security token is missing")


def test_a_csrf_token_from_another_browser(
    refused: Refusals, browser_session: Callable[[str], Browser]
) -> None:
    csrf = refused.browser.open_form(refused.link)
    attacker = browser_session(refused.server.base_url)
    attacker.open_form(refused.link)  # its own cookie
    response = attacker.upload(refused.link, make_customer_key(), csrf=csrf)
    refused.assert_refused(response, 403, "form", "does not belong to this browser")


def test_an_upload_that_is_not_a_form(refused: Refusals) -> None:
    response = refused.browser.post(refused.link, json={"p8": "x"})
    refused.assert_refused(response, 415, "form", "not a multipart form")


def test_refusals_never_echo_what_was_sent(refused: Refusals, customer_key: CustomerKey) -> None:
    secret_issuer = str(uuid.uuid4())
    response = refused.browser.upload(refused.link, customer_key, issuer_id=secret_issuer, key_id="ZZZZZZZZZ")
    assert response.status_code == 422
    for value in (secret_issuer, "ZZZZZZZZZ", customer_key.key_id, customer_key.p8.splitlines()[1]):
        assert value not in response.text
