"""X-Rate-Limit on every response, per key over a rolling Apple hour, and Apple's 429 past it."""

from __future__ import annotations

import time

from tests.fixtures.simulator import RunningSimulator


def test_header_counts_down_per_key_and_429_past_the_limit(start_simulator) -> None:
    sim: RunningSimulator = start_simulator(rate_limit_per_hour=3, time_scale=1.0)
    api = sim.client()
    remaining = [api.get("/v1/apps").headers["x-rate-limit"] for _ in range(3)]
    assert remaining == [
        "user-hour-lim:3;user-hour-rem:2;",
        "user-hour-lim:3;user-hour-rem:1;",
        "user-hour-lim:3;user-hour-rem:0;",
    ]
    over = api.get("/v1/apps")
    assert over.status_code == 429
    assert over.headers["x-rate-limit"] == "user-hour-lim:3;user-hour-rem:0;"
    assert over.json()["errors"][0] | {"id": "x"} == {
        "id": "x",
        "status": "429",
        "code": "RATE_LIMIT_EXCEEDED",
        "title": "The request rate limit has been reached.",
        "detail": "We've received too many requests for this API. Please wait and try again or slow down your "
        "request rate.",
    }
    other = sim.client(sim.add_key())
    assert other.get("/v1/apps").headers["x-rate-limit"] == "user-hour-lim:3;user-hour-rem:2;"


def test_the_hour_rolls_in_apple_time(start_simulator) -> None:
    sim: RunningSimulator = start_simulator(rate_limit_per_hour=2, time_scale=36_000.0)  # an hour is 0.1 s
    api = sim.client()
    assert [api.get("/v1/apps").status_code for _ in range(2)] == [200, 200]
    time.sleep(0.15)
    response = api.get("/v1/apps")
    assert response.status_code == 200
    assert response.headers["x-rate-limit"] == "user-hour-lim:2;user-hour-rem:1;"


def test_error_answers_carry_the_header_too(simulator: RunningSimulator) -> None:
    response = simulator.client().get("/v1/apps/404")
    assert response.status_code == 404
    assert response.headers["x-rate-limit"].startswith("user-hour-lim:3600;user-hour-rem:")
