"""App Store Connect bearer tokens: one ES256 JWT per key, reused until shortly before it expires."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

from ascflow.connect.keys import ApiKey

AUDIENCE = "appstoreconnect-v1"
# Apple rejects tokens whose exp - iat exceeds 20 minutes.
APPLE_MAX_LIFETIME = timedelta(minutes=20)


class _SharedTokens:
    """The live token of each key in this process, so every session of a key sends the same JWT until it is
    due for renewal. Only tokens are kept (each lives under 20 minutes), never a key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    def get(self, key: ApiKey) -> tuple[str, float] | None:
        with self._lock:
            return self._tokens.get((key.key_id, key.fingerprint))

    def put(self, key: ApiKey, token: str, expires_at: float) -> None:
        with self._lock:
            self._tokens[(key.key_id, key.fingerprint)] = (token, expires_at)

    def forget(self, key_id: str) -> None:
        with self._lock:
            for cached in [k for k in self._tokens if k[0] == key_id]:
                del self._tokens[cached]


SHARED_TOKENS = _SharedTokens()


def forget_tokens(key_id: str) -> None:
    """Drop the live token of a key whose custody ended: nothing of it stays in this process."""
    SHARED_TOKENS.forget(key_id)


class TokenManager:
    """Signs a token, hands the same one to every thread, and re-signs it `refresh_before` ahead of expiry.

    `iat` is backdated by `backdate` so that a server whose clock runs a little behind ours still accepts the
    token; Apple measures the lifetime as exp - iat, so `lifetime` is that difference.
    """

    def __init__(
        self,
        key: ApiKey,
        *,
        lifetime: timedelta = timedelta(minutes=15),
        refresh_before: timedelta = timedelta(minutes=2),
        backdate: timedelta = timedelta(seconds=60),
        clock: Callable[[], float] = time.time,
        shared: _SharedTokens | None = SHARED_TOKENS,
    ) -> None:
        if not timedelta(0) < lifetime < APPLE_MAX_LIFETIME:
            raise ValueError("lifetime must be positive and under Apple's 20-minute cap")
        if not timedelta(0) <= backdate + refresh_before < lifetime:
            raise ValueError("backdate + refresh_before must leave part of the lifetime usable")
        self._key = key
        self._lifetime = int(lifetime.total_seconds())
        self._refresh_before = refresh_before.total_seconds()
        self._backdate = int(backdate.total_seconds())
        self._clock = clock
        self._lock = threading.Lock()
        self._shared = shared
        self._token: str | None = None
        self._expires_at = 0.0
        self.signed_count = 0

    def bearer(self) -> str:
        """The current token (the value of `Authorization: Bearer <token>`)."""
        with self._lock:
            now = self._clock()
            if self._due(now) and self._shared is not None and (cached := self._shared.get(self._key)):
                self._token, self._expires_at = cached
            if self._token is None or self._due(now):
                iat = int(now) - self._backdate
                exp = iat + self._lifetime
                self._token = self._key.sign_jwt(
                    {"iss": self._key.issuer_id, "iat": iat, "exp": exp, "aud": AUDIENCE}
                )
                self._expires_at = float(exp)
                self.signed_count += 1
                if self._shared is not None:
                    self._shared.put(self._key, self._token, self._expires_at)
            return self._token

    def _due(self, now: float) -> bool:
        # No token yet means `_expires_at` is 0: due.
        return now >= self._expires_at - self._refresh_before

    def __repr__(self) -> str:
        return f"TokenManager(key={self._key!r})"
