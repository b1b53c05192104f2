"""Apple's hourly request budget: the `X-Rate-Limit` header and a per-key limiter that spaces requests out.

Apple counts requests per key over a rolling hour and answers every request with
`X-Rate-Limit: user-hour-lim:3600;user-hour-rem:3512;`. While plenty remains the limiter does nothing; once
the remainder drops under the low-water mark it spreads what is left over the window, so the key keeps working
(slowly) instead of hitting 429. Every wait is capped.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    limit: int | None
    remaining: int | None


def parse_rate_limit(header: str | None) -> RateLimit | None:
    """Read `user-hour-lim` and `user-hour-rem`, ignoring unknown pairs, spaces, a missing `;` and junk."""
    if not header:
        return None
    values: dict[str, int] = {}
    for pair in header.split(";"):
        name, sep, value = pair.partition(":")
        if not sep:
            continue
        try:
            values[name.strip().lower()] = int(value.strip())
        except ValueError:
            continue
    limit, remaining = values.get("user-hour-lim"), values.get("user-hour-rem")
    if limit is None and remaining is None:
        return None
    return RateLimit(limit=limit, remaining=remaining)


class HourlyBudget:
    """The limiter of one API key, shared by every Session of that key in this process (see `budget_for`)."""

    def __init__(
        self,
        *,
        window_s: float = 3600.0,
        low_water_fraction: float = 0.05,
        assumed_limit: int = 3600,
        max_wait_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._window_s = window_s
        self._low_water_fraction = low_water_fraction
        self._limit = assumed_limit
        self._max_wait_s = max_wait_s
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._remaining: int | None = None
        self._last_start = -math.inf

    @property
    def remaining(self) -> int | None:
        """Apple's last reported remainder, less the requests started since."""
        return self._remaining

    def observe(self, rate: RateLimit | None) -> None:
        if rate is None:
            return
        with self._lock:
            if rate.limit is not None and rate.limit > 0:
                self._limit = rate.limit
            if rate.remaining is not None:
                self._remaining = max(rate.remaining, 0)

    def acquire(self) -> float:
        """Wait until the next request may start; return the seconds waited."""
        with self._lock:
            now = self._clock()
            start = max(now, self._last_start + self._interval())
            self._last_start = start
            if self._remaining is not None:
                self._remaining = max(self._remaining - 1, 0)
        wait = start - now
        if wait > 0:
            self._sleep(wait)
        return wait

    def _interval(self) -> float:
        low_water = max(1, math.ceil(self._limit * self._low_water_fraction))
        if self._remaining is None or self._remaining > low_water:
            return 0.0
        # Spend what is left evenly over one window: the rolling hour refills as old requests age out.
        return min(self._window_s / max(self._remaining, 1), self._max_wait_s)


_budgets: dict[str, HourlyBudget] = {}
_budgets_lock = threading.Lock()


def budget_for(key_id: str) -> HourlyBudget:
    """The process-wide limiter for one API key."""
    with _budgets_lock:
        return _budgets.setdefault(key_id, HourlyBudget())
