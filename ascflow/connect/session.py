"""One authenticated HTTP session per API key: connection pool, timeouts, retries, limiter and observation."""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from types import TracebackType
from typing import Any

import httpx

from ascflow.connect.errors import (
    AppStoreConnectError,
    OutcomeUnknown,
    TransportFailure,
    UnexpectedResponse,
    error_from_response,
)
from ascflow.connect.keys import ApiKey
from ascflow.connect.ratelimit import HourlyBudget, budget_for, parse_rate_limit
from ascflow.connect.retry import NOT_SENT_ERRORS, RetryPolicy, parse_retry_after
from ascflow.connect.tokens import TokenManager

APPLE_API_URL = "https://api.appstoreconnect.apple.com"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0, pool=30.0)
PAGE_LIMIT = 200

log = logging.getLogger(__name__)


class _UrlsWithoutQuery(logging.Filter):
    """httpx logs each request's full URL at INFO: a presigned part's query is its credential, an Apple query
    holds customers' names and e-mail addresses. Its records keep scheme, host and path only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(arg, httpx.URL) for arg in record.args):
            record.args = tuple(
                arg.copy_with(query=None) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


logging.getLogger("httpx").addFilter(_UrlsWithoutQuery())

Params = Mapping[str, str | int]


@dataclass(frozen=True)
class RequestRecord:
    """One attempt of one request, as the observation hook sees it: never a body, header or query string."""

    method: str
    path: str
    status: int | None
    duration_s: float
    rate_limit_remaining: int | None
    attempt: int
    error: str | None = None  # the transport error's class name when there was no HTTP answer


@cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process, made as httpx makes its default (certifi, or SSL_CERT_FILE/SSL_CERT_DIR):
    loading the CA bundle costs ~50 ms of CPU, and a run opens a session for each step. It holds no secret."""
    return httpx.create_ssl_context()


class Session:
    """App Store Connect over one `httpx.Client`. Thread-safe; close it (or use `with`) when done."""

    def __init__(
        self,
        key: ApiKey,
        *,
        base_url: str = APPLE_API_URL,
        timeout: httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        on_request: Callable[[RequestRecord], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        budget: HourlyBudget | None = None,
    ) -> None:
        self.key_id = key.key_id
        self.retry = retry or RetryPolicy()
        self.budget = budget or budget_for(key.key_id)
        # Per session, not per process: a process-wide cache would keep the private key alive after custody
        # destroyed it. The limiter, which holds no secret, is shared per key instead.
        self._tokens = TokenManager(key)
        self._on_request = on_request
        self._client = httpx.Client(
            base_url=base_url,
            timeout=timeout or DEFAULT_TIMEOUT,
            transport=transport,
            verify=tls_context(),
            follow_redirects=False,  # a redirect must never carry the bearer token elsewhere
            headers={"Accept": "application/json", "User-Agent": "ascflow"},
        )

    # -- the API ---------------------------------------------------------------------------------------------

    def get(self, path: str, params: Params | None = None) -> dict[str, Any]:
        response = self._send("GET", path, params=params)
        return _document(response, "GET", path)

    def paginate(self, path: str, params: Params | None = None) -> Iterator[dict[str, Any]]:
        """Each page of a collection, following `links.next` only on the base URL's scheme, host and port."""
        document = self.get(path, {"limit": PAGE_LIMIT, **(params or {})})
        yield document
        while next_link := _next_link(document):
            url = self._client.base_url.join(next_link)
            if (url.scheme, url.host, url.port) != (
                self._client.base_url.scheme,
                self._client.base_url.host,
                self._client.base_url.port,
            ):
                raise UnexpectedResponse(
                    f"GET {path}: the next page link points to another host ({url.host}); not following it.",
                )
            response = self._send("GET", str(url))
            document = _document(response, "GET", url.path)
            yield document

    def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """The created resource's document; `{}` for the relationship endpoints that answer 204."""
        response = self._send("POST", path, body=body)
        return {} if response.status_code == 204 else _document(response, "POST", path)

    def patch(self, path: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
        response = self._send("PATCH", path, body=body)
        return None if response.status_code == 204 else _document(response, "PATCH", path)

    def delete(self, path: str, body: Mapping[str, Any] | None = None) -> None:
        self._send("DELETE", path, body=body)

    def upload_part(self, method: str, url: str, headers: Mapping[str, str], content: bytes) -> None:
        """Send one part to a presigned upload URL: no JWT, no API budget, retried like a read."""
        self._send(method, url, headers=headers, content=content, apple=False, write=False)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Session(key_id={self.key_id!r}, base_url={str(self._client.base_url)!r})"

    # -- one request, with retries ---------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        target: str,
        *,
        params: Params | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        apple: bool = True,
        write: bool | None = None,
    ) -> httpx.Response:
        is_write = method != "GET" if write is None else write
        url = httpx.URL(target)
        # Presigned URLs carry their signature in the query: only host and path are ever reported.
        shown = url.path if apple else f"{url.host}{url.path}"
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            request_headers = dict(headers or {})
            if apple:
                self.budget.acquire()
                request_headers["Authorization"] = f"Bearer {self._tokens.bearer()}"
            sent_at = time.perf_counter()
            try:
                response = self._client.request(
                    method, target, params=params, json=body, headers=request_headers, content=content
                )
            except httpx.TransportError as exc:
                self._report(method, shown, None, sent_at, None, attempt, type(exc).__name__)
                if self.retry.may_retry_error(exc, write=is_write):
                    delay = self._delay(attempt, started)
                    if delay is not None:
                        self._log_retry(method, shown, type(exc).__name__, delay, attempt, "backoff")
                        time.sleep(delay)
                        continue
                # `from None`: httpx errors hold the request, whose headers hold the token.
                raise _transport_error(method, shown, exc, write=is_write, attempts=attempt) from None
            rate = parse_rate_limit(response.headers.get("X-Rate-Limit")) if apple else None
            if apple:
                self.budget.observe(rate)
            remaining = rate.remaining if rate else None
            self._report(method, shown, response.status_code, sent_at, remaining, attempt, None)
            if 200 <= response.status_code < 300:
                return response
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if self.retry.may_retry_status(response.status_code, write=is_write):
                delay = self._delay(attempt, started, retry_after)
                if delay is not None:
                    reason = _status_reason(method, shown, response)
                    waited_for = "Retry-After" if retry_after is not None else "backoff"
                    self._log_retry(method, shown, reason, delay, attempt, waited_for)
                    time.sleep(delay)
                    continue
            raise _status_error(method, shown, response, retry_after, write=is_write)

    def _delay(self, attempt: int, started: float, retry_after: float | None = None) -> float | None:
        if attempt >= self.retry.max_attempts:
            return None
        delay = self.retry.delay(attempt, retry_after)
        if delay is None or time.monotonic() - started + delay > self.retry.max_total_s:
            return None
        return delay

    def _log_retry(
        self, method: str, path: str, reason: str, delay: float, attempt: int, waited_for: str
    ) -> None:
        # `path` is what `_send` shows (no query string: presigned URLs carry their signature there).
        log.warning(
            "%s %s: %s; retrying in %.2fs (%s), attempt %d of %d",
            method,
            path,
            reason,
            delay,
            waited_for,
            attempt + 1,
            self.retry.max_attempts,
        )

    def _report(
        self,
        method: str,
        path: str,
        status: int | None,
        sent_at: float,
        remaining: int | None,
        attempt: int,
        error: str | None,
    ) -> None:
        if self._on_request is None:
            return
        record = RequestRecord(method, path, status, time.perf_counter() - sent_at, remaining, attempt, error)
        try:
            self._on_request(record)
        except Exception:
            # An observer's failure must not turn a request that Apple applied into an error.
            log.exception("on_request hook failed for %s %s", method, path)


def _status_reason(method: str, path: str, response: httpx.Response) -> str:
    code = error_from_response(method, path, response.status_code, response.content).code
    return f"HTTP {response.status_code} {code}" if code else f"HTTP {response.status_code}"


def _transport_error(
    method: str, path: str, exc: httpx.TransportError, *, write: bool, attempts: int
) -> AppStoreConnectError:
    kind = type(exc).__name__
    if write and not isinstance(exc, NOT_SENT_ERRORS):
        return OutcomeUnknown(
            f"{method} {path}: the request was sent but no answer came back ({kind}); "
            "Apple may or may not have applied it."
        )
    return TransportFailure(
        f"{method} {path}: no answer from the server after {attempts} attempt(s) ({kind})."
    )


def _status_error(
    method: str, path: str, response: httpx.Response, retry_after: float | None, *, write: bool
) -> AppStoreConnectError:
    error = error_from_response(method, path, response.status_code, response.content, retry_after=retry_after)
    if write and (response.status_code >= 500 or response.status_code == 408):
        return OutcomeUnknown(
            f"{method} {path}: Apple answered HTTP {response.status_code} to a write; "
            "it may have been applied.",
            status=response.status_code,
            errors=error.errors,
        )
    return error


def _document(response: httpx.Response, method: str, path: str) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise UnexpectedResponse(
            f"{method} {path}: HTTP {response.status_code} but the body is not a JSON object.",
            status=response.status_code,
        )
    return document


def _next_link(document: Mapping[str, Any]) -> str | None:
    links = document.get("links")
    link = links.get("next") if isinstance(links, Mapping) else None
    return link if isinstance(link, str) and link else None
