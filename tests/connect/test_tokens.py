"""Bearer tokens: Apple's header and claims, one token reused until shortly before expiry, safe under threads."""

from __future__ import annotations

import threading
from datetime import timedelta

import jwt
import pytest

from ascflow.connect.keys import ApiKey
from ascflow.connect.tokens import TokenManager, forget_tokens
from tests.fixtures.keys import CustomerKey

NOW = 1_800_000_000.0


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def api_key(customer_key: CustomerKey) -> ApiKey:
    return ApiKey.from_p8(customer_key.p8, key_id=customer_key.key_id, issuer_id=customer_key.issuer_id)


def verified(token: str, customer_key: CustomerKey) -> dict:
    # The signature is checked with the public half; times are checked against the injected clock by the tests.
    return jwt.decode(
        token,
        customer_key.public_pem,
        algorithms=["ES256"],
        audience="appstoreconnect-v1",
        options={"verify_exp": False, "verify_iat": False},
    )


def test_header_and_claims_are_what_apple_requires(api_key: ApiKey, customer_key: CustomerKey) -> None:
    token = TokenManager(api_key, clock=Clock()).bearer()
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": customer_key.key_id, "typ": "JWT"}
    claims = verified(token, customer_key)
    assert set(claims) == {"iss", "iat", "exp", "aud"}
    assert claims["iss"] == customer_key.issuer_id
    assert claims["aud"] == "appstoreconnect-v1"
    assert claims["iat"] == NOW - 60  # backdated for clock skew
    assert claims["exp"] - claims["iat"] == 15 * 60  # Apple measures exp - iat; its cap is 20 minutes
    assert claims["exp"] > NOW


def test_a_real_clock_token_verifies_now(api_key: ApiKey, customer_key: CustomerKey) -> None:
    token = TokenManager(api_key).bearer()
    jwt.decode(token, customer_key.public_pem, algorithms=["ES256"], audience="appstoreconnect-v1")


def test_one_token_is_reused_until_shortly_before_expiry(api_key: ApiKey, customer_key: CustomerKey) -> None:
    clock = Clock()
    tokens = TokenManager(api_key, clock=clock)
    first = tokens.bearer()
    expiry = verified(first, customer_key)["exp"]
    clock.now = expiry - 121  # more than the 2-minute margin left
    assert tokens.bearer() == first
    clock.now = expiry - 120
    second = tokens.bearer()
    assert second != first
    claims = verified(second, customer_key)
    assert claims["iat"] == clock.now - 60
    assert tokens.signed_count == 2


def test_threads_share_one_token_and_refresh_it_once(api_key: ApiKey) -> None:
    clock = Clock()
    tokens = TokenManager(api_key, clock=clock)
    barrier = threading.Barrier(16)
    seen: list[str] = []
    lock = threading.Lock()

    def ask() -> None:
        barrier.wait()
        token = tokens.bearer()
        with lock:
            seen.append(token)

    def round_of_threads() -> None:
        threads = [threading.Thread(target=ask) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    round_of_threads()
    assert len(seen) == 16
    assert len(set(seen)) == 1
    assert tokens.signed_count == 1

    clock.now += 14 * 60  # inside the refresh margin
    seen.clear()
    round_of_threads()
    assert len(set(seen)) == 1
    assert tokens.signed_count == 2


@pytest.mark.parametrize(
    "options",
    [
        {"lifetime": timedelta(minutes=20)},
        {"lifetime": timedelta(minutes=45)},
        {"lifetime": timedelta(0)},
        {"lifetime": timedelta(minutes=2), "refresh_before": timedelta(minutes=2)},
    ],
)
def test_lifetimes_apple_would_reject_or_that_leave_no_use_are_refused(
    api_key: ApiKey, options: dict
) -> None:
    with pytest.raises(ValueError, match="lifetime"):
        TokenManager(api_key, **options)


def test_token_manager_repr_holds_no_token(api_key: ApiKey) -> None:
    tokens = TokenManager(api_key)
    token = tokens.bearer()
    assert token not in repr(tokens)
    assert token.split(".")[2] not in repr(tokens)


def test_every_session_of_a_key_sends_the_same_token(api_key: ApiKey) -> None:
    clock = Clock()
    first, second = TokenManager(api_key, clock=clock), TokenManager(api_key, clock=clock)
    assert first.bearer() == second.bearer()
    assert (first.signed_count, second.signed_count) == (1, 0)


def test_a_forgotten_key_gets_a_new_token(api_key: ApiKey) -> None:
    clock = Clock()
    token = TokenManager(api_key, clock=clock).bearer()
    forget_tokens(api_key.key_id)
    clock.now += 1
    fresh = TokenManager(api_key, clock=clock)
    assert fresh.bearer() != token
    assert fresh.signed_count == 1


def test_sharing_can_be_turned_off(api_key: ApiKey) -> None:
    clock = Clock()
    TokenManager(api_key, clock=clock).bearer()
    alone = TokenManager(api_key, clock=clock, shared=None)
    alone.bearer()
    assert alone.signed_count == 1
