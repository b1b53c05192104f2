"""A run killed (SIGKILL) in the middle of its Apple writes, and a new run for the same app after it."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.client.schemas.objects import StateType

from ascflow.simulator.faults import FaultPlan, FaultRule
from tasks.locking import LEASE_SECONDS
from tests.flows.stack import APPS, CREATES, NEW_VERSION, RELEASED_VERSION, FlowStack, creates, state_of

pytestmark = pytest.mark.slow

TENANT = "crash-games"
BUNDLE_ID = APPS["crash"]
HUNG_WRITE = "/v1/reviewSubmissions"
# Apple holds the review submission's POST for a while and then makes it: the killed run never hears back.
HANG = FaultPlan(rules=[FaultRule(kind="hang", path=HUNG_WRITE, methods=["POST"], count=1, hang_seconds=3)])


def test_a_run_killed_mid_way_and_run_again_completes_without_duplicates(flow_stack: FlowStack) -> None:
    key = flow_stack.new_key()
    custody_id = flow_stack.deposit(TENANT, BUNDLE_ID, key.key_id, key.p8)
    request = flow_stack.request(TENANT, BUNDLE_ID, custody_id)
    flow_stack.apple.control.set_faults(HANG)
    try:
        killed = flow_stack.start(request, idempotency_key=f"flows-crash:{custody_id}:1")
        wait_for(
            lambda: any(r.path == HUNG_WRITE and r.fault == "hang" for r in flow_stack.apple_requests(key)),
            timeout=90,
            what=f"the run's POST {HUNG_WRITE}",
        )
        for pid in flow_run_processes(killed):
            os.kill(pid, signal.SIGKILL)
        killed_at = time.time()
    finally:
        flow_stack.apple.control.clear_faults()
    crashed = flow_stack.wait_for_end(killed, timeout=60)
    assert state_of(crashed) is StateType.CRASHED, crashed.state
    assert custody_id in {r.id for r in flow_stack.custody.list()}, "the key left custody with the crash"

    rerun = flow_stack.start(request, idempotency_key=f"flows-crash:{custody_id}:2")
    finished = flow_stack.wait_for_end(rerun, timeout=150)
    assert state_of(finished) is StateType.COMPLETED, finished.state
    # The killed run held the app until its concurrency lease lapsed: the rerun waited, off Apple, for that.
    assert crashed.start_time is not None
    rerun_calls = [r.time for r in flow_stack.apple_requests(key) if r.time > killed_at]
    assert min(rerun_calls) >= crashed.start_time.timestamp() + LEASE_SECONDS
    # ...and said so, naming the run that held the lock, instead of waiting silently.
    with flow_stack.prefect.client() as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[rerun])))
    waited = [log.message for log in logs if "waiting for the lock" in log.message]
    assert waited, [log.message for log in logs]
    assert f"held by run {killed}" in waited[0], waited

    apple = flow_stack.apple_state()
    app_id = apple.app(BUNDLE_ID)["id"]
    bundle = next(b for b in apple.of("bundleIds") if b["attributes"]["identifier"] == BUNDLE_ID)
    apple.one("profiles", bundleId=bundle["id"])
    build = apple.one("builds", app=app_id)
    apple.one("buildUploads", app=app_id)
    versions = {v["attributes"]["versionString"]: v for v in apple.of("appStoreVersions", app=app_id)}
    assert sorted(versions) == [RELEASED_VERSION, NEW_VERSION]
    assert versions[NEW_VERSION]["relationships"]["build"] == build["id"]
    submission = apple.one("reviewSubmissions", app=app_id)
    assert submission["attributes"].get("submittedDate"), submission
    apple.one("reviewSubmissionItems", reviewSubmission=submission["id"])
    # Both runs together asked Apple once for each thing: the rerun found what the killed run had made,
    # the review submission whose answer it never got included.
    assert Counter(creates(flow_stack.apple_requests(key))) == Counter(f"POST {path}" for path in CREATES)
    assert flow_stack.custody.receipt(custody_id) is not None


def flow_run_processes(run_id: UUID) -> list[int]:
    """The processes the stack started to execute this flow run (the runner marks each with the run's ID)."""
    marker = f"PREFECT__FLOW_RUN_ID={run_id}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue  # gone, or not ours
        if marker in environ.split(b"\0"):
            found.append(int(proc.name))
    assert found, f"no process executes flow run {run_id}"
    return found


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} in {timeout:.0f} s"
        time.sleep(0.1)
