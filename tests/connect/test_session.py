"""Session over real HTTP on loopback: auth, observation, retries, the write rule, pagination, uploads."""

from __future__ import annotations

import logging
import re
import ssl
import threading
import time

import httpx
import jwt
import pytest

from ascflow.connect.errors import (
    NotAuthorized,
    OutcomeUnknown,
    RateLimited,
    ServerError,
    TransportFailure,
    UnexpectedResponse,
)
from ascflow.connect.keys import ApiKey
from ascflow.connect.ratelimit import HourlyBudget
from ascflow.connect.retry import RetryPolicy
from ascflow.connect.session import RequestRecord, Session, tls_context
from tests.connect.scripted_apple import Drop, Reply, Reset, ScriptedApple
from tests.fixtures.keys import make_customer_key

FAST = RetryPolicy(
    max_attempts=4, base_delay_s=0.01, max_delay_s=0.05, max_total_s=5.0, max_retry_after_s=1.0
)
# Only sessions meant to time out get a short read timeout; a loaded CI machine must not trip the others.
SHORT_READ_TIMEOUT_S = 0.5
SLOW_S = 1.0
APPS = {
    "data": [{"type": "apps", "id": "1", "attributes": {"bundleId": "com.example"}}],
    "links": {"self": "x"},
}
LIMITS = {"X-Rate-Limit": "user-hour-lim:3600;user-hour-rem:3512;"}


@pytest.fixture
def server():
    with ScriptedApple() as server:
        yield server


@pytest.fixture
def api_key(customer_key) -> ApiKey:
    return ApiKey.from_p8(customer_key.p8, key_id=customer_key.key_id, issuer_id=customer_key.issuer_id)


@pytest.fixture
def records() -> list[RequestRecord]:
    return []


def read_timeout_for(fault: object) -> float:
    return SHORT_READ_TIMEOUT_S if isinstance(fault, Reply) and fault.delay_s else 5.0


@pytest.fixture
def session(server: ScriptedApple, api_key: ApiKey, records: list[RequestRecord]):
    with open_session(server, api_key, records) as opened:
        yield opened


def open_session(
    server: ScriptedApple, key: ApiKey, records: list[RequestRecord], read_timeout_s: float = 5.0, **options
) -> Session:
    return Session(
        key,
        base_url=server.base_url,
        timeout=httpx.Timeout(5.0, read=read_timeout_s),
        retry=options.pop("retry", FAST),
        on_request=records.append,
        budget=options.pop("budget", HourlyBudget()),
        **options,
    )


def test_get_sends_a_verifiable_bearer_token_and_reports_the_request(
    server: ScriptedApple, session: Session, records: list[RequestRecord], customer_key
) -> None:
    server.queue(Reply(200, APPS, LIMITS))
    assert session.get("/v1/apps", {"filter[bundleId]": "com.example", "limit": 5}) == APPS
    (request,) = server.requests
    assert (request.method, request.path) == ("GET", "/v1/apps")
    assert request.query == {"filter[bundleId]": ["com.example"], "limit": ["5"]}
    assert request.headers["accept"] == "application/json"
    token = request.headers["authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, customer_key.public_pem, algorithms=["ES256"], audience="appstoreconnect-v1")
    assert claims["iss"] == customer_key.issuer_id
    assert jwt.get_unverified_header(token)["kid"] == customer_key.key_id
    (record,) = records
    assert (record.method, record.path, record.status, record.attempt) == ("GET", "/v1/apps", 200, 1)
    assert record.rate_limit_remaining == 3512
    assert 0 < record.duration_s < 2
    assert record.error is None


def test_one_connection_pool_serves_many_requests(server: ScriptedApple, session: Session) -> None:
    server.always(Reply(200, APPS))
    for _ in range(5):
        session.get("/v1/apps")
    # Keep-alive through the session's single client: five requests, one TCP connection.
    assert len({r.peer for r in server.requests}) == 1
    assert len(server.requests) == 5


def test_sessions_share_one_tls_context_that_verifies_apple(api_key: ApiKey) -> None:
    # Loading the CA bundle per session cost ~50 ms of CPU for each step of a run; sharing must not loosen it.
    made = tls_context.cache_info().misses
    for _ in range(3):
        Session(api_key).close()
    assert tls_context.cache_info().misses <= max(made, 1)
    context = tls_context()
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0


@pytest.mark.parametrize(
    "fault",
    [
        Reply(503, "busy"),
        Reply(500),
        Reply(502),
        Reply(408),
        Drop(),
        Reset(),
        Reply(200, APPS, delay_s=SLOW_S),
    ],
    ids=["503", "500", "502", "408", "dropped", "reset", "timeout"],
)
def test_a_read_is_retried_after_a_transient_failure(
    server: ScriptedApple, api_key: ApiKey, records: list[RequestRecord], fault
) -> None:
    server.queue(fault, Reply(200, APPS))
    with open_session(server, api_key, records, read_timeout_for(fault)) as session:
        assert session.get("/v1/apps") == APPS
    assert len(server.requests) == 2
    assert [r.attempt for r in records] == [1, 2]
    assert records[-1].status == 200
    if isinstance(fault, Reply) and fault.delay_s == 0:
        assert records[0].status == fault.status
    else:
        assert records[0].status is None
        assert records[0].error in {"RemoteProtocolError", "ReadError", "ReadTimeout"}


@pytest.mark.parametrize(
    ("method", "fault"),
    [
        ("POST", Drop()),
        ("POST", Reset()),
        ("POST", Reply(201, {"data": {}}, delay_s=SLOW_S)),
        ("PATCH", Drop()),
        ("DELETE", Drop()),
        ("POST", Reply(500, {"errors": [{"status": "500", "code": "UNEXPECTED_ERROR", "title": "t"}]})),
        ("PATCH", Reply(503, "busy")),
    ],
    ids=[
        "post-dropped",
        "post-reset",
        "post-timeout",
        "patch-dropped",
        "delete-dropped",
        "post-500",
        "patch-503",
    ],
)
def test_a_write_apple_may_have_applied_is_never_replayed(
    server: ScriptedApple, api_key: ApiKey, method: str, fault
) -> None:
    server.queue(fault, Reply(201, {"data": {"type": "certificates", "id": "2"}}))
    session = open_session(server, api_key, [], read_timeout_for(fault))
    body = {"data": {"type": "certificates", "attributes": {"certificateType": "DISTRIBUTION"}}}
    call = {
        "POST": lambda: session.post("/v1/certificates", body),
        "PATCH": lambda: session.patch("/v1/certificates/1", body),
        "DELETE": lambda: session.delete("/v1/certificates/1"),
    }[method]
    with session, pytest.raises(OutcomeUnknown) as caught:
        call()
    # Apple saw the write exactly once (counted by our client's User-Agent: a stray request of an earlier test's
    # client can reach a port this server reused, as it once did under xdist).
    ours = [r for r in server.requests if r.headers.get("user-agent") == "ascflow"]
    assert len(ours) == 1
    assert "read the resource back" in str(caught.value)
    if isinstance(fault, Reply) and fault.status >= 500:
        assert caught.value.status == fault.status


def test_a_refused_connection_on_a_write_is_retried(api_key: ApiKey, records: list[RequestRecord]) -> None:
    with ScriptedApple(listening=False) as server:
        server.queue(Reply(201, {"data": {"type": "bundleIds", "id": "B1"}}))

        def observe(record: RequestRecord) -> None:
            records.append(record)
            if record.error == "ConnectError":
                server.listen()  # the server comes up only after the first attempt was refused

        with Session(
            api_key, base_url=server.base_url, retry=FAST, on_request=observe, budget=HourlyBudget()
        ) as session:
            created = session.post("/v1/bundleIds", {"data": {"type": "bundleIds"}})
        assert created == {"data": {"type": "bundleIds", "id": "B1"}}
        assert len(server.requests) == 1
        assert [(r.status, r.error) for r in records] == [(None, "ConnectError"), (201, None)]


def test_a_read_that_can_never_connect_gives_up_within_its_bounds(
    api_key: ApiKey, records: list[RequestRecord]
) -> None:
    with ScriptedApple(listening=False) as server, open_session(server, api_key, records) as session:
        started = time.monotonic()
        with pytest.raises(TransportFailure) as caught:
            session.get("/v1/apps")
    assert time.monotonic() - started < 2
    assert len(records) == FAST.max_attempts
    assert "ConnectError" in str(caught.value)
    assert "network" in caught.value.next_step


def test_429_with_retry_after_is_honoured_for_reads_and_writes(
    server: ScriptedApple, session: Session, records: list[RequestRecord]
) -> None:
    limited = Reply(
        429,
        {"errors": [{"status": "429", "code": "RATE_LIMIT_EXCEEDED", "title": "t"}]},
        {"Retry-After": "0.3"},
    )
    server.queue(limited, Reply(200, APPS), limited, Reply(201, {"data": {"type": "profiles", "id": "P"}}))
    session.get("/v1/apps")
    session.post("/v1/profiles", {"data": {"type": "profiles"}})
    gaps = [server.requests[i + 1].at - server.requests[i].at for i in (0, 2)]
    assert all(gap >= 0.3 for gap in gaps), gaps
    assert [r.status for r in records] == [429, 200, 429, 201]


def test_a_retry_after_beyond_the_cap_is_not_waited_for(server: ScriptedApple, session: Session) -> None:
    server.queue(
        Reply(429, {"errors": [{"status": "429", "code": "RATE_LIMIT_EXCEEDED"}]}, {"Retry-After": "3600"})
    )
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        session.get("/v1/apps")
    assert time.monotonic() - started < 1.5  # not an hour
    assert caught.value.retry_after == 3600
    assert len(server.requests) == 1


def test_retries_stop_after_max_attempts(server: ScriptedApple, session: Session) -> None:
    server.always(Reply(503, "down"))
    with pytest.raises(ServerError):
        session.get("/v1/apps")
    assert len(server.requests) == FAST.max_attempts


def test_retries_stop_at_the_total_time_budget(server: ScriptedApple, api_key: ApiKey) -> None:
    server.always(Reply(503, "down", {"Retry-After": "0.2"}))
    policy = RetryPolicy(max_attempts=100, max_total_s=0.5, max_retry_after_s=1.0)
    with open_session(server, api_key, [], retry=policy) as session, pytest.raises(ServerError):
        session.get("/v1/apps")
    assert 2 <= len(server.requests) <= 3


def test_401_is_not_retried(server: ScriptedApple, session: Session) -> None:
    server.queue(
        Reply(401, {"errors": [{"status": "401", "code": "NOT_AUTHORIZED", "title": "t"}]}), Reply(200, APPS)
    )
    with pytest.raises(NotAuthorized):
        session.get("/v1/apps")
    assert len(server.requests) == 1


def test_pagination_follows_next_links_with_limit_200(
    server: ScriptedApple, session: Session, records: list[RequestRecord]
) -> None:
    page = {
        "data": [{"type": "apps", "id": "1"}],
        "links": {"self": "s", "next": f"{server.base_url}/v1/apps?cursor=Mg&limit=200"},
    }
    second = {
        "data": [{"type": "apps", "id": "2"}],
        "links": {"self": "s", "next": f"{server.base_url}/v1/apps?cursor=NA"},
    }
    last = {"data": [{"type": "apps", "id": "3"}], "links": {"self": "s"}}
    server.queue(Reply(200, page), Reply(200, second), Reply(200, last))
    pages = list(session.paginate("/v1/apps", {"filter[bundleId]": "com.example"}))
    assert [p["data"][0]["id"] for p in pages] == ["1", "2", "3"]
    assert server.requests[0].query == {"filter[bundleId]": ["com.example"], "limit": ["200"]}
    assert server.requests[1].query == {"cursor": ["Mg"], "limit": ["200"]}
    assert server.requests[2].query == {"cursor": ["NA"]}
    assert all(r.headers["authorization"].startswith("Bearer ") for r in server.requests)
    assert [r.path for r in records] == ["/v1/apps"] * 3  # cursors are not reported


@pytest.mark.parametrize(
    "next_link",
    [
        "https://evil.example/v1/apps?cursor=Mg",
        "http://localhost:{port}/v1/apps?cursor=Mg",
        "https://127.0.0.1:{port}/v1/apps",
    ],
    ids=["other-host", "other-hostname", "other-scheme"],
)
def test_pagination_refuses_a_next_link_on_another_origin(
    server: ScriptedApple, session: Session, next_link: str
) -> None:
    page = {"data": [], "links": {"self": "s", "next": next_link.format(port=server.port)}}
    server.queue(Reply(200, page), Reply(200, {"data": [], "links": {"self": "s"}}))
    pages = session.paginate("/v1/apps")
    assert next(pages) == page
    with pytest.raises(UnexpectedResponse, match="another host"):
        next(pages)
    assert len(server.requests) == 1


def test_writes_send_json_and_map_204(server: ScriptedApple, session: Session) -> None:
    created = {"data": {"type": "bundleIds", "id": "B1"}}
    server.queue(Reply(201, created), Reply(204), Reply(200, created), Reply(204), Reply(204))
    body = {"data": {"type": "bundleIds", "attributes": {"identifier": "com.example"}}}
    assert session.post("/v1/bundleIds", body) == created
    assert session.patch("/v1/bundleIds/B1", body) is None
    assert session.patch("/v1/bundleIds/B1", body) == created
    session.delete("/v1/bundleIds/B1")
    session.delete("/v1/reviewSubmissionItems/1", {"data": [{"type": "x", "id": "1"}]})
    assert [r.method for r in server.requests] == ["POST", "PATCH", "PATCH", "DELETE", "DELETE"]
    assert server.requests[0].json() == body
    assert server.requests[0].headers["content-type"] == "application/json"
    assert server.requests[4].json() == {"data": [{"type": "x", "id": "1"}]}


def test_a_success_without_a_json_document_is_unexpected(server: ScriptedApple, session: Session) -> None:
    server.queue(Reply(200, "<html>captive portal</html>"))
    with pytest.raises(UnexpectedResponse, match="not a JSON object"):
        session.get("/v1/apps")


def test_upload_part_sends_no_token_and_reports_host_and_path_only(
    server: ScriptedApple, session: Session, records: list[RequestRecord]
) -> None:
    server.queue(Drop(), Reply(200))
    url = f"{server.base_url}/upload/part-1?X-Amz-Signature=SECRETSIG&X-Amz-Credential=CRED"
    session.upload_part("PUT", url, {"Content-Type": "application/octet-stream"}, b"\x00part-bytes")
    assert len(server.requests) == 2  # a part PUT is idempotent, so it is retried
    for request in server.requests:
        assert "authorization" not in request.headers
        assert request.body == b"\x00part-bytes"
        assert request.query["X-Amz-Signature"] == ["SECRETSIG"]
    assert [r.path for r in records] == ["127.0.0.1/upload/part-1"] * 2
    assert "SECRETSIG" not in repr(records)


def test_records_never_hold_tokens_queries_or_bodies(
    server: ScriptedApple, session: Session, records: list[RequestRecord]
) -> None:
    server.always(Reply(201, {"data": {"type": "users", "id": "U"}}, LIMITS))
    session.post("/v1/userInvitations", {"data": {"attributes": {"email": "secret-person@example.com"}}})
    session.get("/v1/users", {"filter[username]": "secret-person@example.com"})
    token = server.requests[0].headers["authorization"].removeprefix("Bearer ")
    shown = repr(records)
    assert "secret-person" not in shown
    assert token not in shown
    assert "Bearer" not in shown


def test_a_failing_observer_does_not_fail_the_request(server: ScriptedApple, api_key: ApiKey) -> None:
    def broken(record: RequestRecord) -> None:
        raise RuntimeError("observer bug")

    server.queue(Reply(201, {"data": {"type": "profiles", "id": "P"}}))
    with Session(api_key, base_url=server.base_url, on_request=broken, budget=HourlyBudget()) as session:
        assert session.post("/v1/profiles", {"data": {}}) == {"data": {"type": "profiles", "id": "P"}}
    assert len(server.requests) == 1


def test_a_session_is_safe_to_share_between_threads(server: ScriptedApple, session: Session) -> None:
    server.always(Reply(200, APPS))
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                assert session.get("/v1/apps") == APPS
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(server.requests) == 20
    assert len({r.headers["authorization"] for r in server.requests}) == 1  # one token shared


def test_session_repr_holds_no_secret(session: Session, customer_key) -> None:
    assert customer_key.key_id in repr(session)
    assert "BEGIN" not in repr(session)


def retry_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ascflow.connect.session"]


def test_each_retry_logs_the_request_the_reason_and_the_wait(
    server: ScriptedApple, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ascflow.connect.session")
    error = {"errors": [{"status": "503", "code": "UNEXPECTED_ERROR", "title": "busy"}]}
    limited = {"errors": [{"status": "429", "code": "RATE_LIMIT_EXCEEDED", "title": "slow down"}]}
    server.queue(
        Reply(503, error),
        Reset(),
        Reply(200, APPS),
        Reply(429, limited, {"Retry-After": "0.05"}),
        Reply(201, {"data": {"type": "profiles", "id": "P"}}),
    )
    session.get("/v1/apps", {"filter[bundleId]": "com.example.secret-filter"})
    session.post("/v1/profiles", {"data": {"type": "profiles"}})
    lines = retry_lines(caplog)
    assert len(lines) == 3  # one per retried attempt
    assert re.fullmatch(
        r"GET /v1/apps: HTTP 503 UNEXPECTED_ERROR; retrying in 0\.\d\ds \(backoff\), attempt 2 of 4", lines[0]
    )
    assert re.fullmatch(
        r"GET /v1/apps: (ReadError|RemoteProtocolError); retrying in .*attempt 3 of 4", lines[1]
    )
    assert lines[2] == (
        "POST /v1/profiles: HTTP 429 RATE_LIMIT_EXCEEDED; retrying in 0.05s (Retry-After), attempt 2 of 4"
    )
    assert not any("secret-filter" in line for line in lines)


def test_requests_that_are_not_retried_log_nothing(
    server: ScriptedApple, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ascflow.connect.session")
    server.queue(
        Reply(200, APPS),
        Reply(401, {"errors": [{"status": "401", "code": "NOT_AUTHORIZED"}]}),
        Reply(500, {"errors": [{"status": "500", "code": "UNEXPECTED_ERROR"}]}),
    )
    session.get("/v1/apps")
    with pytest.raises(NotAuthorized):
        session.get("/v1/apps")
    with pytest.raises(OutcomeUnknown):
        session.post("/v1/profiles", {"data": {"type": "profiles"}})  # maybe applied: not replayed
    assert retry_lines(caplog) == []


def test_no_log_line_of_a_retried_request_holds_a_secret(
    server: ScriptedApple, caplog: pytest.LogCaptureFixture
) -> None:
    """A canary key, a token, a presigned signature and a body: none appears in any logger's output."""
    canary = make_customer_key()
    key = ApiKey.from_p8(canary.p8, key_id=canary.key_id, issuer_id=canary.issuer_id)
    caplog.set_level(logging.DEBUG)  # every logger, httpx's and httpcore's included
    server.queue(Drop(), Reply(200, APPS), Reply(503, "down"), Reset(), Reply(200))
    with open_session(server, key, []) as session:
        session.get("/v1/users", {"filter[username]": "canary-person@example.com"})
        with pytest.raises(OutcomeUnknown):
            session.post(
                "/v1/userInvitations", {"data": {"attributes": {"email": "canary-body@example.com"}}}
            )
        part = f"{server.base_url}/upload/part-1?X-Amz-Signature=CANARYSIGNATURE&X-Amz-Credential=CANARYCRED"
        session.upload_part("PUT", part, {"Content-Type": "application/octet-stream"}, b"canary-part-bytes")
    token = server.requests[0].headers["authorization"].removeprefix("Bearer ")
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''} {vars(r)}" for r in caplog.records)
    assert len(retry_lines(caplog)) == 2  # the dropped read and the reset part
    body = "".join(line for line in canary.p8.splitlines() if "-----" not in line)
    secrets = [token, body[:40], body[-40:], "CANARYSIGNATURE", "CANARYCRED", "canary-person", "canary-body"]
    secrets += ["canary-part-bytes", "Bearer"]
    assert [secret for secret in secrets if secret in logged] == []
