"""The rules every composite action relies on: find before create, read back after an unknown outcome, bounded polls."""

from __future__ import annotations

import pickle
import threading

import pytest

from ascflow.connect.actions import ActionFailed, WaitTimedOut
from ascflow.connect.actions.common import (
    at_once,
    both,
    create_once,
    find_or_create,
    one_call_at_a_time,
    poll_until,
    update_once,
)
from ascflow.connect.errors import OutcomeUnknown


class FakeStore:
    """A resource store whose writes can be applied but answered with an unknown outcome."""

    def __init__(self, *, drop_answers: int = 0, apply_dropped: bool = True) -> None:
        self.items: list[str] = []
        self.writes = 0
        self.drop_answers = drop_answers
        self.apply_dropped = apply_dropped

    def find(self) -> str | None:
        return self.items[0] if self.items else None

    def create(self) -> str:
        self.writes += 1
        if self.drop_answers:
            self.drop_answers -= 1
            if self.apply_dropped:
                self.items.append(f"item{self.writes}")
            raise OutcomeUnknown("POST /v1/things: no answer")
        self.items.append(f"item{self.writes}")
        return self.items[-1]


def test_existing_resource_is_reused_without_a_write() -> None:
    store = FakeStore()
    store.items.append("earlier")
    ensured = find_or_create(store.find, store.create)
    assert (ensured.resource, ensured.created, store.writes) == ("earlier", False, 0)


def test_missing_resource_is_created_once() -> None:
    store = FakeStore()
    first = find_or_create(store.find, store.create)
    second = find_or_create(store.find, store.create)
    assert (first.created, second.created, store.writes, store.items) == (True, False, 1, ["item1"])


def test_unknown_outcome_that_was_applied_is_read_back_not_written_again() -> None:
    store = FakeStore(drop_answers=1, apply_dropped=True)
    ensured = find_or_create(store.find, store.create)
    assert (ensured.resource, ensured.created, store.writes, store.items) == ("item1", True, 1, ["item1"])


def test_unknown_outcome_that_was_not_applied_is_written_once_more() -> None:
    store = FakeStore(drop_answers=1, apply_dropped=False)
    ensured = find_or_create(store.find, store.create)
    assert (ensured.resource, store.writes, store.items) == ("item2", 2, ["item2"])


def test_two_unknown_outcomes_in_a_row_surface_to_the_caller() -> None:
    store = FakeStore(drop_answers=2, apply_dropped=False)
    with pytest.raises(OutcomeUnknown):
        find_or_create(store.find, store.create)
    assert store.writes == 2


def test_update_is_resent_only_when_the_read_back_shows_it_missing() -> None:
    sent: list[str] = []
    state = {"applied": False}

    def write_dropped_after_applying() -> None:
        sent.append("patch")
        state["applied"] = True
        if len(sent) == 1:
            raise OutcomeUnknown("PATCH: no answer")

    update_once(write_dropped_after_applying, lambda: state["applied"])
    assert sent == ["patch"]

    sent.clear()
    state["applied"] = False

    def write_dropped_before_applying() -> None:
        sent.append("patch")
        if len(sent) == 1:
            raise OutcomeUnknown("PATCH: no answer")
        state["applied"] = True

    update_once(write_dropped_before_applying, lambda: state["applied"])
    assert sent == ["patch", "patch"]
    assert state["applied"]


def test_poll_returns_as_soon_as_done_and_sleeps_between_reads() -> None:
    values = iter(["PROCESSING", "PROCESSING", "VALID"])
    sleeps: list[float] = []
    result = poll_until(
        lambda: next(values),
        lambda v: v == "VALID",
        what="x",
        poll_interval=2,
        timeout=60,
        sleep=sleeps.append,
    )
    assert result == "VALID"
    assert sleeps == [2, 2]


def test_poll_is_bounded_and_says_what_it_waited_for() -> None:
    reads: list[int] = []
    sleeps: list[float] = []

    def read() -> str:
        reads.append(1)
        return "PROCESSING"

    with pytest.raises(WaitTimedOut, match="build 7 to finish") as caught:
        poll_until(
            read,
            lambda v: v == "VALID",
            what="build 7 to finish",
            poll_interval=5,
            timeout=20,
            sleep=sleeps.append,
        )
    assert sum(sleeps) == 20
    assert len(reads) == 5
    assert "retry this step later" in caught.value.next_step


@pytest.mark.parametrize(("interval", "timeout"), [(0, 10), (-1, 10), (1, -1)])
def test_poll_rejects_nonsense_bounds(interval: float, timeout: float) -> None:
    with pytest.raises(ValueError, match="poll_interval"):
        poll_until(
            lambda: 1, lambda v: True, what="x", poll_interval=interval, timeout=timeout, sleep=lambda s: None
        )


def test_action_errors_survive_pickling_with_their_next_step() -> None:
    error = WaitTimedOut("waited", next_step="do this")
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, WaitTimedOut)
    assert isinstance(copy, ActionFailed)
    assert (copy.what, copy.next_step, str(copy)) == ("waited", "do this", str(error))


def test_create_once_writes_without_reading_first_and_reads_back_only_on_an_unknown_outcome() -> None:
    reads: list[int] = []
    store = FakeStore()

    def find() -> str | None:
        reads.append(1)
        return store.find()

    assert create_once(store.create, find) == "item1"
    assert reads == []
    dropped = FakeStore(drop_answers=1, apply_dropped=True)
    assert create_once(dropped.create, dropped.find) == "item1"
    assert dropped.writes == 1


def test_at_once_makes_the_calls_together_and_answers_in_order():
    # Each call waits until the other has started: made one after another they would time out.
    started = threading.Barrier(2, timeout=5)

    def call(answer: str) -> str:
        started.wait()
        return answer

    assert at_once([lambda: call("first"), lambda: call("second")]) == ["first", "second"]


def test_at_once_fails_with_the_first_failing_call_in_order():
    second_failed = threading.Event()

    def first() -> str:
        # Fails after the second call has failed: the order of the calls decides, not the clock.
        second_failed.wait(timeout=5)
        raise ActionFailed("first", next_step="none")

    def second() -> str:
        second_failed.set()
        raise ValueError("second")

    with pytest.raises(ActionFailed, match="first"):
        at_once([first, second])


def test_one_call_at_a_time_makes_them_in_order_on_the_callers_thread():
    seen: list[tuple[str, threading.Thread]] = []

    def call(name: str) -> str:
        seen.append((name, threading.current_thread()))
        return name

    with one_call_at_a_time():
        assert both(lambda: call("a"), lambda: call("b")) == ("a", "b")
    assert seen == [("a", threading.current_thread()), ("b", threading.current_thread())]
