"""Browser-facing protections: strict response headers on everything, and the CSRF cookie of a browser.

The CSRF defence is a signed form token bound to the onboarding, to the rendered form (spent once, so a
replayed form is refused) and to a random per-browser cookie (SameSite=Strict), so a form posted from another
site, or a token lifted from one browser into another, is refused.
"""

from __future__ import annotations

import secrets

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BROWSER_COOKIE = "ascflow_intake_browser"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    # The customer's link is a credential in the URL: never sent on to anyone, never cached anywhere.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def security_headers(*, https: bool) -> dict[str, str]:
    headers = dict(SECURITY_HEADERS)
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


class SecurityHeaders:
    """Pure ASGI (it does not read or buffer the request body, which the upload route streams itself).

    Starlette answers an unhandled exception outside every middleware, so the app's 500 handler sets the
    same headers itself."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = security_headers(https=https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def browser_secret(request: Request) -> tuple[str, bool]:
    """The browser's CSRF cookie value, and whether it is new (then the response must set it)."""
    existing = request.cookies.get(BROWSER_COOKIE, "")
    if 32 <= len(existing) <= 64 and existing.replace("-", "").replace("_", "").isalnum():
        return existing, False
    return secrets.token_urlsafe(32), True


def set_browser_cookie(response: Response, value: str, *, https: bool) -> None:
    response.set_cookie(
        BROWSER_COOKIE, value, httponly=True, samesite="strict", secure=https, path="/o/", max_age=24 * 3600
    )
