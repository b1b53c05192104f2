"""What every composite action shares: errors, find-or-create after an unknown outcome, bounded polling."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar, copy_context
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ascflow.connect.errors import OutcomeUnknown
from ascflow.errors import OperatorError

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")

Sleep = Callable[[float], None]

# Set by the sequential way of running the steps (the simple way the benchmarks compare against).
_ONE_AT_A_TIME: ContextVar[bool] = ContextVar("ascflow_one_call_at_a_time", default=False)


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


@contextmanager
def one_call_at_a_time() -> Iterator[None]:
    """Inside this block `at_once` makes its calls one after another, as a plain script would."""
    token = _ONE_AT_A_TIME.set(True)
    try:
        yield
    finally:
        _ONE_AT_A_TIME.reset(token)


def at_once(calls: Sequence[Callable[[], T]], *, at_most: int = 4) -> list[T]:
    """Independent Apple requests sent together, at most `at_most` at a time (each on a thread; the session's
    httpx client is thread-safe), their answers in order. It fails as the calls made one after another in that
    order would: with the error of the first call that failed (the others' answers are dropped; a write among
    them was made, and every write here is find-or-create, so a rerun finds it)."""
    if _ONE_AT_A_TIME.get() or len(calls) < 2:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(at_most, len(calls)), thread_name_prefix="ascflow-apple") as pool:
        futures = [pool.submit(copy_context().run, call) for call in calls]
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
    return [future.result() for future in futures]


def both(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """`at_once` for two calls with answers of different types."""
    answers: list[Any] = at_once([first, second])
    return answers[0], answers[1]
