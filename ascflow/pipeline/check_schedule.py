"""How often the access poller checks a suspended run with Apple: often while the wait is young, rarely after hours.

The poller runs every 300 s (prefect.yaml) and asks `check_due` for each waiting run. A key Apple has not
activated, a review, a build Apple is still processing: each usually ends soon or takes long, so the checks
back off with the wait's age (`ASCFLOW_WAIT_CHECK_SCHEDULE`). The default, on the 300-s poll:

- the first hour: every poll (12 checks), so a key Apple activates soon is seen within 5 minutes;
- up to 6 hours: every 10 minutes (30 checks), so resumption within 10 minutes;
- after that: every 50 minutes (50 checks up to 48 hours), so resumption within 50 minutes.

That is 92 checks over a 48-hour wait instead of 576: one Apple read each while the key is refused. The
customer's status page can ask for a check at once ("Check now"): the next poll checks that run whatever its
age. The first tier counts on the 300-s poll: a faster poll makes more checks in the first hour.

Pure: no Prefect, no clock of its own (the caller passes `now`), so the benchmark drives it with a simulated
clock and the tests count its checks over 48 hours.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from ascflow.pipeline.waiting import Waiting, WaitKind

# (age up to, seconds between checks): waits younger than the age are checked at most this often (0: at every
# poll); the last pair also covers every older wait. The default is Settings.wait_check_schedule.
Schedule = Sequence[tuple[float, float]]
# A poll starts a few seconds early or late (the worker's pickup, the run's own reads), so a check due within
# this much of the next poll is made at that poll: checks stay on the 300-s grid instead of slipping one poll.
EARLY_SECONDS = 60.0
# The kinds whose check reads Apple. An App Privacy wait has its own rule (ASCFLOW_APP_PRIVACY_RECHECK_SECONDS),
# and a wait for the customer's upload is ended by the intake page, not by a check.
SCHEDULED_KINDS: frozenset[WaitKind] = frozenset({"access", "review", "build", "beta-review"})
# Every input WaitRecord.from_inputs reads starts so (Waiting's keys); one read of a run's inputs gets them all.
RUN_INPUTS_PREFIX = "ascflow-"
MOST_RUN_INPUTS = 500


class CheckMark(BaseModel):
    """The poller's last check of one wait (a flow run input beside the wait; only the poller writes it)."""

    at: datetime
    answered: datetime | None = Field(
        default=None, description="The customer's check-now request this check answered, if any."
    )


class CheckAsked(BaseModel):
    """The customer asked for a check at once (a flow run input beside the wait; only the intake writes it)."""

    at: datetime


def check_interval(schedule: Schedule, age_seconds: float) -> float:
    """Seconds from a check of a wait this old to the next one."""
    for up_to, every in schedule:
        if age_seconds < up_to:
            return every
    return schedule[-1][1]


def check_due(
    schedule: Schedule,
    waiting: Waiting,
    *,
    now: datetime,
    first_since: datetime | None = None,
    checked: CheckMark | None = None,
    asked: CheckAsked | None = None,
) -> bool:
    """Whether the poll at `now` checks this wait with Apple.

    `first_since` is when this step first waited (a run resumed by hand that waits again keeps its age); before
    the poller's first check, the run's own check just before suspending counts as the last one."""
    if waiting.kind not in SCHEDULED_KINDS:
        return True  # the poller's own rule decides, with no Apple call to spare
    if asked_unanswered(checked, asked):
        return True
    last = checked.at if checked else waiting.since
    # The gap after a check follows the wait's age at that check, so an activation before a tier's end is seen
    # within that tier's gap (a check just before 6 hours is followed by one 10 minutes later, not 50).
    age_then = (last - (first_since or waiting.since)).total_seconds()
    return (now - last).total_seconds() + EARLY_SECONDS >= check_interval(schedule, age_then)


def asked_unanswered(checked: CheckMark | None, asked: CheckAsked | None) -> bool:
    """A check-now request no check has answered yet (compared by the request's own time, one clock)."""
    return asked is not None and (checked is None or checked.answered != asked.at)


class WaitRecord(BaseModel):
    """One suspended run's wait as the poller reads it: the wait, its age, its last check, any check-now."""

    waiting: Waiting
    first_since: datetime | None = None
    checked: CheckMark | None = None
    asked: CheckAsked | None = None

    @classmethod
    def from_inputs(cls, pause_key: str, inputs: Mapping[str, str]) -> WaitRecord | None:
        """From a run's flow run inputs (key: JSON); None when the run's current wait was not recorded."""
        stored = inputs.get(Waiting.input_key(pause_key))
        if stored is None:
            return None
        waiting = Waiting.model_validate_json(stored)
        prefix = Waiting.input_key("")
        same_step = [
            earlier.since
            for key, value in inputs.items()
            if key.startswith(prefix)
            and (earlier := Waiting.model_validate_json(value)).step == waiting.step
            and earlier.kind == waiting.kind
        ]
        checked = inputs.get(Waiting.checked_key(pause_key))
        asked = inputs.get(Waiting.asked_key(pause_key))
        return cls(
            waiting=waiting,
            first_since=min(same_step, default=waiting.since),
            checked=CheckMark.model_validate_json(checked) if checked else None,
            asked=CheckAsked.model_validate_json(asked) if asked else None,
        )

    def due(self, schedule: Schedule, now: datetime) -> bool:
        return check_due(
            schedule,
            self.waiting,
            now=now,
            first_since=self.first_since,
            checked=self.checked,
            asked=self.asked,
        )

    @property
    def last_checked(self) -> datetime:
        return self.checked.at if self.checked else self.waiting.since

    def mark(self, at: datetime) -> CheckMark:
        """What the poller records after checking at `at` (answering the check-now request, if any)."""
        return CheckMark(at=at, answered=self.asked.at if self.asked else None)


R = TypeVar("R", bound=WaitRecord)


@dataclass
class Selection(Generic[R]):
    """What one poll checks, and what it leaves."""

    check: list[R] = field(default_factory=list)
    not_due: int = 0
    left_for_next_poll: dict[str, int] = field(default_factory=dict)


def select(runs: Sequence[R], schedule: Schedule, now: datetime, *, per_tenant: int) -> Selection[R]:
    """The due runs, at most `per_tenant` per tenant: check-now requests first, then the longest unchecked, so a
    tenant with more due runs than its budget has each checked in turn."""
    selection: Selection[R] = Selection()
    by_tenant: dict[str, list[R]] = defaultdict(list)
    for run in runs:
        if run.due(schedule, now):
            by_tenant[run.waiting.tenant].append(run)
        else:
            selection.not_due += 1
    for tenant, due in by_tenant.items():
        due.sort(key=lambda r: (not asked_unanswered(r.checked, r.asked), r.last_checked))
        selection.check.extend(due[:per_tenant])
        if len(due) > per_tenant:
            selection.left_for_next_poll[tenant] = len(due) - per_tenant
    return selection


def checks_over(schedule: Schedule, wait_seconds: float, poll_seconds: float = 300.0) -> list[float]:
    """The ages at which the poller checks a wait that never ends: what the schedule costs over `wait_seconds`."""
    since = datetime.fromtimestamp(0, UTC)
    waiting = Waiting(kind="access", tenant="t", bundle_id="b", since=since)
    ages: list[float] = []
    checked: CheckMark | None = None
    age = poll_seconds
    while age <= wait_seconds:
        now = datetime.fromtimestamp(age, UTC)
        if check_due(schedule, waiting, now=now, checked=checked):
            ages.append(age)
            checked = CheckMark(at=now)
        age += poll_seconds
    return ages
