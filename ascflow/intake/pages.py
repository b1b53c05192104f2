"""The customer's pages, rendered from the templates beside this file with autoescaping on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from ascflow.intake.check_now import CheckNow
from ascflow.intake.ratelimit import AttemptLimiter, Limited
from ascflow.intake.status import CustomerReceipt, StatusView
from ascflow.intake.upload import UploadRefused, size_in_words

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATUS_REFRESH_SECONDS = 3

_env = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), auto_reload=False
)
_ERROR_TITLES = {
    "issuer_id": "The issuer ID was not accepted.",
    "key_id": "The key ID was not accepted.",
    "p8": "The key file was not accepted.",
    "form": "The form could not be sent.",
}


def _page(template: str, status: int, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(template).render(**context), status_code=status)


def form_page(
    *,
    tenant: str,
    bundle_id: str,
    action: str,
    status_url: str,
    csrf: str,
    max_key_bytes: int,
    max_request_bytes: int,
    error: UploadRefused | None = None,
) -> HTMLResponse:
    return _page(
        "form.html",
        error.status if error else 200,
        tenant=tenant,
        bundle_id=bundle_id,
        action=action,
        status_url=status_url,
        csrf=csrf,
        max_key=size_in_words(max_key_bytes),
        max_request=size_in_words(max_request_bytes),
        error=error,
        error_title=_ERROR_TITLES.get(error.field, _ERROR_TITLES["form"]) if error else "",
    )


def message_page(
    title: str, *paragraphs: str, status: int = 200, status_url: str | None = None
) -> HTMLResponse:
    return _page("message.html", status, title=title, paragraphs=paragraphs, status_url=status_url)


def too_many_attempts(limited: Limited, limiter: AttemptLimiter, *, status_url: str) -> HTMLResponse:
    when = datetime.now(UTC) + timedelta(seconds=limited.retry_after_seconds)
    source = "with this link" if limited.scope == "link" else "from your network"
    response = message_page(
        "Too many attempts",
        f"We accept {limiter.attempts} uploads {source} within {_duration(limiter.window)}, and that many "
        "were sent. Nothing was read from this attempt and nothing was kept.",
        f"Try again after {when:%H:%M:%S} UTC (in about {_duration(limited.retry_after_seconds)}). If the key "
        "was refused before, fix what the page said first.",
        status=429,
        status_url=status_url,
    )
    response.headers["Retry-After"] = str(limited.retry_after_seconds)
    return response


def _duration(seconds: float) -> str:
    count, unit = (round(seconds / 60), "minute") if seconds >= 90 else (max(1, round(seconds)), "second")
    return f"{count} {unit}{'s' if count != 1 else ''}"


def status_page(
    *,
    bundle_id: str,
    view: StatusView,
    receipt: CustomerReceipt | None,
    form_url: str,
    check_url: str | None = None,
    csrf: str = "",
) -> HTMLResponse:
    return _page(
        "status.html",
        200,
        bundle_id=bundle_id,
        view=view,
        receipt=receipt,
        form_url=form_url,
        check_url=check_url,
        csrf=csrf,
        refresh_seconds=STATUS_REFRESH_SECONDS,
    )


_CHECKED_FOR = {
    "access": "whether Apple accepts your key",
    "review": "whether Apple's review has ended",
    "beta-review": "whether Apple's TestFlight review has ended",
    "build": "whether Apple has processed your build",
}


def check_now_page(answer: CheckNow, *, status_url: str) -> HTMLResponse:
    """What the customer's "Check now" did, in their words."""
    if answer.outcome == "not_waiting":
        return message_page(
            "There is nothing to check with Apple right now",
            "Your onboarding is not waiting for Apple at the moment; the status page shows where it stands.",
            status=409,
            status_url=status_url,
        )
    last = (
        f"Our last check was {_duration(answer.last_check_seconds_ago)} ago."
        if answer.last_check_seconds_ago is not None
        else ""
    )
    if answer.outcome == "too_soon":
        response = message_page(
            "A check was asked for a moment ago",
            f"You asked us to check {_duration(answer.asked_seconds_ago)} ago. {last}",
            f"You can ask again in {_duration(answer.retry_after_seconds)}.",
            status=429,
            status_url=status_url,
        )
        response.headers["Retry-After"] = str(answer.retry_after_seconds)
        return response
    return message_page(
        "We will check with Apple now",
        f"We check {_CHECKED_FOR.get(answer.kind or '', 'with Apple')} within moments, at the latest with our "
        f"next regular check a few minutes from now. {last}",
        "If Apple's answer has changed, your onboarding continues at once; the status page shows it.",
        status=202,
        status_url=status_url,
    )
