"""`X-Rate-Limit` parsing and the per-key limiter that spaces requests out before Apple answers 429."""

from __future__ import annotations

import httpx
import pytest

from ascflow.connect.keys import ApiKey
from ascflow.connect.ratelimit import HourlyBudget, RateLimit, budget_for, parse_rate_limit
from ascflow.connect.session import Session
from tests.connect.scripted_apple import Reply, ScriptedApple
from tests.fixtures.keys import make_customer_key


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("user-hour-lim:3600;user-hour-rem:3512;", RateLimit(3600, 3512)),
        ("user-hour-lim:3600;user-hour-rem:3512", RateLimit(3600, 3512)),
        (" user-hour-lim : 3500 ; user-hour-rem: 500 ; ", RateLimit(3500, 500)),
        ("user-minute-lim:50;user-hour-lim:3600;user-minute-rem:49;user-hour-rem:7;", RateLimit(3600, 7)),
        ("USER-HOUR-REM:12;garbage;;=:;user-hour-lim:abc", RateLimit(None, 12)),
        ("user-hour-lim:3600;", RateLimit(3600, None)),
        ("junk", None),
        ("", None),
        (None, None),
    ],
)
def test_header_is_parsed_leniently(header: str | None, expected: RateLimit | None) -> None:
    assert parse_rate_limit(header) == expected


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_no_waiting_while_plenty_remains() -> None:
    time = FakeTime()
    budget = HourlyBudget(clock=time.clock, sleep=time.sleep)
    budget.observe(RateLimit(3600, 3000))
    for _ in range(50):
        assert budget.acquire() == 0
    assert time.slept == []
    assert budget.remaining == 2950


def test_low_remainder_spreads_what_is_left_over_the_hour() -> None:
    time = FakeTime()
    budget = HourlyBudget(clock=time.clock, sleep=time.sleep)
    budget.observe(RateLimit(3600, 180))  # the 5% low-water mark
    waits = [budget.acquire() for _ in range(4)]
    assert waits[0] == 0
    # 180 left, then 179, 178: one request per window/remaining seconds.
    assert waits[1:] == pytest.approx([3600 / 179, 3600 / 178, 3600 / 177])


def test_every_wait_is_capped() -> None:
    time = FakeTime()
    budget = HourlyBudget(max_wait_s=30, clock=time.clock, sleep=time.sleep)
    budget.observe(RateLimit(3600, 0))
    waits = [budget.acquire() for _ in range(3)]
    assert waits == [0, 30, 30]


def test_a_new_report_from_apple_replaces_the_local_estimate() -> None:
    time = FakeTime()
    budget = HourlyBudget(clock=time.clock, sleep=time.sleep)
    budget.observe(RateLimit(3600, 10))
    budget.acquire()
    budget.observe(RateLimit(3600, 3500))  # the rolling hour refilled
    time.now += 100
    assert budget.acquire() == 0
    assert budget.remaining == 3499


def test_the_limiter_is_shared_by_every_session_of_a_key() -> None:
    key = make_customer_key()
    other = make_customer_key()
    api_key = ApiKey.from_p8(key.p8, key_id=key.key_id, issuer_id=key.issuer_id)
    with Session(api_key) as first, Session(api_key) as second:
        assert first.budget is second.budget is budget_for(key.key_id)
    assert budget_for(other.key_id) is not budget_for(key.key_id)


def test_requests_are_spaced_out_over_http_when_the_remainder_is_low(customer_key) -> None:
    api_key = ApiKey.from_p8(customer_key.p8, key_id=customer_key.key_id, issuer_id=customer_key.issuer_id)
    # A one-second "hour": 4 left means one request every 0.25 s (each wait capped at 0.5 s).
    budget = HourlyBudget(window_s=1.0, max_wait_s=0.5)
    with ScriptedApple() as apple:
        apple.always(Reply(200, {"data": []}, {"X-Rate-Limit": "user-hour-lim:100;user-hour-rem:4;"}))
        sessions = [
            Session(api_key, base_url=apple.base_url, budget=budget, timeout=httpx.Timeout(2.0))
            for _ in range(2)
        ]
        for i in range(5):
            sessions[i % 2].get("/v1/apps")  # two sessions, one budget
        for session in sessions:
            session.close()
        gaps = [b.at - a.at for a, b in zip(apple.requests, apple.requests[1:], strict=False)]
    assert len(gaps) == 4
    # Every answer reports 4 left, so each next request starts window/4 after the previous one started
    # (measured where the server reads the request, hence the tolerance; the upper bound only catches a wait
    # far over the 0.5 s cap, leaving room for a loaded machine).
    assert all(0.22 <= gap < 3.0 for gap in gaps), gaps


def test_requests_are_not_delayed_when_the_budget_is_healthy(customer_key) -> None:
    api_key = ApiKey.from_p8(customer_key.p8, key_id=customer_key.key_id, issuer_id=customer_key.issuer_id)
    slept: list[float] = []
    budget = HourlyBudget(window_s=1.0, max_wait_s=0.5, sleep=slept.append)
    with ScriptedApple() as apple:
        apple.always(Reply(200, {"data": []}, {"X-Rate-Limit": "user-hour-lim:100;user-hour-rem:90;"}))
        with Session(api_key, base_url=apple.base_url, budget=budget) as session:
            for _ in range(5):
                session.get("/v1/apps")
    assert len(apple.requests) == 5
    assert slept == []
    assert budget.remaining == 90  # Apple's last report
