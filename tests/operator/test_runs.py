"""`ascflow runs start | status | retry` and `POST /api/runs/{id}/retry` against a real Prefect server serving
the flows, with the simulator of `ascflow simulator --demo-team` as Apple."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from prefect.client.schemas.objects import StateType
from prefect.states import Cancelled, Scheduled

from ascflow import contracts
from ascflow.demo import DEMO_BUNDLE_ID, DEMO_TENANT
from ascflow.operator.retry import RETRY_OF
from tests.intake.conftest import IntakeServer
from tests.operator.conftest import OperatorStack, printed

FINISHED = (StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED)


def request_file(stack: OperatorStack, folder: Path, **changes: object) -> Path:
    request = json.loads(stack.team.request.read_text()) | changes
    path = folder / "request.json"
    path.write_text(json.dumps(request))
    return path


def test_dry_run_deposit_start_status_as_the_demo_team_prints_it(
    operator_stack: OperatorStack, tmp_path: Path
) -> None:
    stack, team = operator_stack, operator_stack.team
    deposited = stack.ascflow(
        "custody", "deposit", "--tenant", DEMO_TENANT, "--bundle-id", DEMO_BUNDLE_ID,
        "--key-id", team.key_id, "--issuer-id", team.issuer_id, "--key-file", str(team.key_file),
    )  # fmt: skip
    assert deposited.returncode == 0, deposited.stderr
    custody_id = printed(deposited.stdout, "custody ID")

    # The request --demo-team wrote, but done at submission: the wait for Apple's review is another test's.
    path = request_file(stack, tmp_path, destroy_credentials="after_submission")
    started = stack.ascflow("runs", "start", "--request", str(path), "--custody-id", custody_id)
    assert started.returncode == 0, started.stderr
    run_id = printed(started.stdout, "run ID")
    assert printed(started.stdout, "ui") == f"{stack.prefect.ui_url}/runs/flow-run/{run_id}"
    run = stack.wait_for(run_id, *FINISHED)
    assert run.state_type == StateType.COMPLETED, run.state
    assert run.parameters["request"]["custody_id"] == custody_id
    assert run.idempotency_key == f"{DEMO_TENANT}:{DEMO_BUNDLE_ID}:1.1"

    status = stack.ascflow("runs", "status", run_id)
    assert status.returncode == 0, status.stderr
    assert printed(status.stdout, "state").startswith("Completed since ")
    assert DEMO_BUNDLE_ID in status.stdout.split("\n\n", 1)[1]  # the summary artifact follows
    refused = stack.ascflow("runs", "retry", run_id)
    assert refused.returncode == 1
    assert "completed; there is nothing to retry" in refused.stderr

    # A cancelled run of the same request: its key is destroyed now, so a retry would stop at once.
    with stack.prefect.client() as client:
        deployment = client.read_deployment_by_name(contracts.ONBOARD_DEPLOYMENT)
        cancelled = client.create_flow_run_from_deployment(
            deployment.id, parameters=run.parameters, state=Cancelled()
        )
    destroyed = stack.ascflow("runs", "retry", str(cancelled.id))
    assert destroyed.returncode == 1
    assert f"(custody {custody_id}) was destroyed; a retry would stop at once" in destroyed.stderr
    assert f"ascflow runs retry {cancelled.id} --custody-id NEW_CUSTODY_ID" in destroyed.stderr


def test_a_waiting_or_scheduled_run_is_not_retried(operator_stack: OperatorStack, tmp_path: Path) -> None:
    stack = operator_stack
    # No custody ID: the run suspends at once, waiting for the customer's upload.
    path = request_file(stack, tmp_path, tenant="waiting-games", custody_id=None)
    started = stack.ascflow("runs", "start", "--request", str(path))
    assert started.returncode == 0, started.stderr
    run_id = printed(started.stdout, "run ID")
    stack.wait_for(run_id, StateType.PAUSED, timeout=60)

    status = stack.ascflow("runs", "status", run_id)
    assert printed(status.stdout, "state").startswith("Suspended since ")
    assert printed(status.stdout, "waits").startswith(
        f"credentials for waiting-games / {DEMO_BUNDLE_ID}, since "
    )

    refused = stack.ascflow("runs", "retry", run_id)
    assert refused.returncode == 1
    assert "is Suspended: it waits and holds no worker" in refused.stderr
    assert "next: Resume it instead: the Resume form on its page in the Prefect UI" in refused.stderr

    with stack.prefect.client() as client:
        deployment = client.read_deployment_by_name(contracts.ONBOARD_DEPLOYMENT)
        later = client.create_flow_run_from_deployment(
            deployment.id,
            parameters={"request": json.loads(path.read_text())},
            state=Scheduled(scheduled_time=datetime.now(UTC) + timedelta(days=1)),
        )
        scheduled = stack.ascflow("runs", "retry", str(later.id))
        assert scheduled.returncode == 1
        assert "is still Scheduled; a second run would queue behind it" in scheduled.stderr
        assert f"prefect flow-run cancel {later.id}" in scheduled.stderr
        for run_id_ in (UUID(run_id), later.id):
            client.set_flow_run_state(run_id_, Cancelled(), force=True)

    # Cancelled, the waiting run can be retried: through the operator API this time.
    intake = IntakeServer(stack.settings, stack.prefect.client).start()
    try:
        with intake.operator() as api:
            retried = api.post(f"/api/runs/{run_id}/retry", json={})
            unknown = api.post("/api/runs/00000000-0000-0000-0000-000000000000/retry")
            unauthenticated = api.post(f"/api/runs/{run_id}/retry", headers={"Authorization": ""})
    finally:
        intake.stop()
    assert retried.status_code == 200, retried.text
    body = retried.json()
    assert (body["retried_flow_run_id"], body["created"]) == (run_id, True)
    assert body["idempotency_key"] == "waiting-games:com.example.demogame:1.1:retry-1"
    assert (unknown.status_code, unauthenticated.status_code) == (404, 401)
    with stack.prefect.client() as client:
        new = client.read_flow_run(UUID(body["flow_run_id"]))
        assert f"{RETRY_OF}{run_id}" in new.tags
        client.set_flow_run_state(new.id, Cancelled(), force=True)


def test_a_failed_run_is_retried_once_linked_and_the_api_does_the_same(
    operator_stack: OperatorStack, tmp_path: Path
) -> None:
    stack = operator_stack
    # A custody ID that holds nothing: the run fails at its first step.
    path = request_file(stack, tmp_path, tenant="failing-games", custody_id="nosuchrecord0001")
    first = printed(stack.ascflow("runs", "start", "--request", str(path)).stdout, "run ID")
    failed = stack.wait_for(first, StateType.FAILED, StateType.CRASHED)

    again = stack.ascflow("runs", "start", "--request", str(path))  # the same idempotency key: nothing new
    assert "exists already; nothing was started" in again.stdout
    assert printed(again.stdout, "run ID") == first
    assert f"start a new run for it with: ascflow runs retry {first}" in again.stdout

    retried = stack.ascflow("runs", "retry", first)
    assert retried.returncode == 0, retried.stderr
    second = printed(retried.stdout, "run ID")
    assert second != first
    with stack.prefect.client() as client:
        new = client.read_flow_run(UUID(second))
    assert new.idempotency_key == f"{failed.idempotency_key}:retry-1"
    assert new.parameters == failed.parameters  # the request alone; the link is a tag
    assert {f"{RETRY_OF}{first}", "tenant:failing-games"} <= set(new.tags)
    assert printed(stack.ascflow("runs", "status", second).stdout, "retries") == first

    twice = stack.ascflow("runs", "retry", first)  # a double click starts one retry
    assert "was retried already" in twice.stdout
    assert printed(twice.stdout, "run ID") == second

    intake = IntakeServer(stack.settings, stack.prefect.client).start()
    try:
        with intake.operator() as api:
            same = api.post(f"/api/runs/{first}/retry")  # the API's retry is the same retry
    finally:
        intake.stop()
    assert (same.status_code, same.json()["flow_run_id"], same.json()["created"]) == (200, second, False)
