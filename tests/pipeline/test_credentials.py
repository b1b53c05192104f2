"""The first thing every run asks: does the key work at Apple, and if not, why (each verdict over HTTP)."""

from __future__ import annotations

import pytest

from ascflow.connect.actions.apps import AppRecordMissing
from ascflow.pipeline.credentials import check_credentials
from tests.pipeline.conftest import deposit, p384_key


def test_an_admin_key_works_and_finds_the_app(simulator, make_context):
    ctx = make_context(simulator)
    check = check_credentials(ctx, deposit(ctx, simulator.admin_key), simulator.bundle_id)
    assert check.verdict == "works"
    assert check.app_id == simulator.app_id
    assert not check.pending
    events = [(e.action.value, e.outcome) for e in ctx.audit.events()]
    assert ("credentials.validated", "success") in events


def test_a_key_that_is_no_p256_key_is_invalid_without_asking_apple(simulator, make_context):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key, p8=p384_key())
    before = len(simulator.control.requests())
    check = check_credentials(ctx, custody_id, simulator.bundle_id)
    assert check.verdict == "invalid_key"
    assert "Admin team key" in check.next_step
    assert len(simulator.control.requests()) == before


def test_a_developer_key_has_too_low_a_role(simulator, make_context):
    ctx = make_context(simulator)
    developer = simulator.add_key(role="DEVELOPER")
    check = check_credentials(ctx, deposit(ctx, developer), simulator.bundle_id)
    assert check.verdict == "role_too_low"
    assert check.apple_code == "FORBIDDEN_ERROR"
    assert "Admin role" in check.next_step


def test_missing_agreements_are_a_wait_not_a_failure(simulator, make_context):
    ctx = make_context(simulator)
    simulator.control.set_agreements(False)
    check = check_credentials(ctx, deposit(ctx, simulator.admin_key), simulator.bundle_id)
    assert check.verdict == "agreements_missing"
    assert check.apple_code == "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED"
    assert check.pending


def test_a_fresh_key_is_asked_again_after_each_backoff(simulator, make_context):
    ctx = make_context(simulator)
    fresh = simulator.add_key(active_after_seconds=10 * 365 * 24 * 3600)
    slept: list[float] = []
    check = check_credentials(
        ctx, deposit(ctx, fresh), simulator.bundle_id, backoff=[0.5, 1.0], sleep=slept.append
    )
    assert check.verdict == "not_active_yet"
    assert check.apple_code == "NOT_AUTHORIZED"
    assert check.attempts == 3
    assert slept == [0.5, 1.0]
    first_calls = [r for r in simulator.control.requests() if r.key_id == fresh.key_id]
    assert len(first_calls) == 3


def test_the_backoff_stops_as_soon_as_the_key_works(simulator, make_context):
    ctx = make_context(simulator)
    fresh = simulator.add_key(active_after_seconds=10 * 365 * 24 * 3600)
    custody_id = deposit(ctx, fresh)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        simulator.control.activate_key(fresh.key_id)

    check = check_credentials(ctx, custody_id, simulator.bundle_id, backoff=[0.1, 0.2, 0.3], sleep=sleep)
    assert check.verdict == "works"
    assert check.attempts == 2
    assert slept == [0.1]


def test_a_missing_app_record_says_the_customer_must_create_it(start_simulator, make_context):
    apple = start_simulator(apps=[])
    ctx = make_context(apple)
    with pytest.raises(AppRecordMissing) as failure:
        check_credentials(ctx, deposit(ctx, apple.admin_key), "com.example.nothere")
    assert "New App" in failure.value.next_step
