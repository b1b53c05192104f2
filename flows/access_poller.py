"""Resume suspended onboarding runs whose wait is over: the key now works, or Apple's review has ended.

Scheduled every 300 s (see prefect.yaml); the intake's "Check now" also starts it. A run is checked only when
its wait's schedule says so (ascflow.pipeline.check_schedule: often while the wait is young, rarely after hours,
at once after a check-now). Each check is one or a few Apple reads with the run's own key, and each tenant gets
at most `checks_per_tenant` checks per poll, so polling stays far inside Apple's hourly budget. The poller
records each check beside the wait; it is the only writer of that record, and the deployment runs one poll at a
time (CANCEL_NEW), so two polls never race on it.
"""

from __future__ import annotations

from datetime import datetime
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
from pydantic import BaseModel

from ascflow import contracts
from ascflow.audit import Action, Actor
from ascflow.pipeline.build_wait import build_at_apple
from ascflow.pipeline.check_schedule import (
    MOST_RUN_INPUTS,
    RUN_INPUTS_PREFIX,
    SCHEDULED_KINDS,
    WaitRecord,
    select,
)
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.credentials import check_credentials
from ascflow.pipeline.review import review_status
from ascflow.pipeline.testflight import beta_review_ended
from ascflow.pipeline.waiting import Waiting
from ascflow.settings import get_settings
from flows.waiting import now
from tasks.support import KEY_HANDLING, context

POLLER = Actor(kind="schedule", id="access-poller")


class WaitingRun(WaitRecord):
    flow_run_id: UUID
    pause_key: str


class PollReport(BaseModel):
    checked: int = 0
    resumed: list[str] = []
    still_waiting: int = 0
    not_due: int = 0
    skipped_for_budget: int = 0


@task(name="list-waiting-runs")
def list_waiting_runs() -> list[WaitingRun]:
    waiting: list[WaitingRun] = []
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(name=FlowRunFilterStateName(any_=["Suspended"]))
            ),
            deployment_filter=DeploymentFilter(
                name=DeploymentFilterName(any_=[contracts.ONBOARD_DEPLOYMENT.split("/")[1]])
            ),
        )
        for run in runs:
            pause_key = run.state.state_details.pause_key if run.state else None
            if pause_key is None:
                continue
            # One read per run for the wait, the step's earlier waits and the check records.
            stored = client.filter_flow_run_input(
                flow_run_id=run.id, key_prefix=RUN_INPUTS_PREFIX, limit=MOST_RUN_INPUTS, exclude_keys=set()
            )
            record = WaitRecord.from_inputs(pause_key, {item.key: item.value for item in stored})
            if record is not None:
                waiting.append(WaitingRun(flow_run_id=run.id, pause_key=pause_key, **dict(record)))
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


@task(name="record-check")
def record_check(run: WaitingRun, at: datetime) -> None:
    key = Waiting.checked_key(run.pause_key)
    with get_client(sync_client=True) as client:
        if run.checked is not None:  # read this poll; only the poller writes it, one poll at a time
            client.delete_flow_run_input(run.flow_run_id, key)
        client.create_flow_run_input(run.flow_run_id, key, run.mark(at).model_dump_json())


@flow(name="access-poller")
def poll_waiting_runs(checks_per_tenant: int = 10) -> PollReport:
    selection = select(
        list_waiting_runs(), get_settings().wait_check_schedule, now(), per_tenant=checks_per_tenant
    )
    report = PollReport(
        not_due=selection.not_due, skipped_for_budget=sum(selection.left_for_next_poll.values())
    )
    for run in selection.check:
        report.checked += 1
        checked_at = now()
        if wait_is_over(run):
            resume(run)
            report.resumed.append(str(run.flow_run_id))
        else:
            if run.waiting.kind in SCHEDULED_KINDS:
                record_check(run, checked_at)
            report.still_waiting += 1
    for tenant, left in selection.left_for_next_poll.items():
        get_run_logger().info("tenant %s: %d waiting runs left for the next poll", tenant, left)
    return report
