"""Typed App Store Connect errors, mapped from Apple's JSON:API error documents.

Every message says what happened, Apple's code and detail, and what the operator should do. Messages are built
only from the method, the path and Apple's error fields: never from request headers or bodies, so no token or
key material can reach an exception's text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ascflow.errors import OperatorError


@dataclass(frozen=True)
class AppleError:
    """One entry of Apple's `errors` array (`ResponseError` in the spec)."""

    status: str | None = None
    code: str | None = None
    title: str | None = None
    detail: str | None = None
    id: str | None = None
    pointer: str | None = None
    parameter: str | None = None
    associated: Mapping[str, tuple[AppleError, ...]] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> AppleError:
        source = _mapping(raw.get("source"))
        associated_raw = _mapping(_mapping(raw.get("meta")).get("associatedErrors"))
        associated = {
            str(where): tuple(cls.parse(item) for item in items if isinstance(item, Mapping))
            for where, items in associated_raw.items()
            if isinstance(items, list)
        }
        return cls(
            status=_text(raw.get("status")),
            code=_text(raw.get("code")),
            title=_text(raw.get("title")),
            detail=_text(raw.get("detail")),
            id=_text(raw.get("id")),
            pointer=_text(source.get("pointer")),
            parameter=_text(source.get("parameter")),
            associated=associated,
        )

    def describe(self) -> str:
        parts = [self.code or "(no code)"]
        if self.title:
            parts.append(self.title)
        if self.detail and self.detail != self.title:
            parts.append(self.detail)
        where = self.pointer or self.parameter
        if where:
            parts.append(f"at {where}")
        return ": ".join(parts[:2]) + "".join(f" - {p}" for p in parts[2:])


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class AppStoreConnectError(OperatorError):
    """Base of every error this client raises about a request to App Store Connect."""

    default_next_step: ClassVar[str] = (
        "Read Apple's code and detail above, fix the cause, then retry the step."
    )

    def __init__(
        self,
        what: str,
        *,
        status: int | None = None,
        errors: Sequence[AppleError] = (),
        next_step: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.errors = list(errors)
        self.retry_after = retry_after
        super().__init__(what, next_step=next_step or self.default_next_step)

    @property
    def code(self) -> str | None:
        return self.errors[0].code if self.errors else None

    @property
    def detail(self) -> str | None:
        return self.errors[0].detail if self.errors else None

    @property
    def title(self) -> str | None:
        return self.errors[0].title if self.errors else None

    def _message(self) -> str:
        lines = [self.what]
        lines += [f"Apple: {error.describe()}" for error in self.errors]
        lines += [
            f"  {where}: {sub.describe()}"
            for error in self.errors
            for where, subs in error.associated.items()
            for sub in subs
        ]
        lines.append(f"Next step: {self.next_step}")
        return "\n".join(lines)


class BadRequest(AppStoreConnectError):
    """400/405/406/415 and other 4xx that no narrower class covers: the request itself was wrong."""

    default_next_step = (
        "Apple rejected the request as malformed (a parameter, path or body ascflow built): "
        "report this as an ascflow bug with Apple's code and detail."
    )


class NotAuthorized(AppStoreConnectError):
    """401: Apple did not accept the token."""

    default_next_step = (
        "Check that the key ID and issuer ID belong to this .p8 file and that the key was not revoked "
        "(App Store Connect > Users and Access > Integrations). A brand-new key can fail for a few minutes: "
        "retry later with a fresh token."
    )


class Forbidden(AppStoreConnectError):
    """403 without a more specific code: the key may be revoked, or the operation is not allowed."""

    default_next_step = (
        "The key may be revoked or the operation is not allowed for it: check the key in App Store Connect > "
        "Users and Access > Integrations, or ask the customer for a new Team key with the Admin role."
    )


class RoleInsufficient(Forbidden):
    """403 FORBIDDEN_ERROR: the key's role does not allow this request."""

    default_next_step = (
        "The key's role does not allow this request: ask the customer for a Team key with the Admin role "
        "(a key's role cannot be changed; a new key must be generated)."
    )


class AgreementsMissing(Forbidden):
    """403 FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED."""

    default_next_step = (
        "The customer's Account Holder must sign the pending agreements in App Store Connect > Business, "
        "then resume the run."
    )


class NotFound(AppStoreConnectError):
    """404: no such path or resource (or the key cannot see it)."""

    default_next_step = (
        "Check the ID: the resource may have been deleted, or the key may not have access to it."
    )


class Gone(NotFound):
    """410: the resource existed but is gone (for example an invitation that was accepted)."""

    default_next_step = (
        "The resource no longer exists (an invitation may have been accepted): read current state."
    )


class Conflict(AppStoreConnectError):
    """409 ENTITY_ERROR... / STATE_ERROR...: well-formed, but Apple refuses it in the current state."""

    default_next_step = (
        "Apple refused the change in the current state: read Apple's detail and associated errors, fix the "
        "resource or its metadata in App Store Connect (or the run's input), then retry."
    )

    @property
    def pointer(self) -> str | None:
        return self.errors[0].pointer if self.errors else None

    @property
    def associated_errors(self) -> dict[str, list[AppleError]]:
        merged: dict[str, list[AppleError]] = {}
        for error in self.errors:
            for where, subs in error.associated.items():
                merged.setdefault(where, []).extend(subs)
        return merged


class Unprocessable(AppStoreConnectError):
    """422: the body has the wrong shape, or the resource is not ready for the operation."""

    default_next_step = (
        "Apple could not process the request (wrong body shape, or a resource not ready, such as a "
        "build still processing): wait and retry if Apple says not ready; otherwise report an ascflow bug."
    )


class RateLimited(AppStoreConnectError):
    """429 RATE_LIMIT_EXCEEDED: the key's hourly request budget is used up."""

    default_next_step = (
        "This key used up Apple's hourly request budget: wait (see retry_after) before retrying, "
        "and poll less often."
    )


class ServerError(AppStoreConnectError):
    """5xx (or 408) on a read, after the retries ran out."""

    default_next_step = (
        "Apple's servers failed: retry later and check https://developer.apple.com/system-status/."
    )


class TransportFailure(AppStoreConnectError):
    """No HTTP answer (connect, DNS, TLS, timeout, dropped connection) and retrying did not help."""

    default_next_step = (
        "Could not reach App Store Connect: check network, DNS and proxy settings, then retry."
    )


class OutcomeUnknown(AppStoreConnectError):
    """A write whose effect is unknown: it may have been applied even though no success came back."""

    default_next_step = (
        "The write may or may not have been applied: read the resource back (find-or-create) before writing "
        "again; never repeat the write blindly."
    )


class UnexpectedResponse(AppStoreConnectError):
    """A 2xx answer that is not the JSON document the API promises, or a `next` link off Apple's host."""

    default_next_step = "The server did not answer like App Store Connect: check the base URL, then retry."


def error_from_response(
    method: str,
    path: str,
    status: int,
    body: bytes,
    *,
    retry_after: float | None = None,
) -> AppStoreConnectError:
    """The typed error for a non-2xx answer; `path` must not hold secrets (it is put in the message)."""
    errors = _parse_errors(body)
    code = next((e.code for e in errors if e.code), "")
    what = f"{method} {path} failed: HTTP {status}."
    if not errors:
        what += " The body was not an App Store Connect error document."
    cls = _error_class(status, code)
    return cls(what, status=status, errors=errors, retry_after=retry_after if cls is RateLimited else None)


def _error_class(status: int, code: str) -> type[AppStoreConnectError]:
    # Status decides the family; the code prefix refines it (Apple's codes are hierarchical and grow levels).
    if status < 400:
        return UnexpectedResponse
    if status == 401:
        return NotAuthorized
    if status == 403:
        if code.startswith("FORBIDDEN.REQUIRED_AGREEMENTS"):
            return AgreementsMissing
        if code.startswith("FORBIDDEN_ERROR"):
            return RoleInsufficient
        return Forbidden
    if status == 404:
        return NotFound
    if status == 410:
        return Gone
    if status == 409:
        return Conflict
    if status == 422:
        return Unprocessable
    if status == 429 or code.startswith("RATE_LIMIT_EXCEEDED"):
        return RateLimited
    if status >= 500 or status == 408:
        return ServerError
    return BadRequest


def _parse_errors(body: bytes) -> list[AppleError]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    raw = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(raw, list):
        return []
    return [AppleError.parse(item) for item in raw if isinstance(item, Mapping)]
