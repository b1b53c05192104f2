"""What every composite action shares: errors, find-or-create after an unknown outcome, bounded polling."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ascflow.connect.errors import OutcomeUnknown
from ascflow.errors import OperatorError

T = TypeVar("T")

Sleep = Callable[[float], None]


class ActionFailed(OperatorError):
    """A composite action cannot go on; `next_step` says what the operator (or the customer) must do."""


class WaitTimedOut(ActionFailed):
    """A bounded wait ended before Apple reached the state we wait for."""


@dataclass(frozen=True)
class Ensured(Generic[T]):
    """What every find-or-create action returns: the resource it made sure of, whether this call created it,
    and what it changed on one that was already there (in words an operator reads, e.g. "renamed 1.0 to 1.1")."""

    resource: T
    created: bool
    changes: tuple[str, ...] = ()

    @property
    def updated(self) -> bool:
        return bool(self.changes)


def find_or_create(find: Callable[[], T | None], create: Callable[[], T]) -> Ensured[T]:
    """Create only what is missing; after a write with an unknown outcome, read back before writing again."""
    existing = find()
    if existing is not None:
        return Ensured(existing, created=False)
    return Ensured(create_once(create, find), created=True)


def create_once(create: Callable[[], T], find: Callable[[], T | None]) -> T:
    """Create what a read just showed missing; after an unknown outcome, read back before writing again."""
    try:
        return create()
    except OutcomeUnknown:
        applied = find()
        if applied is not None:
            return applied
        # Read back and not there: Apple did not apply it, so one more write cannot make a duplicate.
        return create()


def poll_until(
    read: Callable[[], T],
    done: Callable[[T], bool],
    *,
    what: str,
    poll_interval: float,
    timeout: float,
    sleep: Sleep = time.sleep,
) -> T:
    """Read until `done`, at most timeout/poll_interval more times (counted: a fake sleep stays bounded)."""
    if poll_interval <= 0 or timeout < 0:
        raise ValueError("poll_interval must be > 0 and timeout >= 0 (seconds)")
    waits = math.ceil(timeout / poll_interval)
    value = read()
    for _ in range(waits):
        if done(value):
            return value
        sleep(poll_interval)
        value = read()
    if done(value):
        return value
    raise WaitTimedOut(
        f"Timed out after {timeout:g}s waiting for {what}.",
        next_step="Apple is still working on it: retry this step later (it resumes where it stopped).",
    )


def update_once(write: Callable[[], object], applied: Callable[[], bool]) -> None:
    """Send an update; if its outcome is unknown, send it again only when reading back shows it missing."""
    try:
        write()
    except OutcomeUnknown:
        if not applied():
            write()
