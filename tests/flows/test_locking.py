"""Locks across runs on the suite's real Prefect server: many runs of one tenant reach the same lock at once
(the first use makes it), none fails, and never two hold it together."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from tasks.locking import exclusive
from tests.flows.stack import FlowStack

pytestmark = pytest.mark.slow

RUNS = 12


def test_many_runs_reaching_a_new_lock_at_once_all_get_it_one_at_a_time(flow_stack: FlowStack) -> None:
    name = f"ascflow-signing-race-{uuid.uuid4().hex[:8]}"
    start = threading.Barrier(RUNS)
    inside: list[int] = []
    spans: list[tuple[float, float]] = []
    guard = threading.Lock()

    def one_run(index: int) -> None:
        with temporary_settings({PREFECT_API_URL: flow_stack.prefect.api_url}):
            start.wait()
            with exclusive(name, timeout_seconds=120):
                with guard:
                    inside.append(index)
                    holders = len(inside)
                entered = time.monotonic()
                time.sleep(0.05)
                with guard:
                    inside.remove(index)
                    spans.append((entered, time.monotonic()))
                assert holders == 1

    with ThreadPoolExecutor(RUNS) as pool:
        outcomes = [pool.submit(one_run, i) for i in range(RUNS)]
        errors = [f.exception(timeout=180) for f in outcomes]
    assert errors == [None] * RUNS, errors
    spans.sort()
    assert len(spans) == RUNS
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans))
