"""The retry policy's decisions on their own (what may be sent again, how long to wait first) and its settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from pydantic import ValidationError

from ascflow.connect.retry import RetryPolicy, parse_retry_after
from ascflow.settings import Settings

POLICY = RetryPolicy()


@pytest.mark.parametrize(
    ("error", "read", "write"),
    [
        (httpx.ConnectError("refused"), True, True),
        (httpx.ConnectTimeout("slow connect"), True, True),
        (httpx.PoolTimeout("pool busy"), True, True),
        (httpx.ReadTimeout("no answer"), True, False),
        (httpx.WriteTimeout("slow send"), True, False),
        (httpx.ReadError("reset"), True, False),
        (httpx.WriteError("broken pipe"), True, False),
        (httpx.RemoteProtocolError("disconnected"), True, False),
        (httpx.UnsupportedProtocol("ftp"), False, False),
        (httpx.LocalProtocolError("bad header"), False, False),
        (httpx.ProxyError("proxy said no"), False, False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_which_transport_errors_may_be_retried(error: httpx.TransportError, read: bool, write: bool) -> None:
    assert POLICY.may_retry_error(error, write=False) is read
    assert POLICY.may_retry_error(error, write=True) is write


@pytest.mark.parametrize(
    ("status", "read", "write"),
    [
        (408, True, False),
        (429, True, True),
        (500, True, False),
        (503, True, False),
        (599, True, False),
        (400, False, False),
        (401, False, False),
        (403, False, False),
        (404, False, False),
        (409, False, False),
        (422, False, False),
    ],
)
def test_which_statuses_may_be_retried(status: int, read: bool, write: bool) -> None:
    assert POLICY.may_retry_status(status, write=False) is read
    assert POLICY.may_retry_status(status, write=True) is write


def test_backoff_is_capped_exponential_with_full_jitter() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=5.0)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (10, 5.0)]:
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(d is not None and 0 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 100  # jittered, so parallel clients do not retry in step
        assert max(d for d in delays if d is not None) > ceiling * 0.8


def test_jitter_is_the_random_fraction_of_the_backoff() -> None:
    plain = RetryPolicy(base_delay_s=1.0, max_delay_s=5.0, jitter=0)
    assert [plain.delay(attempt) for attempt in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    half = RetryPolicy(base_delay_s=1.0, max_delay_s=5.0, jitter=0.5)
    delays = [half.delay(3) for _ in range(200)]
    assert all(d is not None and 2.0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) > 100


def test_the_policy_comes_from_ascflow_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "MAX_ATTEMPTS": "3",
        "BASE_DELAY_SECONDS": "0.25",
        "MAX_DELAY_SECONDS": "4",
        "MAX_TOTAL_SECONDS": "30",
        "JITTER": "0",
        "MAX_RETRY_AFTER_SECONDS": "10",
    }.items():
        monkeypatch.setenv(f"ASCFLOW_RETRY_{name}", value)
    assert Settings(_env_file=None).retry_policy() == RetryPolicy(
        max_attempts=3, base_delay_s=0.25, max_delay_s=4, max_total_s=30, jitter=0, max_retry_after_s=10
    )
    assert Settings(_env_file=None, retry_max_attempts=5).retry_policy().max_attempts == 5


def test_the_defaults_are_the_policys_own(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        if name.startswith("retry_"):
            monkeypatch.delenv(f"ASCFLOW_{name.upper()}", raising=False)
    assert Settings(_env_file=None).retry_policy() == RetryPolicy()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ASCFLOW_RETRY_MAX_ATTEMPTS", "0"),
        ("ASCFLOW_RETRY_JITTER", "2"),
        ("ASCFLOW_RETRY_MAX_DELAY_SECONDS", "-1"),
    ],
)
def test_a_bad_retry_setting_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=variable.removeprefix("ASCFLOW_").lower()):
        Settings(_env_file=None)


def test_retry_after_is_used_as_given_up_to_the_cap() -> None:
    policy = RetryPolicy(max_retry_after_s=60)
    assert policy.delay(1, retry_after=7.5) == 7.5
    assert policy.delay(1, retry_after=60) == 60
    assert policy.delay(1, retry_after=61) is None


@pytest.mark.parametrize(
    "options",
    [
        {"max_attempts": 0},
        {"base_delay_s": -1},
        {"max_delay_s": -1},
        {"max_total_s": -1},
        {"max_retry_after_s": -1},
        {"jitter": -0.1},
        {"jitter": 1.5},
    ],
)
def test_nonsense_policies_are_refused(options: dict) -> None:
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**options)


def test_retry_after_header_forms() -> None:
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    in_ten = format_datetime(now + timedelta(seconds=10), usegmt=True)
    past = format_datetime(now - timedelta(seconds=10), usegmt=True)
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 0.25 ") == 0.25
    assert parse_retry_after(in_ten, now=now.timestamp()) == pytest.approx(10.0)
    assert parse_retry_after(past, now=now.timestamp()) == 0.0
    for junk in (None, "", "soon", "-1", "nan", "inf", "Wed, 99 Foo 2026"):
        assert parse_retry_after(junk) is None
