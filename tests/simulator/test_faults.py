"""Seeded faults: latency, 5xx, 429, resets, hangs and answers dropped after the write was applied."""

from __future__ import annotations

import time

import httpx
import pytest

from ascflow.simulator.faults import FaultPlan, FaultRule
from tests.fixtures.simulator import RunningSimulator
from tests.simulator.helpers import body


def new_bundle(api: httpx.Client, identifier: str) -> httpx.Response:
    return api.post(
        "/v1/bundleIds", json=body("bundleIds", {"name": "x", "identifier": identifier, "platform": "IOS"})
    )


def identifiers(sim: RunningSimulator) -> list[str]:
    return [b["attributes"]["identifier"] for b in sim.control.state()["bundleIds"]]


def test_latency_delays_the_answer(simulator: RunningSimulator) -> None:
    simulator.control.set_faults(FaultPlan(rules=[FaultRule(kind="latency", latency_seconds=0.3, count=1)]))
    api = simulator.client()
    started = time.monotonic()
    assert api.get("/v1/apps").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    api.get("/v1/apps")
    assert time.monotonic() - started < 0.3


def test_server_error_for_the_next_n_matching_requests(simulator: RunningSimulator) -> None:
    simulator.control.set_faults(
        FaultPlan(rules=[FaultRule(kind="server_error", status=503, path="/v1/apps*", count=2)])
    )
    api = simulator.client()
    assert api.get("/v1/bundleIds").status_code == 200
    first, second, third = (api.get("/v1/apps") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.json()["errors"][0]["status"] == "503"
    assert [e.fault for e in simulator.control.requests()] == [None, "server_error", "server_error", None]


def test_injected_429_carries_apples_document_and_retry_after(simulator: RunningSimulator) -> None:
    simulator.control.set_faults(FaultPlan(rules=[FaultRule(kind="rate_limit", count=1, retry_after=7)]))
    response = simulator.client().get("/v1/apps")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["errors"][0]["code"] == "RATE_LIMIT_EXCEEDED"


def test_reset_closes_the_connection_before_the_write(simulator: RunningSimulator) -> None:
    simulator.control.set_faults(FaultPlan(rules=[FaultRule(kind="reset", methods=["POST"], count=1)]))
    api = simulator.client()
    with pytest.raises(httpx.TransportError):
        new_bundle(api, "com.example.reset")
    assert "com.example.reset" not in identifiers(simulator)
    assert new_bundle(api, "com.example.reset").status_code == 201


def test_a_dropped_answer_after_the_write_leaves_the_write_applied(simulator: RunningSimulator) -> None:
    simulator.control.set_faults(
        FaultPlan(rules=[FaultRule(kind="drop_after_write", methods=["POST"], path="/v1/bundleIds", count=1)])
    )
    api = simulator.client()
    with pytest.raises(httpx.TransportError):
        new_bundle(api, "com.example.dropped")
    assert "com.example.dropped" in identifiers(simulator)
    # The client must read before writing again: the write is there, and a second create is a conflict.
    assert new_bundle(api, "com.example.dropped").status_code == 409
    entry = next(e for e in simulator.control.requests() if e.method == "POST")
    assert (entry.status, entry.fault) == (None, "drop_after_write")


def test_a_hang_outlasts_the_clients_timeout(simulator: RunningSimulator) -> None:
    simulator.control.set_faults(FaultPlan(rules=[FaultRule(kind="hang", hang_seconds=0.6, count=1)]))
    api = simulator.client(timeout=0.2)
    with pytest.raises(httpx.ReadTimeout):
        api.get("/v1/apps")
    assert simulator.client().get("/v1/apps").status_code == 200


def test_faults_target_methods_and_paths(simulator: RunningSimulator) -> None:
    simulator.control.set_faults(
        FaultPlan(rules=[FaultRule(kind="server_error", methods=["POST"], path="/v1/certificates*")])
    )
    api = simulator.client()
    assert api.get("/v1/certificates").status_code == 200
    assert (
        api.post(
            "/v1/certificates",
            json=body("certificates", {"csrContent": "x", "certificateType": "DISTRIBUTION"}),
        ).status_code
        == 500
    )


def statuses(sim: RunningSimulator, plan: FaultPlan, n: int = 30) -> list[int]:
    sim.control.set_faults(plan)
    api = sim.client()
    return [api.get("/v1/apps").status_code for _ in range(n)]


def test_the_same_seed_replays_the_same_faults(start_simulator) -> None:
    plan = FaultPlan(seed=42, rules=[FaultRule(kind="server_error", probability=0.3)])
    first = statuses(start_simulator(), plan)
    second = statuses(start_simulator(), plan)
    assert first == second
    assert 500 in first
    assert 200 in first
    other = statuses(start_simulator(), FaultPlan(seed=7, rules=plan.rules))
    assert other != first


def test_reset_restores_the_scenario_and_clears_faults_and_log(simulator: RunningSimulator) -> None:
    api = simulator.client()
    simulator.control.set_faults(FaultPlan(rules=[FaultRule(kind="server_error", path="/v1/apps")]))
    new_bundle(api, "com.example.temp")
    simulator.control.reset()
    assert simulator.control.requests() == []
    assert "com.example.temp" not in identifiers(simulator)
    assert api.get("/v1/apps").status_code == 200
