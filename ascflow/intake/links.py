"""Customer links: signed, expiring tokens bound to one onboarding, its tenant and app.

A link carries a nonce; the onboarding store keeps the nonce of the one active link, so issuing a new link
revokes the old one without a revocation list. The signing secret is a local file made on first use.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import jwt

AUDIENCE = "ascflow-intake-link"
FORM_AUDIENCE = "ascflow-intake-form"
SECRET_BYTES = 32

Refusal = Literal["forged", "expired"]


class LinkRefused(Exception):
    """The token is not one we signed, or it has expired. Says which, never why in detail."""

    def __init__(self, reason: Refusal) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class LinkClaims:
    onboarding_id: str
    tenant: str
    bundle_id: str
    nonce: str
    expires_at: datetime


def load_secret(path: Path) -> bytes:
    """The signing secret, created (mode 0600, exclusively) by whichever process needs it first."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(SECRET_BYTES))
    return path.read_bytes()


class LinkSigner:
    def __init__(self, secret: bytes, *, clock: type[datetime] = datetime) -> None:
        self._secret = secret
        self._clock = clock

    def issue(self, onboarding_id: str, tenant: str, bundle_id: str, lifetime: timedelta) -> LinkClaims:
        expires = self._clock.now(UTC).replace(microsecond=0) + lifetime
        return LinkClaims(onboarding_id, tenant, bundle_id, secrets.token_hex(16), expires)

    def token(self, claims: LinkClaims) -> str:
        payload = {
            "aud": AUDIENCE,
            "sub": claims.onboarding_id,
            "tenant": claims.tenant,
            "app": claims.bundle_id,
            "nonce": claims.nonce,
            "exp": int(claims.expires_at.timestamp()),
        }
        return jwt.encode(payload, self._secret, algorithm="HS256")

    def read(self, token: str) -> LinkClaims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                options={"require": ["exp", "sub", "nonce", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise LinkRefused("expired") from None
        except jwt.PyJWTError:
            raise LinkRefused("forged") from None
        return LinkClaims(
            onboarding_id=str(payload["sub"]),
            tenant=str(payload.get("tenant", "")),
            bundle_id=str(payload.get("app", "")),
            nonce=str(payload["nonce"]),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
        )

    def form_token(
        self, onboarding_id: str, form_nonce: str, browser_secret: str, lifetime: timedelta
    ) -> str:
        """The CSRF token of one rendered form: bound to the onboarding, the form and the browser's cookie."""
        payload = {
            "aud": FORM_AUDIENCE,
            "sub": onboarding_id,
            "form": form_nonce,
            "browser": _digest(browser_secret),
            "exp": int((self._clock.now(UTC) + lifetime).timestamp()),
        }
        return jwt.encode(payload, self._secret, algorithm="HS256")

    def read_form_token(self, token: str, onboarding_id: str, browser_secret: str) -> str | None:
        """The form's nonce when the token is ours, unexpired, for this onboarding and this browser."""
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=FORM_AUDIENCE,
                options={"require": ["exp"]},
            )
        except jwt.PyJWTError:
            return None
        if payload.get("sub") != onboarding_id:
            return None
        if not secrets.compare_digest(str(payload.get("browser", "")), _digest(browser_secret)):
            return None
        return str(payload.get("form", "")) or None


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
