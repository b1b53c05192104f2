"""The session's write rule against the App Store Connect simulator's injected faults (real HTTP on loopback)."""

from __future__ import annotations

import httpx
import pytest

from ascflow.connect.errors import OutcomeUnknown
from ascflow.connect.keys import ApiKey
from ascflow.connect.ratelimit import HourlyBudget
from ascflow.connect.retry import RetryPolicy
from ascflow.connect.session import RequestRecord, Session
from ascflow.simulator.faults import FaultPlan, FaultRule
from tests.fixtures.openapi import SPEC
from tests.fixtures.simulator import RunningSimulator, StartSimulator

FAST = RetryPolicy(max_attempts=4, base_delay_s=0.01, max_delay_s=0.05, max_total_s=5.0)
NEW_BUNDLE = {
    "data": {
        "type": "bundleIds",
        "attributes": {"identifier": "com.example.fresh", "name": "Fresh", "platform": "IOS"},
    }
}


def session_for(simulator: RunningSimulator, records: list[RequestRecord]) -> Session:
    key = simulator.admin_key
    api_key = ApiKey.from_p8(key.p8, key_id=key.key_id, issuer_id=key.issuer_id)
    return Session(
        api_key,
        base_url=simulator.base_url,
        retry=FAST,
        timeout=httpx.Timeout(5.0),
        on_request=records.append,
        budget=HourlyBudget(),
    )


def logged(simulator: RunningSimulator, method: str, path: str) -> list:
    return [r for r in simulator.control.requests() if (r.method, r.path) == (method, path)]


def test_a_write_applied_but_whose_answer_was_dropped_is_not_replayed(
    start_simulator: StartSimulator,
) -> None:
    rule = FaultRule(kind="drop_after_write", path="/v1/bundleIds", methods=["POST"], count=1)
    simulator = start_simulator(faults=FaultPlan(rules=[rule]))
    SPEC.check_request("POST", "/v1/bundleIds", {}, NEW_BUNDLE)
    records: list[RequestRecord] = []
    with session_for(simulator, records) as session:
        with pytest.raises(OutcomeUnknown):
            session.post("/v1/bundleIds", NEW_BUNDLE)
        assert len(logged(simulator, "POST", "/v1/bundleIds")) == 1
        # Apple did apply it: reading back (what the caller must do next) finds exactly one.
        found = session.get("/v1/bundleIds", {"filter[identifier]": "com.example.fresh"})
    assert [b["attributes"]["identifier"] for b in found["data"]] == ["com.example.fresh"]
    assert [(r.method, r.status, r.error) for r in records] == [
        ("POST", None, "RemoteProtocolError"),
        ("GET", 200, None),
    ]


def test_reads_ride_through_server_errors_and_writes_through_429(start_simulator: StartSimulator) -> None:
    rules = [
        FaultRule(kind="server_error", path="/v1/apps", methods=["GET"], count=2, status=503),
        FaultRule(kind="rate_limit", path="/v1/bundleIds", methods=["POST"], count=1, retry_after=0),
    ]
    simulator = start_simulator(faults=FaultPlan(rules=rules))
    records: list[RequestRecord] = []
    with session_for(simulator, records) as session:
        apps = session.get("/v1/apps", {"filter[bundleId]": simulator.bundle_id})
        created = session.post("/v1/bundleIds", NEW_BUNDLE)
    assert [a["attributes"]["bundleId"] for a in apps["data"]] == [simulator.bundle_id]
    assert created["data"]["attributes"]["identifier"] == "com.example.fresh"
    assert [r.status for r in records] == [503, 503, 200, 429, 201]
    assert len(logged(simulator, "POST", "/v1/bundleIds")) == 2  # the 429 was not applied; the retry was
    assert records[-1].rate_limit_remaining is not None
