"""Resume suspended onboarding runs whose wait is over: the key now works, or Apple's review has ended.

Scheduled (see prefect.yaml). Each check is one or a few Apple reads with the run's own key, and each tenant
gets at most `checks_per_tenant` checks per poll, so polling stays far inside Apple's hourly budget.
"""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from prefect import flow, get_client, get_run_logger, task
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateName,
)
from prefect.flow_runs import resume_flow_run
from prefect.input import read_flow_run_input
from pydantic import BaseModel

from ascflow import contracts
from ascflow.audit import Action, Actor
from ascflow.pipeline.build_wait import build_at_apple
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.credentials import check_credentials
from ascflow.pipeline.review import review_status
from ascflow.pipeline.testflight import beta_review_ended
from ascflow.pipeline.waiting import Waiting
from flows.waiting import now
from tasks.support import KEY_HANDLING, context

POLLER = Actor(kind="schedule", id="access-poller")


class WaitingRun(BaseModel):
    flow_run_id: UUID
    waiting: Waiting


class PollReport(BaseModel):
    checked: int = 0
    resumed: list[str] = []
    still_waiting: int = 0
    skipped_for_budget: int = 0


@task(name="list-waiting-runs")
def list_waiting_runs() -> list[WaitingRun]:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(name=FlowRunFilterStateName(any_=["Suspended"]))
            ),
            deployment_filter=DeploymentFilter(
                name=DeploymentFilterName(any_=[contracts.ONBOARD_DEPLOYMENT.split("/")[1]])
            ),
        )
    waiting: list[WaitingRun] = []
    for run in runs:
        pause_key = run.state.state_details.pause_key if run.state else None
        stored = read_flow_run_input(Waiting.input_key(pause_key), flow_run_id=run.id) if pause_key else None
        if stored is not None:
            waiting.append(WaitingRun(flow_run_id=run.id, waiting=Waiting.model_validate(stored)))
    return waiting


@task(name="check-wait", **KEY_HANDLING)
def wait_is_over(run: WaitingRun) -> bool:
    """Reads only; the resumed run checks again and records the outcome itself."""
    wait = run.waiting
    if wait.custody_id is None:
        return False  # waits for the customer's upload: only the intake page knows when that happens
    ctx = context(wait.tenant, POLLER)
    if wait.kind == "access":
        return check_credentials(ctx, wait.custody_id, wait.bundle_id).verdict == "works"
    if wait.kind == "review" and wait.submission_id is not None:
        return review_status(ctx, wait.custody_id, wait.submission_id).finished
    if wait.kind == "beta-review" and wait.submission_id is not None:
        return beta_review_ended(ctx, wait.custody_id, build_id=wait.submission_id)
    if wait.kind == "build" and wait.version and wait.build_number:
        return build_at_apple(ctx, wait.custody_id, wait.bundle_id, wait.version, wait.build_number)
    if wait.kind == "app-privacy":
        # No API reads App Privacy: the run itself tries the submission again, at most this often.
        return (now() - wait.since).total_seconds() >= ctx.settings.app_privacy_recheck_seconds
    return False  # a wait the poller cannot judge: an operator resumes it


@task(name="resume-run")
def resume(run: WaitingRun) -> None:
    resume_flow_run(run.flow_run_id, run_input={"checked_by": POLLER.id})
    if run.waiting.kind == "access":
        resumed = StepContext(tenant=run.waiting.tenant, run_id=str(run.flow_run_id), actor=POLLER)
        resumed.record(Action.ACCESS_GRANTED, "success", custody_id=run.waiting.custody_id)


@flow(name="access-poller")
def poll_waiting_runs(checks_per_tenant: int = 10) -> PollReport:
    report = PollReport()
    by_tenant: dict[str, list[WaitingRun]] = defaultdict(list)
    for run in list_waiting_runs():
        by_tenant[run.waiting.tenant].append(run)
    for tenant, runs in by_tenant.items():
        for run in runs[:checks_per_tenant]:
            report.checked += 1
            if wait_is_over(run):
                resume(run)
                report.resumed.append(str(run.flow_run_id))
            else:
                report.still_waiting += 1
        report.skipped_for_budget += max(0, len(runs) - checks_per_tenant)
        if len(runs) > checks_per_tenant:
            left = len(runs) - checks_per_tenant
            get_run_logger().info("tenant %s: %d waiting runs left for the next poll", tenant, left)
    return report
