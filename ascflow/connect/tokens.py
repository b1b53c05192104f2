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
        self._token: str | None = None
        self._expires_at = 0.0
        self.signed_count = 0

    def bearer(self) -> str:
        """The current token (the value of `Authorization: Bearer <token>`)."""
        with self._lock:
            now = self._clock()
            if self._token is None or now >= self._expires_at - self._refresh_before:
                iat = int(now) - self._backdate
                exp = iat + self._lifetime
                self._token = self._key.sign_jwt(
                    {"iss": self._key.issuer_id, "iat": iat, "exp": exp, "aud": AUDIENCE}
                )
                self._expires_at = float(exp)
                self.signed_count += 1
            return self._token

    def __repr__(self) -> str:
        return f"TokenManager(key={self._key!r})"
