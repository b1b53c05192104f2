"""When a request may be sent again, and how long to wait first.

Reads (and presigned part uploads, which are idempotent PUTs) are retried on network errors, 408, 429 and 5xx.
A write is replayed only when Apple surely did not apply it, because a replayed POST that Apple had applied
makes a second certificate, invitation or version:
- the connection was never made (`NOT_SENT_ERRORS`: refused, connect timeout, no free pooled connection), so not
  a byte of the request left this process;
- Apple answered 429 `RATE_LIMIT_EXCEEDED`: its limiter refuses the request instead of processing it, and
  Apple's advice is to send the job again later (reference app-store-connect.md, rate limits).
After anything else (a dropped or reset connection, a read timeout, 408, 5xx) the outcome is unknown: the session
raises `OutcomeUnknown` and the caller reads back before writing again (`actions.common.find_or_create`).
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

RETRYABLE_READ_STATUSES = frozenset({408, 429})  # and every 5xx
RETRYABLE_WRITE_STATUSES = frozenset({429})

# Raised before any byte of the request left this process.
NOT_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
# A read may be repeated after any of these; UnsupportedProtocol, LocalProtocolError and ProxyError are not
# transient and are not listed.
RETRYABLE_READ_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.NetworkError,
    httpx.TimeoutException,
    httpx.RemoteProtocolError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: at most `max_attempts` tries and `max_total_s` seconds.

    Waits are capped exponential backoff (`base_delay_s` doubling up to `max_delay_s`) of which the fraction
    `jitter` is random (1: full jitter, so many clients do not retry in step; 0: the plain backoff), or Apple's
    `Retry-After` up to `max_retry_after_s`; a longer `Retry-After` is not waited for: the error goes to the
    caller, who can reschedule. `Settings.retry_policy()` builds one from the `ASCFLOW_RETRY_*` settings.
    """

    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0
    max_total_s: float = 90.0
    max_retry_after_s: float = 60.0
    jitter: float = 1.0

    def __post_init__(self) -> None:
        delays = (self.base_delay_s, self.max_delay_s, self.max_total_s, self.max_retry_after_s)
        if self.max_attempts < 1 or min(delays) < 0 or not 0 <= self.jitter <= 1:
            raise ValueError("RetryPolicy needs max_attempts >= 1, non-negative delays and 0 <= jitter <= 1")

    def may_retry_status(self, status: int, *, write: bool) -> bool:
        if write:
            return status in RETRYABLE_WRITE_STATUSES
        return status in RETRYABLE_READ_STATUSES or status >= 500

    def may_retry_error(self, error: httpx.TransportError, *, write: bool) -> bool:
        return isinstance(error, NOT_SENT_ERRORS if write else RETRYABLE_READ_ERRORS)

    def delay(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds before try `attempt + 1`; None when Apple asked for a longer wait than we allow."""
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after_s else None
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return ceiling - random.uniform(0, ceiling * self.jitter)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)
