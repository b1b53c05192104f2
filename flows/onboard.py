"""Onboard one customer app: wait for the key, run the step list (check the key, wait for Apple, sign, invite,
publish), and destroy the key."""

from __future__ import annotations

import re
from typing import Any

from prefect import Flow, flow, get_client
from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.actions import ArtifactCreate
from prefect.client.schemas.objects import FlowRun
from prefect.states import State
from pydantic import ValidationError

from ascflow import contracts
from ascflow.connect.models import AppVersionState
from ascflow.errors import OperatorError
from ascflow.pipeline.credentials import CredentialsRejected
from ascflow.pipeline.release_app import manual_release_kept
from ascflow.pipeline.request import OnboardingRequest
from ascflow.pipeline.review import ReviewStatus
from ascflow.pipeline.summary import RunSummary, failure_markdown, refused_markdown
from ascflow.pipeline.teardown import ReceiptSummary
from ascflow.pipeline.waiting import CredentialsArrived, Waiting, explain_credentials_wait
from flows.steps import StepRunner
from flows.waiting import suspend_until_resumed, wait_lines
from tasks.credentials import destroy
from tasks.locking import one_run_per_app
from tasks.run import artifact_key, record_run_end, record_run_start
from tasks.support import context, run_id


@flow(name=contracts.ONBOARD_FLOW, persist_result=True, log_prints=False)
def onboard_app(request: OnboardingRequest) -> RunSummary:
    record_run_start(request.tenant)
    summary = RunSummary(
        tenant=request.tenant, bundle_id=request.bundle_id, version=request.version, run_id=run_id()
    )
    custody_id = request.custody_id or await_credentials(request)
    with one_run_per_app(request):
        StepRunner(request, custody_id, summary).run_all()
    if held_for_release(summary):
        # Releasing it needs the key: the release-app run destroys it once Apple takes the release.
        summary.kept = manual_release_kept(
            context(request.tenant),
            request.tenant,
            request.bundle_id,
            request.version,
            custody_id,
            phased=request.phased_release,
        )
    else:
        summary.receipt = destroy(request.tenant, custody_id)
    record_summary(summary)
    return summary


def held_for_release(summary: RunSummary) -> bool:
    """App Review approved a MANUAL release: the version waits for the developer (the await-review result)."""
    review = summary.steps.get("await-review")
    result = review.result if review is not None else None
    return (
        isinstance(result, ReviewStatus)
        and result.version_state == AppVersionState.PENDING_DEVELOPER_RELEASE.value
    )


def await_credentials(request: OnboardingRequest) -> str:
    arrived = suspend_until_resumed(
        Waiting.of(request, "credentials"),
        CredentialsArrived,
        key=contracts.AWAIT_CREDENTIALS_KEY,
        description=explain_credentials_wait(request.tenant, request.bundle_id),
        timeout_seconds=None,
    )
    return arrived.custody_id


def record_summary(summary: RunSummary) -> None:
    summary.waits = wait_lines()
    # Made by the flow, not a task, so the artifact belongs to the flow run (the Artifacts tab names it).
    create_markdown_artifact(
        markdown=summary.markdown(),
        key=artifact_key(summary.tenant, summary.bundle_id),
        description=f"Onboarding of {summary.bundle_id} for {summary.tenant}",
    )
    record_run_end(summary.tenant, "success")


@onboard_app.on_failure
def record_failure(flow: Flow[Any, Any], flow_run: FlowRun, state: State[Any]) -> None:
    """The key stays in custody until it expires, so an operator can fix the cause and retry the run."""
    try:
        request = OnboardingRequest.model_validate(flow_run.parameters["request"])
    except ValidationError as refused:
        record_refused_request(flow_run, refused)
        return
    error = _error(state)
    record_run_end.fn(request.tenant, "failure", error_code=_error_code(error))
    create_markdown_artifact(
        markdown=failure_markdown(
            request.tenant, request.bundle_id, request.version, error, _receipt(request, error)
        ),
        key=artifact_key(request.tenant, request.bundle_id),
        description=f"Failed onboarding of {request.bundle_id} for {request.tenant}",
    )


def record_refused_request(flow_run: FlowRun, refused: ValidationError) -> None:
    """A request Prefect's form check let through (a rule the JSON schema cannot say, such as a release date in
    the past) fails the run before its first step: say which fields, and that nothing was done."""
    raw = flow_run.parameters.get("request")
    fields = raw if isinstance(raw, dict) else {}
    tenant, bundle_id = str(fields.get("tenant", "unknown")), str(fields.get("bundle_id", "unknown"))
    # The run's context does not exist yet when its parameters are refused: the artifact names the run itself.
    with get_client(sync_client=True) as client:
        client.create_artifact(
            ArtifactCreate(
                key=artifact_key(tenant, bundle_id),
                type="markdown",
                data=refused_markdown(tenant, bundle_id, str(fields.get("version", "")), refused),
                description=f"Refused onboarding request for {bundle_id} ({tenant})",
                flow_run_id=flow_run.id,
            )
        )


def _receipt(request: OnboardingRequest, error: BaseException | None) -> ReceiptSummary | None:
    """The key's deletion receipt if the run destroyed it (or someone did since): what the summary must say."""
    if isinstance(error, CredentialsRejected):
        return error.receipt
    if request.custody_id is None:
        return None
    receipt = context(request.tenant).custody.receipt(request.custody_id)
    return ReceiptSummary.of(receipt) if receipt is not None else None


def _error(state: State[Any]) -> BaseException | None:
    try:
        state.result()
    except Exception as error:
        return error
    return None


def _error_code(error: BaseException | None) -> str:
    """Apple's code (or ours) in the audit trail's alphabet; never the error's text."""
    if error is None:
        code = "FAILED"
    elif isinstance(error, OperatorError):
        code = error.code or type(error).__name__
    else:
        code = type(error).__name__
    return re.sub(r"[^A-Z0-9_.]", "_", code.upper())[:120]
