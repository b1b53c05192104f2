"""Fuzzing the intake with Hypothesis: hostile uploads over real HTTP, and the key loader on hostile bytes.

Shared by the short run in `make test` (tests/intake/test_fuzz.py) and the long one
(`python -m benchmarks.fuzz_intake --cases N`). An upload case is a multipart body built from generated parts,
then damaged (bytes inserted, cut, replaced, junk appended), sent under generated headers and framing
(Content-Length, chunked, both, a length that lies), with or without a valid form token and cookie. Every
answer must be below 500, uvicorn must log no error, and a refused upload must leave no custody record.
"""

from __future__ import annotations

import logging
import random
import select
import socket
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from prefect.client.orchestration import SyncPrefectClient

from ascflow.connect import ApiKey, InvalidCredentialsInput
from tests.fixtures.keys import CustomerKey, make_customer_key
from tests.intake.conftest import CSRF_FIELD, IntakeServer, make_request

Part = tuple[list[tuple[bytes, bytes]], bytes]
# The fuzz cases all come from one address to a few links: the upload rate limit would answer them all.
UNLIMITED = {"intake_upload_attempts": 10**9}
ANSWER_WAIT_SECONDS = 15.0


@dataclass
class Tally:
    cases: int = 0
    server_errors: int = 0
    stored_after_refusal: int = 0
    accepted: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    slowest_seconds: float = 0.0
    first_failure: str = ""

    def fail(self, what: str) -> None:
        if not self.first_failure:
            self.first_failure = what


def prefect_down() -> AbstractContextManager[SyncPrefectClient]:
    """Prefect not answering, at once: a key that survives the fuzzing stays in custody for a later handover."""
    raise httpx.ConnectError("Prefect is not running in the fuzz run")


class _Kept(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(level=logging.ERROR)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def errors_logged() -> Iterator[list[logging.LogRecord]]:
    """The errors uvicorn logs about the app while the block runs (an unhandled exception lands here)."""
    records: list[logging.LogRecord] = []
    handler = _Kept(records)
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


# --- what a case is made of ---------------------------------------------------------------------------------

_TOKEN_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"\\;,')
boundaries = st.one_of(
    st.just("b"),
    st.just("----WebKitFormBoundary7MA4YWxkTrZu0gW"),
    st.text(_TOKEN_CHARS, min_size=1, max_size=72),
)
header_names = st.one_of(
    st.sampled_from([b"Content-Disposition", b"content-disposition", b"Content-Type", b"X-Extra"]),
    st.binary(max_size=24),
)
field_names = st.sampled_from(["csrf", "issuer_id", "key_id", "p8", "other", "", 'p8"; x="'])
file_names = st.one_of(
    st.none(),
    st.sampled_from(["AuthKey_ABCDEFGHIJ.p8", "", "..\\\\x.p8", "a/b.p8", "AuthKey_ABCDEFGHIJ (1).p8"]),
    st.text(max_size=40),
)


@st.composite
def dispositions(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=80))
    value = f'form-data; name="{draw(field_names)}"'
    filename = draw(file_names)
    if filename is not None:
        value += f'; filename="{filename}"'
    return value.encode("utf-8", "surrogateescape")


@st.composite
def parts(draw: st.DrawFn, key: CustomerKey) -> Part:
    headers = [(b"Content-Disposition", draw(dispositions()))]
    headers += draw(st.lists(st.tuples(header_names, st.binary(max_size=40)), max_size=3))
    body = draw(
        st.one_of(
            st.binary(max_size=400),
            st.sampled_from([key.p8.encode(), key.key_id.encode(), key.issuer_id.encode()]),
            damaged(key.p8.encode()),
        )
    )
    return draw(st.permutations(headers)), body


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with up to three edits: bytes inserted, replaced or cut, or the whole cut short."""
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["insert", "replace", "cut", "truncate"]))
        chunk = draw(st.binary(min_size=1, max_size=16))
        if edit == "insert":
            data = data[:at] + chunk + data[at:]
        elif edit == "replace":
            data = data[:at] + chunk + data[at + len(chunk) :]
        elif edit == "cut":
            data = data[:at] + data[at + len(chunk) :]
        else:
            data = data[:at]
    return data


def assemble(boundary: bytes, form: list[Part]) -> bytes:
    body = b""
    for headers, content in form:
        lines = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
        body += b"--" + boundary + b"\r\n" + lines + b"\r\n" + content + b"\r\n"
    return body + b"--" + boundary + b"--\r\n"


def valid_form(key: CustomerKey) -> list[Part]:
    def text(name: str, value: str) -> Part:
        return [(b"Content-Disposition", f'form-data; name="{name}"'.encode())], value.encode()

    p8_headers = [(b"Content-Disposition", f'form-data; name="p8"; filename="{key.filename}"'.encode())]
    return [text("issuer_id", key.issuer_id), text("key_id", key.key_id), (p8_headers, key.p8.encode())]


@dataclass(frozen=True)
class UploadCase:
    content_type: str
    body: bytes
    framing: str
    chunk_seed: int
    with_token: bool
    extra_headers: tuple[tuple[str, str], ...]

    def request(self, host: str, path: str, token: str, cookie: str) -> bytes:
        body = self.body
        if token:
            body = (
                b'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n'
                + token.encode()
                + b"\r\n"
                + body
            )
        lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
        lines.append(f"Content-Type: {self.content_type}")
        lines += [f"{name}: {value}" for name, value in self.extra_headers]
        if cookie:
            lines.append(f"Cookie: ascflow_intake_browser={cookie}")
        if self.framing in ("length", "both"):
            lines.append(f"Content-Length: {len(body)}")
        if self.framing == "short":
            lines.append(f"Content-Length: {len(body) // 2}")
        if self.framing in ("chunked", "both"):
            lines.append("Transfer-Encoding: chunked")
            body = _chunked(body, random.Random(self.chunk_seed))
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _chunked(body: bytes, rng: random.Random) -> bytes:
    out, at = b"", 0
    while at < len(body):
        size = rng.randint(1, 2048)
        out += b"%x\r\n" % len(body[at : at + size]) + body[at : at + size] + b"\r\n"
        at += size
    return out + b"0\r\n\r\n"


@st.composite
def upload_cases(draw: st.DrawFn, key: CustomerKey) -> UploadCase:
    with_token = draw(st.booleans())
    boundary = "b" if with_token else draw(boundaries)
    form = draw(st.one_of(st.just(valid_form(key)), st.lists(parts(key), max_size=6)))
    body = assemble(boundary.encode(), form)
    body = draw(st.one_of(st.just(body), damaged(body), st.binary(max_size=600)))
    if draw(st.integers(0, 7)) == 0:
        body += draw(st.binary(min_size=1, max_size=64 * 1024))
    content_type = draw(
        st.one_of(
            st.just(f"multipart/form-data; boundary={boundary}"),
            st.just(f'multipart/form-data; boundary="{boundary}"'),
            st.sampled_from(["multipart/form-data", "application/x-www-form-urlencoded", "text/plain", ""]),
            st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80),
        )
    )
    extra = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["X-Forwarded-For", "Origin", "Referer", "Content-Encoding"]),
                st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
            ),
            max_size=2,
        )
    )
    return UploadCase(
        content_type=content_type,
        body=body,
        framing=draw(st.sampled_from(["length", "chunked", "both", "short"])),
        chunk_seed=draw(st.integers(0, 2**16)),
        with_token=with_token,
        extra_headers=tuple(extra),
    )


# --- running cases ---------------------------------------------------------------------------------------------


class UploadFuzzer:
    """Sends cases to one intake server and checks each answer; a link is replaced once a key is accepted."""

    def __init__(self, server: IntakeServer, bundle_id: str) -> None:
        self.server = server
        self.bundle_id = bundle_id
        self.tally = Tally()
        self._new_link()

    def _new_link(self) -> None:
        self.onboarding_id, self.link = self.server.new_link(make_request(self.bundle_id))

    def _form_token(self) -> tuple[str, str]:
        status, headers, page = self._exchange(
            f"GET {self.link} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        match = CSRF_FIELD.search(page.decode(errors="replace"))
        cookie = headers.get("set-cookie", "").split(";", 1)[0].split("=", 1)[-1]
        return (match.group(1), cookie) if status == 200 and match else ("", "")

    def _exchange(self, request: bytes) -> tuple[int | None, dict[str, str], bytes]:
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=30) as conn:
            # The server may answer and close before all was sent: the answer is still there to read.
            with suppress(BrokenPipeError, ConnectionResetError):
                conn.sendall(request)
            received = b""
            try:
                if not select.select([conn], [], [], ANSWER_WAIT_SECONDS)[0]:
                    # The server waits for a body that will never come: end it (uvicorn then closes).
                    conn.shutdown(socket.SHUT_WR)
                while chunk := conn.recv(65536):
                    received += chunk
            except (ConnectionResetError, BrokenPipeError):
                pass
        if not received.startswith(b"HTTP/1.1 "):
            return None, {}, b""  # no answer: the server saw a broken request end and closed
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:])}
        return int(lines[0].split()[1]), headers, body

    def send(self, case: UploadCase) -> None:
        intake = self.server.intake
        records_before = len(intake.custody.list())
        token, cookie = self._form_token() if case.with_token else ("", "")
        started = time.monotonic()
        status, _, _ = self._exchange(case.request(f"127.0.0.1:{self.server.port}", self.link, token, cookie))
        tally = self.tally
        tally.slowest_seconds = max(tally.slowest_seconds, time.monotonic() - started)
        tally.cases += 1
        tally.statuses[str(status)] += 1
        if status is not None and status >= 500:
            tally.server_errors += 1
            tally.fail(f"{status} for {case!r}"[:2000])
        stored = len(intake.custody.list()) - records_before
        if status == 200 and stored == 1:
            tally.accepted += 1
            self._new_link()
        elif stored:
            tally.stored_after_refusal += 1
            tally.fail(f"{status} stored {stored} record(s) for {case!r}"[:2000])


def fuzz_uploads(server: IntakeServer, bundle_id: str, cases: int) -> Tally:
    fuzzer = UploadFuzzer(server, bundle_id)
    key = make_customer_key()

    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(upload_cases(key))
    def one(case: UploadCase) -> None:
        fuzzer.send(case)

    with errors_logged() as errors:
        one()
    if errors:
        fuzzer.tally.server_errors += len(errors)
        fuzzer.tally.fail(f"uvicorn logged: {errors[0].getMessage()}")
    return fuzzer.tally


def fuzz_key_loader(cases: int) -> Tally:
    """`ApiKey.from_p8` on damaged keys and arbitrary bytes: a key or `InvalidCredentialsInput`, nothing else."""
    key = make_customer_key()
    tally = Tally()
    inputs = st.one_of(damaged(key.p8.encode()), st.binary(max_size=2048), st.text(max_size=400))

    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(inputs, st.one_of(st.just(key.filename), st.none(), file_names))
    def one(data: bytes | str, filename: str | None) -> None:
        tally.cases += 1
        try:
            ApiKey.from_p8(data, key_id=key.key_id, issuer_id=key.issuer_id, filename=filename)
            tally.statuses["loaded"] += 1
        except InvalidCredentialsInput as refused:
            tally.statuses[f"refused:{refused.field}"] += 1
        except Exception as error:
            tally.server_errors += 1
            tally.fail(f"{type(error).__name__} for {data!r}"[:2000])

    one()
    return tally
