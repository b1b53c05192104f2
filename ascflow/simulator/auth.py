"""Bearer-token checks as Apple documents them: ES256, known kid, its issuer, audience, lifetime <= 20 min.

A token without `iat` is accepted when its `exp` is at most 20 minutes ahead: Apple accepts such tokens (a
widely used client signs exactly `iss`, `exp`, `aud`), so the lifetime is judged from now instead.
"""

from __future__ import annotations

import time

import jwt

from ascflow.simulator.documents import ApiError, Errors
from ascflow.simulator.state import ApiKeyRecord, Team

AUDIENCE = "appstoreconnect-v1"
MAX_LIFETIME_SECONDS = 20 * 60
ADMIN_ROLES = {"ADMIN", "ACCOUNT_HOLDER"}


def authenticate(team: Team, authorization: str | None) -> ApiKeyRecord:
    """The key that signed the request's token, or Apple's 401 for any fault in it."""
    record = _verify(team, authorization)
    if record is None:
        raise ApiError(Errors.not_authorized())
    return record


def key_id_of(authorization: str | None) -> str | None:
    """The token's `kid` header for the request log, whether or not the token is valid."""
    token = _token(authorization)
    if token is None:
        return None
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        return None
    return kid if isinstance(kid, str) else None


def _token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _verify(team: Team, authorization: str | None) -> ApiKeyRecord | None:
    token = _token(authorization)
    if token is None:
        return None
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return None
    if header.get("alg") != "ES256":
        return None
    record = team.keys.get(str(header.get("kid")))
    now = team.now()
    if record is None or record.active_at > now:
        return None
    try:
        claims = jwt.decode(
            token,
            record.public_key,
            algorithms=["ES256"],
            audience=AUDIENCE,
            issuer=record.issuer_id,
            options={"require": ["exp", "aud", "iss"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        return None
    # Clients sign with the wall clock, so expiry is judged on it even when Apple's clock is scaled.
    now_wall = time.time()
    exp = claims["exp"]
    iat = claims.get("iat", now_wall)  # no iat: the lifetime counts from now
    if not _is_number(iat) or not _is_number(exp):
        return None
    if exp <= now_wall or exp - iat > MAX_LIFETIME_SECONDS or exp <= iat:
        return None
    return record


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
