"""Bearer-token checks as Apple documents them: ES256, known kid, its issuer, audience, lifetime <= 20 min."""

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
            options={"require": ["iat", "exp", "aud", "iss"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        return None
    iat, exp = claims["iat"], claims["exp"]
    if not isinstance(iat, int | float) or not isinstance(exp, int | float):
        return None
    # Clients sign with the wall clock, so expiry is judged on it even when Apple's clock is scaled.
    if exp <= time.time() or exp - iat > MAX_LIFETIME_SECONDS or exp <= iat:
        return None
    return record
