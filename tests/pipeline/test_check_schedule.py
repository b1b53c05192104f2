"""The access poller's schedule of checks, without Prefect: what it costs over 48 hours, how late it sees an
activation, and which runs one poll checks."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from ascflow.pipeline.check_schedule import (
    CheckAsked,
    CheckMark,
    WaitRecord,
    check_due,
    checks_over,
    select,
)
from ascflow.pipeline.waiting import Waiting, WaitKind
from ascflow.settings import Settings

SCHEDULE = Settings(_env_file=None).wait_check_schedule
HOUR = 3600.0
SINCE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def waiting(kind: WaitKind = "access", tenant: str = "acme", since: datetime = SINCE) -> Waiting:
    return Waiting(kind=kind, step="validate", tenant=tenant, bundle_id="com.example.app", since=since)


def at(seconds: float) -> datetime:
    return SINCE + timedelta(seconds=seconds)


def test_a_48_hour_wait_costs_at_most_100_checks_against_576_fixed_polls() -> None:
    ages = checks_over(SCHEDULE, 48 * HOUR)
    assert len(ages) <= 100, len(ages)
    assert len(checks_over([(HOUR, 0.0)], 48 * HOUR)) == 576
    assert len([a for a in ages if a <= HOUR]) == 12, "every 5-minute poll in the first hour"


def test_an_activation_is_seen_within_15_minutes_up_to_6_hours_and_within_an_hour_after() -> None:
    # The worst case: Apple activates the key just after a check; the delay is the gap to the next one.
    ages = [0.0, *checks_over(SCHEDULE, 48 * HOUR)]
    gaps = [(earlier, later - earlier) for earlier, later in itertools.pairwise(ages)]
    assert max(gap for start, gap in gaps if start < 6 * HOUR) <= 15 * 60
    assert max(gap for start, gap in gaps) <= HOUR
    assert max(gap for start, gap in gaps if start >= 6 * HOUR) > 15 * 60, "it does back off after hours"


def test_a_poll_a_few_seconds_early_still_checks_on_the_grid() -> None:
    checked = CheckMark(at=at(2 * HOUR))
    assert check_due(SCHEDULE, waiting(), now=at(2 * HOUR + 598), checked=checked)
    assert not check_due(SCHEDULE, waiting(), now=at(2 * HOUR + 300), checked=checked)


def test_the_age_counts_from_the_steps_first_wait() -> None:
    # Resumed by hand after 10 hours, the run waits again: it keeps the old wait's slow schedule.
    again = waiting(since=at(10 * HOUR))
    assert not check_due(SCHEDULE, again, now=at(10 * HOUR + 600), first_since=SINCE)
    assert check_due(SCHEDULE, again, now=at(10 * HOUR + 600))


def test_check_now_makes_the_next_poll_check_once() -> None:
    checked = CheckMark(at=at(20 * HOUR))
    asked = CheckAsked(at=at(20 * HOUR + 120))
    assert not check_due(SCHEDULE, waiting(), now=at(20 * HOUR + 300), checked=checked)
    assert check_due(SCHEDULE, waiting(), now=at(20 * HOUR + 300), checked=checked, asked=asked)
    answered = WaitRecord(waiting=waiting(), checked=checked, asked=asked).mark(at(20 * HOUR + 300))
    assert not check_due(SCHEDULE, waiting(), now=at(20 * HOUR + 600), checked=answered, asked=asked)


def test_app_privacy_and_upload_waits_keep_their_own_rules() -> None:
    checked = CheckMark(at=at(20 * HOUR))
    for kind in ("app-privacy", "credentials"):
        assert check_due(SCHEDULE, waiting(kind), now=at(20 * HOUR + 300), checked=checked)


def test_the_record_is_read_from_the_runs_inputs() -> None:
    first = waiting()
    again = waiting(since=at(5 * HOUR))
    review = waiting("review", since=at(6 * HOUR)).model_copy(update={"step": "submit"})
    inputs = {
        Waiting.input_key("validate-1"): first.model_dump_json(),
        Waiting.input_key("validate-2"): again.model_dump_json(),
        Waiting.input_key("submit-1"): review.model_dump_json(),
        Waiting.checked_key("validate-2"): CheckMark(at=at(6 * HOUR)).model_dump_json(),
        Waiting.checked_key("validate-1"): CheckMark(at=at(HOUR)).model_dump_json(),
    }
    record = WaitRecord.from_inputs("validate-2", inputs)
    assert record is not None
    assert (record.waiting, record.first_since, record.last_checked, record.asked) == (
        again,
        SINCE,
        at(6 * HOUR),
        None,
    )
    assert WaitRecord.from_inputs("submit-1", inputs).first_since == at(6 * HOUR)  # type: ignore[union-attr]
    assert WaitRecord.from_inputs("validate-3", inputs) is None


def test_a_poll_skips_runs_not_due_and_checks_the_longest_unchecked_first() -> None:
    now = at(30 * HOUR)
    recent = WaitRecord(waiting=waiting(), checked=CheckMark(at=now - timedelta(minutes=20)))
    old = WaitRecord(waiting=waiting(), checked=CheckMark(at=now - timedelta(minutes=55)))
    older = WaitRecord(waiting=waiting(), checked=CheckMark(at=now - timedelta(minutes=58)))
    asked = WaitRecord(
        waiting=waiting(),
        checked=CheckMark(at=now - timedelta(minutes=5)),
        asked=CheckAsked(at=now - timedelta(minutes=1)),
    )
    other = WaitRecord(waiting=waiting(tenant="other"), checked=CheckMark(at=now - timedelta(hours=1)))
    selection = select([recent, old, older, asked, other], SCHEDULE, now, per_tenant=2)
    assert selection.check == [asked, older, other]
    assert (selection.not_due, selection.left_for_next_poll) == (1, {"acme": 1})
