"""Apple's error documents map to typed errors that carry Apple's code, detail and the operator's next step."""

from __future__ import annotations

import json
import pickle

import httpx
import pytest

from ascflow.connect.errors import (
    AgreementsMissing,
    AppStoreConnectError,
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    NotAuthorized,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    RoleInsufficient,
    ServerError,
    TransportFailure,
    UnexpectedResponse,
    Unprocessable,
    error_from_response,
)
from ascflow.connect.keys import ApiKey
from ascflow.connect.ratelimit import HourlyBudget
from ascflow.connect.retry import RetryPolicy
from ascflow.connect.session import Session
from tests.connect.scripted_apple import Drop, Reply, ScriptedApple
from tests.fixtures.openapi import SPEC


def doc(status: int, code: str, title: str = "t", detail: str = "d", **extra: object) -> dict:
    return {
        "errors": [
            {"id": "e1", "status": str(status), "code": code, "title": title, "detail": detail, **extra}
        ]
    }


NOT_AUTHORIZED = doc(
    401,
    "NOT_AUTHORIZED",
    "Authentication credentials are missing or invalid.",
    "Provide a properly configured and signed bearer token, and make sure that it has not expired.",
)
AGREEMENTS = doc(
    403,
    "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED",
    "A required agreement is missing or has expired.",
    "This request requires an in-effect agreement that has not been signed or has expired.",
)
ROLE = doc(
    403,
    "FORBIDDEN_ERROR",
    "This request is forbidden for security reasons",
    "The API key in use does not allow this request",
)
CERT_LIMIT = doc(
    409,
    "ENTITY_ERROR",
    "There is a problem with the request entity",
    "You already have a current Distribution certificate or a pending certificate request.",
)
NOT_VALID_STATE = doc(
    409,
    "STATE_ERROR.ENTITY_STATE_INVALID",
    "appStoreVersions with id '123' is not in valid state.",
    "This resource cannot be reviewed, please check associated errors to see why.",
    source={"pointer": "/data/relationships/appStoreVersion"},
    meta={
        "associatedErrors": {
            "/v1/appStoreVersions/123": [
                {
                    "status": "409",
                    "code": "ENTITY_ERROR.ATTRIBUTE.REQUIRED",
                    "title": "missing",
                    "detail": "whatsNew",
                }
            ]
        }
    },
)
RATE = doc(
    429,
    "RATE_LIMIT_EXCEEDED",
    "The request rate limit has been reached.",
    "We've received too many requests for this API. Please wait and try again or slow down your request rate.",
)


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, NOT_AUTHORIZED, NotAuthorized),
        (403, AGREEMENTS, AgreementsMissing),
        (403, ROLE, RoleInsufficient),
        (403, doc(403, "FORBIDDEN"), Forbidden),
        (404, doc(404, "NOT_FOUND"), NotFound),
        (410, doc(410, "GONE"), Gone),
        (409, CERT_LIMIT, Conflict),
        (409, NOT_VALID_STATE, Conflict),
        (422, doc(422, "ENTITY_UNPROCESSABLE"), Unprocessable),
        (429, RATE, RateLimited),
        (500, doc(500, "UNEXPECTED_ERROR"), ServerError),
        (503, b"<html>Service Unavailable</html>", ServerError),
        (400, doc(400, "PARAMETER_ERROR.ILLEGAL", source={"parameter": "filter[nope]"}), BadRequest),
        (406, b"not json", BadRequest),
    ],
)
def test_each_apple_error_maps_to_its_class(status: int, body: dict | bytes, cls: type) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    error = error_from_response("GET", "/v1/certificates", status, raw)
    assert type(error) is cls
    assert error.status == status
    text = str(error)
    assert text.startswith(f"GET /v1/certificates failed: HTTP {status}.")
    assert f"Next step: {error.next_step}" in text
    assert error.next_step == cls.default_next_step
    if isinstance(body, dict):
        first = body["errors"][0]
        assert (error.code, error.detail, error.title) == (first["code"], first["detail"], first["title"])
        assert first["code"] in text
        assert first["detail"] in text
    else:
        assert error.errors == []
        assert error.code is None
        assert "not an App Store Connect error document" in text


@pytest.mark.parametrize("body", [AGREEMENTS, ROLE, CERT_LIMIT, NOT_VALID_STATE, RATE, NOT_AUTHORIZED])
def test_the_sample_documents_are_apple_error_responses(body: dict) -> None:
    # The fixtures above must be what the spec says Apple sends, or the mapping is tested against fiction.
    SPEC.check_response("POST", "/v1/certificates", int(body["errors"][0]["status"]), body)


def test_conflict_carries_pointer_and_associated_errors() -> None:
    error = error_from_response(
        "POST", "/v1/reviewSubmissionItems", 409, json.dumps(NOT_VALID_STATE).encode()
    )
    assert isinstance(error, Conflict)
    assert error.code == "STATE_ERROR.ENTITY_STATE_INVALID"
    assert error.pointer == "/data/relationships/appStoreVersion"
    associated = error.associated_errors["/v1/appStoreVersions/123"]
    assert [(e.code, e.detail) for e in associated] == [("ENTITY_ERROR.ATTRIBUTE.REQUIRED", "whatsNew")]
    assert "/v1/appStoreVersions/123: ENTITY_ERROR.ATTRIBUTE.REQUIRED" in str(error)


def test_code_prefixes_match_deeper_codes() -> None:
    deeper = doc(403, "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED.PROGRAM_LICENSE")
    assert isinstance(
        error_from_response("GET", "/v1/bundleIds", 403, json.dumps(deeper).encode()), AgreementsMissing
    )
    rate_with_odd_status = doc(400, "RATE_LIMIT_EXCEEDED")
    error = error_from_response(
        "GET", "/v1/apps", 400, json.dumps(rate_with_odd_status).encode(), retry_after=3
    )
    assert isinstance(error, RateLimited)
    assert error.retry_after == 3


def test_every_error_is_an_app_store_connect_error_and_forbidden_family_is_catchable() -> None:
    assert issubclass(RoleInsufficient, Forbidden)
    assert issubclass(AgreementsMissing, Forbidden)
    assert issubclass(Gone, NotFound)
    family: list[type] = [NotAuthorized, Conflict, Unprocessable, RateLimited, ServerError, TransportFailure]
    for cls in [*family, OutcomeUnknown, BadRequest, UnexpectedResponse]:
        assert issubclass(cls, AppStoreConnectError)


def test_errors_survive_pickling_with_their_fields() -> None:
    error = error_from_response(
        "POST", "/v1/reviewSubmissionItems", 409, json.dumps(NOT_VALID_STATE).encode()
    )
    assert isinstance(error, Conflict)
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, Conflict)
    assert (copy.status, copy.code, copy.pointer, str(copy)) == (409, error.code, error.pointer, str(error))
    assert copy.associated_errors == error.associated_errors


def test_malformed_error_documents_do_not_break_the_mapping() -> None:
    weird = {
        "errors": [{"code": 7, "source": "nope", "meta": {"associatedErrors": {"/x": "not a list"}}}, "junk"]
    }
    error = error_from_response("GET", "/v1/apps", 409, json.dumps(weird).encode())
    assert isinstance(error, Conflict)
    assert error.code == "7"
    assert error.pointer is None
    assert error.associated_errors == {}


# -- no secret in any error text, over real HTTP -----------------------------------------------------------------


@pytest.fixture
def server():
    with ScriptedApple() as server:
        yield server


def test_no_error_text_holds_the_token_or_key_material(server: ScriptedApple, customer_key) -> None:
    key = ApiKey.from_p8(customer_key.p8, key_id=customer_key.key_id, issuer_id=customer_key.issuer_id)
    key_body = "".join(customer_key.p8.splitlines()[1:-1])
    server.queue(
        Reply(401, NOT_AUTHORIZED),
        Reply(409, CERT_LIMIT),
        Reply(500, "upstream exploded"),
        Drop(),
        Reply(200, b"<html>not json</html>"),
    )
    policy = RetryPolicy(max_attempts=1)
    timeout = httpx.Timeout(2.0)
    errors: list[AppStoreConnectError] = []
    with Session(
        key, base_url=server.base_url, retry=policy, timeout=timeout, budget=HourlyBudget()
    ) as session:
        calls = [
            lambda: session.get("/v1/apps", {"limit": 1}),
            lambda: session.post("/v1/certificates", {"data": {"type": "certificates"}}),
            lambda: session.patch("/v1/apps/1", {"data": {"type": "apps", "id": "1"}}),
            lambda: session.delete("/v1/profiles/1"),
            lambda: session.get("/v1/apps"),
        ]
        for call in calls:
            with pytest.raises(AppStoreConnectError) as caught:
                call()
            errors.append(caught.value)
    assert [type(e) for e in errors] == [
        NotAuthorized,
        Conflict,
        OutcomeUnknown,
        OutcomeUnknown,
        UnexpectedResponse,
    ]
    tokens = {r.headers["authorization"].removeprefix("Bearer ") for r in server.requests}
    assert len(tokens) == 1
    token = tokens.pop()
    signature = token.rsplit(".", 1)[1]
    for error in errors:
        exposed = [str(error), repr(error), error.next_step, pickle.dumps(error).decode("latin-1")]
        for text in exposed:
            for secret in (token, signature, key_body, key_body[20:60]):
                assert secret not in text
        assert error.__cause__ is None
