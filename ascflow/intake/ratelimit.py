"""How often a key may be uploaded: per link and per client address, a number of attempts in a sliding window.

An upload makes the intake ask Apple, so a flood of uploads is a flood of requests to Apple in the
customer's name. Only admitted attempts count (a refused one does not push the window on), so the time the
page gives is the true one: when the oldest counted attempt leaves the window. The counts live in the
process (the intake is one process); a restart forgets them, which errs towards the customer.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ascflow.audit import Action, Actor, AuditEvent, AuditLog, Target

Scope = Literal["link", "client"]
# Keys not seen for a window are dropped on a sweep this often, so many addresses cannot pile up memory.
SWEEP_EVERY = 1000


@dataclass(frozen=True)
class Limited:
    """The attempt is refused: by which limit, for how long, and whether it is the first refusal of the
    window (only that one is audited, so a flood cannot flood the audit trail)."""

    scope: Scope
    retry_after_seconds: int
    first_refusal: bool


class AttemptLimiter:
    def __init__(
        self, attempts: int, window_seconds: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.attempts = attempts
        self.window = window_seconds
        self._clock = clock
        self._seen: dict[tuple[Scope, str], deque[float]] = {}
        self._refused: set[tuple[Scope, str]] = set()
        self._calls = 0
        self._lock = threading.Lock()

    def admit(self, link: str, client: str) -> Limited | None:
        """Count an attempt on `link` from `client`, or say why it is refused (and count nothing)."""
        keys: tuple[tuple[Scope, str], ...] = (("link", link), ("client", client))
        with self._lock:
            now = self._clock()
            self._sweep(now)
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.attempts:
                    first = key not in self._refused
                    self._refused.add(key)
                    wait = math.ceil(times[0] + self.window - now)
                    return Limited(key[0], max(1, wait), first)
            for key in keys:
                self._seen.setdefault(key, deque()).append(now)
                self._refused.discard(key)
            return None

    def _recent(self, key: tuple[Scope, str], now: float) -> deque[float]:
        times = self._seen.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def _sweep(self, now: float) -> None:
        self._calls += 1
        if self._calls % SWEEP_EVERY:
            return
        for key in [k for k, times in self._seen.items() if not self._recent(k, now)]:
            del self._seen[key]
            self._refused.discard(key)


def audit_refusal(audit: AuditLog, tenant: str, run_id: str | None, limited: Limited) -> None:
    """One event per limit and window: who was refused (the link's customer), and by which limit."""
    audit.append(
        AuditEvent(
            actor=Actor(kind="customer", id=tenant),
            action=Action.INTAKE_UPLOADS_LIMITED,
            tenant=tenant,
            target=Target(run_id=run_id),
            outcome="denied",
            error_code=f"INTAKE.TOO_MANY_UPLOADS.{limited.scope.upper()}",
        )
    )
