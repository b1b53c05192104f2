"""Bearer tokens are checked as Apple checks them; every failure is Apple's exact 401 document."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.fixtures.keys import CustomerKey, make_customer_key
from tests.fixtures.simulator import RunningSimulator, make_token

APPLE_401 = {
    "errors": [
        {
            "status": "401",
            "code": "NOT_AUTHORIZED",
            "title": "Authentication credentials are missing or invalid.",
            "detail": "Provide a properly configured and signed bearer token, and make sure that it has not "
            "expired. Learn more about Generating Tokens for API Requests "
            "https://developer.apple.com/go/?id=api-generating-tokens",
        }
    ]
}


def _hs256(key: CustomerKey) -> str:
    now = int(time.time())
    claims = {"iss": key.issuer_id, "aud": "appstoreconnect-v1", "iat": now, "exp": now + 600}
    return jwt.encode(claims, "an-hmac-secret-that-is-long-enough-for-sha256", headers={"kid": key.key_id})


def _unsigned(key: CustomerKey) -> str:
    now = int(time.time())
    claims = {"iss": key.issuer_id, "aud": "appstoreconnect-v1", "iat": now, "exp": now + 600}
    return jwt.encode(claims, "", algorithm="none", headers={"kid": key.key_id})


def _without_iat(key: CustomerKey, exp_in: float) -> str:
    """The payload a widely used client signs: iss, exp, aud and no iat."""
    claims = {"iss": key.issuer_id, "exp": int(time.time() + exp_in), "aud": "appstoreconnect-v1"}
    return jwt.encode(claims, key.p8, algorithm="ES256", headers={"kid": key.key_id, "typ": "JWT"})


BAD_TOKENS: dict[str, Callable[[CustomerKey], str | None]] = {
    "wrong alg (RS256)": lambda key: make_token(
        key, algorithm="RS256", signing_key=rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ),
    "wrong alg (HS256)": _hs256,
    "wrong alg (none)": _unsigned,
    "unknown kid": lambda key: make_token(key, headers={"kid": "UNKNOWN123"}),
    "wrong issuer": lambda key: make_token(key, claims={"iss": "00000000-0000-0000-0000-000000000000"}),
    "wrong aud": lambda key: make_token(key, claims={"aud": "appstoreconnect-v2"}),
    "no aud": lambda key: make_token(key, claims={"aud": None}),
    "lifetime over 20 minutes": lambda key: make_token(key, lifetime=20 * 60 + 1),
    "expired": lambda key: make_token(key, iat=time.time() - 900, lifetime=600),
    "iat null": lambda key: make_token(key, claims={"iat": None}),
    "no iat, exp over 20 minutes ahead": lambda key: _without_iat(key, exp_in=20 * 60 + 30),
    "no iat, expired": lambda key: _without_iat(key, exp_in=-5),
    "bad signature": lambda key: make_token(key, signing_key=ec.generate_private_key(ec.SECP256R1())),
    "not a JWT": lambda key: "not-a-token",
    "no header": lambda key: None,
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_every_bad_token_gets_apples_401(simulator: RunningSimulator, case: str) -> None:
    token = BAD_TOKENS[case](simulator.admin_key)
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    response = httpx.get(f"{simulator.base_url}/v1/apps", headers=headers)
    simulator.checks(response)
    assert response.status_code == 401
    assert response.json() == APPLE_401
    # No key was identified, so there is no budget to report (a full one would mislead a client's limiter).
    assert "x-rate-limit" not in response.headers


def test_a_good_token_of_exactly_twenty_minutes_is_accepted(simulator: RunningSimulator) -> None:
    with simulator.client(token=simulator.token(lifetime=20 * 60)) as api:
        assert api.get("/v1/apps").status_code == 200


def test_a_token_without_iat_is_accepted_when_exp_is_within_twenty_minutes(
    simulator: RunningSimulator,
) -> None:
    token = _without_iat(simulator.admin_key, exp_in=19 * 60)
    assert "iat" not in jwt.decode(token, options={"verify_signature": False})
    response = simulator.client(token=token).get("/v1/apps")
    assert response.status_code == 200


def test_basic_scheme_is_not_a_bearer_token(simulator: RunningSimulator) -> None:
    response = httpx.get(
        f"{simulator.base_url}/v1/apps", headers={"Authorization": f"Basic {simulator.token()}"}
    )
    simulator.checks(response)
    assert response.status_code == 401
    assert response.json() == APPLE_401


def test_a_key_not_yet_active_gets_401_until_activated(simulator: RunningSimulator) -> None:
    key = simulator.add_key(active_after_seconds=10 * 365 * 86400)
    api = simulator.client(key)
    assert api.get("/v1/apps").status_code == 401
    simulator.control.activate_key(key.key_id)
    assert api.get("/v1/apps").status_code == 200


def test_a_key_turns_valid_by_itself_after_its_delay(start_simulator) -> None:
    sim = start_simulator(time_scale=3600.0)
    key = sim.add_key(active_after_seconds=1800)  # half an Apple hour: half a wall second
    api = sim.client(key)
    assert api.get("/v1/apps").status_code == 401
    deadline = time.monotonic() + 3
    while api.get("/v1/apps").status_code == 401:
        assert time.monotonic() < deadline, "the key never became active"
        time.sleep(0.05)


def test_a_key_of_another_issuer_is_checked_against_its_own_issuer(simulator: RunningSimulator) -> None:
    other = make_customer_key()
    simulator.control.add_key(other.key_id, other.public_pem, issuer_id=other.issuer_id)
    assert simulator.client(other).get("/v1/apps").status_code == 200
    wrong = make_token(other, claims={"iss": simulator.issuer_id})
    assert simulator.client(token=wrong).get("/v1/apps").status_code == 401


def test_the_request_log_names_the_key_but_never_holds_the_token(simulator: RunningSimulator) -> None:
    token = simulator.token()
    simulator.client(token=token).get("/v1/apps", params={"limit": "1"})
    entries = simulator.control.requests()
    assert [(e.method, e.path, e.query, e.status, e.key_id) for e in entries] == [
        ("GET", "/v1/apps", {"limit": "1"}, 200, simulator.admin_key.key_id)
    ]
    raw = httpx.get(f"{simulator.base_url}/_simulator/requests").text
    assert token not in raw
    assert token.split(".")[2] not in raw


def test_token_expiry_follows_the_wall_clock_when_apple_time_is_scaled(simulator: RunningSimulator) -> None:
    api = simulator.client()  # a 15-minute token; at 36000x, 0.1 s is an Apple hour
    time.sleep(0.1)
    assert api.get("/v1/apps").status_code == 200
