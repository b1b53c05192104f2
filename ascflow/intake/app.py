"""The intake ASGI app: the customer's upload and status pages under /o/<link>, the operator API under /api."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prefect.exceptions import PrefectHTTPStatusError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ascflow import redaction
from ascflow.intake import pages
from ascflow.intake.check_now import ask_for_check
from ascflow.intake.handover import PrefectClients, accept_key, already_received, deliver
from ascflow.intake.onboardings import Onboarding
from ascflow.intake.operator_api import operator_router
from ascflow.intake.process import escape
from ascflow.intake.ratelimit import audit_refusal
from ascflow.intake.security import (
    BROWSER_COOKIE,
    SecurityHeaders,
    browser_secret,
    security_headers,
    set_browser_cookie,
)
from ascflow.intake.service import Intake, LinkProblem, default_prefect
from ascflow.intake.status import customer_receipt, onboarding_status
from ascflow.intake.upload import KeyUpload, UploadRefused, check_request_headers, read_upload
from ascflow.settings import Settings, get_settings

log = logging.getLogger("ascflow.intake")
_LINK_IN_PATH = re.compile(r"/o/[^/]+")


def create_app(settings: Settings | None = None, prefect: PrefectClients = default_prefect) -> FastAPI:
    redaction.install()
    intake = Intake(settings or get_settings(), prefect)
    app = FastAPI(
        title="ascflow intake: operator API",
        description="Create onboardings and their customer links, follow them, start, retry, destroy keys.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        # Starlette builds a slash redirect from the request's Host header: a link must not be sent elsewhere.
        redirect_slashes=False,
    )
    app.state.intake = intake
    app.include_router(operator_router(intake))
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(404, _not_found)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _server_error(security_headers(https=intake.https)))
    _customer_routes(app, intake)
    # Added innermost first: the access log sees every answer, the security headers go on every answer.
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=[intake.public_host], www_redirect=False)
    app.add_middleware(SecurityHeaders, https=intake.https)
    app.add_middleware(AccessLog)
    return app


async def _not_found(request: Request, exc: HTTPException) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": exc.detail}, status_code=404)
    return pages.message_page(
        "This page does not exist",
        "Check that you opened the whole link from your message, exactly as it was sent.",
        status=404,
    )


def _server_error(headers: dict[str, str]) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def server_error(request: Request, exc: Exception) -> Response:
        # Starlette logs the traceback after this answer (the operator needs it); the customer gets no detail.
        response = pages.message_page(
            "Something went wrong on our side",
            "The error is in our logs for our team; this page cannot say more.",
            "The status page of your link shows whether your key arrived. Try again in a few minutes; if it "
            "keeps happening, tell your contact.",
            status=500,
        )
        response.headers.update(headers)
        return response

    return server_error


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    # FastAPI's default 422 body echoes the input; say where and what, never the value.
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return JSONResponse({"detail": errors}, status_code=422)


def _customer_routes(app: FastAPI, intake: Intake) -> None:
    def problem_page(problem: LinkProblem) -> Response:
        return pages.message_page(problem.title, problem.text, status=problem.status)

    def form_response(
        request: Request, onboarding: Onboarding, token: str, error: UploadRefused | None = None
    ) -> Response:
        browser, new = browser_secret(request)
        csrf = intake.form_token(onboarding, browser, secrets.token_hex(16))
        response = pages.form_page(
            tenant=onboarding.tenant,
            bundle_id=onboarding.bundle_id,
            action=f"/o/{token}",
            status_url=f"/o/{token}/status",
            csrf=csrf,
            max_key_bytes=intake.limits.key_bytes,
            max_request_bytes=intake.limits.request_bytes,
            error=error,
        )
        if new:
            set_browser_cookie(response, browser, https=intake.https)
        return response

    def have_key(token: str, status: int = 200) -> Response:
        return pages.message_page(
            "We have your key",
            "Your key is in our custody; nothing more is needed on this page.",
            status=status,
            status_url=f"/o/{token}/status",
        )

    @app.get("/o/{token}", include_in_schema=False)
    def show_form(token: str, request: Request) -> Response:
        try:
            onboarding = intake.resolve(token)
        except LinkProblem as problem:
            return problem_page(problem)
        if onboarding.custody_id is not None:
            return have_key(token)
        return form_response(request, onboarding, token)

    @app.post("/o/{token}", include_in_schema=False)
    async def receive_key(token: str, request: Request) -> Response:
        try:
            onboarding = await run_in_threadpool(intake.resolve, token)
        except LinkProblem as problem:
            return problem_page(problem)
        if onboarding.custody_id is not None:
            return form_response(request, onboarding, token, already_received())
        # Behind a proxy, uvicorn takes the address from X-Forwarded-For of the proxies it trusts.
        limited = intake.limiter.admit(onboarding.id, request.client.host if request.client else "")
        if limited is not None:
            log.info("upload refused: too many attempts (%s)", limited.scope)
            if limited.first_refusal:
                await run_in_threadpool(
                    audit_refusal, intake.audit, onboarding.tenant, onboarding.flow_run_id, limited
                )
            return pages.too_many_attempts(limited, intake.limiter, status_url=f"/o/{token}/status")
        upload = KeyUpload(intake.limits)
        try:
            boundary = check_request_headers(request.headers, intake.limits)
            await read_upload(request.stream(), boundary, intake.limits, upload)
            _check_form(intake, request, onboarding, upload.fields.get("csrf", ""))
            accepted = await run_in_threadpool(
                accept_key,
                upload,
                onboarding,
                base_url=intake.settings.asc_base_url,
                custody=intake.custody,
                store=intake.store,
                prefect=intake.prefect,
            )
        except UploadRefused as refused:
            log.info("upload refused: %s (%s)", refused.field, refused.status)
            return form_response(request, onboarding, token, refused)
        except ClientDisconnect:
            log.info("upload abandoned: the browser closed the connection")
            return Response(status_code=400)  # nobody is left to read it
        finally:
            upload.wipe()
        log.info("key accepted for onboarding %s: %s", onboarding.id, accepted.verdict)
        return pages.message_page(
            accepted.headline, accepted.detail, status=200, status_url=f"/o/{token}/status"
        )

    @app.get("/o/{token}/status", include_in_schema=False)
    def show_status(token: str, request: Request) -> Response:
        try:
            onboarding = intake.resolve(token)
        except LinkProblem as problem:
            return problem_page(problem)
        try:
            with intake.prefect() as client:
                onboarding = deliver(client, intake.store, onboarding)
                view = onboarding_status(
                    onboarding, client=client, audit=intake.audit, custody=intake.custody, trail=intake.trail
                )
        except (httpx.HTTPError, PrefectHTTPStatusError):
            return prefect_unreachable("status page")
        browser, new = browser_secret(request)
        checkable = view.phase in CHECKABLE_PHASES
        response = pages.status_page(
            bundle_id=onboarding.bundle_id,
            view=view,
            receipt=customer_receipt(view.receipt) if view.receipt else None,
            form_url=f"/o/{token}",
            check_url=f"/o/{token}/check" if checkable else None,
            csrf=intake.form_token(onboarding, browser, secrets.token_hex(16)) if checkable else "",
        )
        if new and checkable:
            set_browser_cookie(response, browser, https=intake.https)
        return response

    @app.post("/o/{token}/check", include_in_schema=False)
    async def check_now(token: str, request: Request) -> Response:
        """The status page's "Check now" (ascflow.intake.check_now): the next poll checks this run at once."""
        try:
            onboarding = await run_in_threadpool(intake.resolve, token)
        except LinkProblem as problem:
            return problem_page(problem)
        status_url = f"/o/{token}/status"
        csrf = await _small_form_field(request, "csrf")
        browser = request.cookies.get(BROWSER_COOKIE, "")
        nonce = intake.signer.read_form_token(csrf, onboarding.id, browser) if csrf and browser else None
        if nonce is None or not await run_in_threadpool(intake.store.use_form, onboarding.id, nonce):
            return pages.message_page(
                "The check could not be asked for",
                "The page's security token is missing, was already used, or does not belong to this browser.",
                "Open the status page again and use its button.",
                status=403,
                status_url=status_url,
            )

        def ask() -> Response:
            with intake.prefect() as client:
                answer = ask_for_check(
                    client,
                    onboarding,
                    intake.audit,
                    every_seconds=intake.settings.check_now_every_seconds,
                    now=datetime.now(UTC),
                )
            return pages.check_now_page(answer, status_url=status_url)

        try:
            return await run_in_threadpool(ask)
        except (httpx.HTTPError, PrefectHTTPStatusError):
            return prefect_unreachable("check now")

    def prefect_unreachable(where: str) -> Response:
        log.warning("%s: Prefect is unreachable", where)
        return pages.message_page(
            "We cannot show the progress right now",
            "Our workflow service does not answer at the moment. Nothing is lost: a key you sent is held "
            "encrypted and is handed to the onboarding as soon as the service is back.",
            "Try this page again in a few minutes.",
            status=503,
        )

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}


# The phases whose wait the access poller checks with Apple: the status page offers "Check now" in them.
CHECKABLE_PHASES = frozenset({"waiting_for_apple", "in_beta_review", "in_review"})
# A "Check now" form holds one token (~200 bytes); anything much larger is not from the page.
_MOST_SMALL_FORM_BYTES = 2048


async def _small_form_field(request: Request, name: str) -> str:
    """One field of a small url-encoded form, read without buffering more than the form can hold."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return ""
    body = b""
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > _MOST_SMALL_FORM_BYTES:
                return ""
    except ClientDisconnect:
        return ""  # nobody is left to read the answer; the empty token refuses it
    try:
        values = parse_qs(body.decode("ascii", errors="replace"), max_num_fields=4)
    except ValueError:  # more fields than the page's form has
        return ""
    return next(iter(values.get(name, [])), "")


def _check_form(intake: Intake, request: Request, onboarding: Onboarding, csrf: str) -> None:
    browser = request.cookies.get(BROWSER_COOKIE, "")
    nonce = intake.signer.read_form_token(csrf, onboarding.id, browser) if csrf and browser else None
    if nonce is None:
        raise UploadRefused(
            403,
            "form",
            "The form's security token is missing or does not belong to this browser, so it was not accepted",
            "Reload the page and send the form again from this browser.",
        )
    if not intake.store.use_form(onboarding.id, nonce):
        raise UploadRefused(
            409,
            "form",
            "This form was already sent once",
            "Fill in the form on this page again, or look at the status page to see whether your key arrived.",
        )


class AccessLog:
    """One line per request, with the link (a credential) cut out of the path: uvicorn's own log is off."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            path = _LINK_IN_PATH.sub("/o/<link>", scope.get("path", ""))
            log.info("%s %s %s", escape(scope.get("method", "")), escape(path), status)
