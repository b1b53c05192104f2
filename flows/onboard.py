"""Onboard one customer app: check the key, wait for Apple, sign, invite, publish, and destroy the key."""

from __future__ import annotations

import math
import re
from typing import Any

from prefect import Flow, flow
from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import FlowRun
from prefect.states import State

from ascflow.connect.actions.common import ActionFailed
from ascflow.pipeline.credentials import CredentialCheck
from ascflow.pipeline.publish import ReviewStatus
from ascflow.pipeline.request import OnboardingRequest
from ascflow.pipeline.summary import RunSummary, Step, failure_markdown
from ascflow.pipeline.waiting import (
    CredentialsArrived,
    ResumeCheck,
    Waiting,
    explain_access_wait,
    explain_credentials_wait,
    explain_review_wait,
)
from flows.waiting import now, suspend_until_resumed, waits_of_this_run
from tasks.apple import check_review_state, ensure_signing_assets, invite_publishing_team, publish_app
from tasks.credentials import destroy, validate_credentials
from tasks.locking import one_run_per_app
from tasks.run import artifact_key, publish_summary, record_run_end, record_run_start
from tasks.support import run_id


class CredentialsRejected(ActionFailed):
    """Apple will never accept this key for onboarding; it was destroyed at once."""


REJECTED = {
    "invalid_key": "The key in custody is not a usable App Store Connect key (checked here, before asking Apple).",
    "role_too_low": "Apple accepts the key, but its role is below Admin: it cannot make certificates or invite.",
}


class AccessNotGranted(ActionFailed):
    """The wait for Apple to accept the key reached the request's limit."""


@flow(name="onboard-app", persist_result=True, log_prints=False)
def onboard_app(request: OnboardingRequest) -> RunSummary:
    record_run_start(request.tenant)
    summary = RunSummary(
        tenant=request.tenant, bundle_id=request.bundle_id, version=request.version, run_id=run_id()
    )
    custody_id = request.custody_id or await_credentials(request)
    with one_run_per_app(request):
        summary.credentials = await_access(request, custody_id)
        signing = ensure_signing_assets.submit(request, custody_id)
        team = invite_publishing_team.submit(request, custody_id)
        summary.publish = publish_app(request, custody_id, wait_for=[signing])
        summary.signing, summary.team = signing.result(), team.result()
        if request.destroy_credentials == "after_review":
            summary.review = await_review(request, custody_id, summary.publish.result.submission_id)
    summary.receipt = destroy(request.tenant, custody_id)
    record_summary(summary)
    return summary


def await_credentials(request: OnboardingRequest) -> str:
    arrived = suspend_until_resumed(
        Waiting.of(request, "credentials"),
        CredentialsArrived,
        key="await-credentials",
        description=explain_credentials_wait(request.tenant, request.bundle_id),
        timeout_seconds=None,
    )
    return arrived.custody_id


def await_access(request: OnboardingRequest, custody_id: str) -> Step[CredentialCheck]:
    # A resumed run starts again from the top: the limit counts from the first wait, not from this execution.
    first_wait = next((w.since for w in waits_of_this_run() if w.kind == "access"), now())
    deadline = first_wait.timestamp() + request.access_wait_hours * 3600
    attempt = 0
    while True:
        check = validate_credentials(request.tenant, custody_id, request.bundle_id)
        verdict = check.result
        if verdict.verdict == "works":
            return check
        if not verdict.pending:
            destroy(request.tenant, custody_id)
            raise CredentialsRejected(REJECTED[verdict.verdict], next_step=verdict.next_step)
        remaining = deadline - now().timestamp()
        if remaining <= 0:
            raise AccessNotGranted(
                f"Apple still refuses the key ({verdict.verdict}) after {request.access_wait_hours:g} hours.",
                next_step=verdict.next_step
                + " Then start a new run (the key stays in custody until it expires).",
            )
        attempt += 1
        suspend_until_resumed(
            Waiting.of(request, "access", custody_id=custody_id),
            ResumeCheck,
            key=f"await-access-{attempt}",
            description=explain_access_wait(verdict.verdict, verdict.next_step),
            timeout_seconds=math.ceil(remaining),
        )


def await_review(request: OnboardingRequest, custody_id: str, submission_id: str) -> Step[ReviewStatus]:
    attempt = 0
    while True:
        status = check_review_state(request.tenant, custody_id, submission_id)
        if status.result.finished:
            return status
        attempt += 1
        suspend_until_resumed(
            Waiting.of(request, "review", custody_id=custody_id, submission_id=submission_id),
            ResumeCheck,
            key=f"await-review-{attempt}",
            description=explain_review_wait(submission_id, status.result.state),
            timeout_seconds=None,
        )


def record_summary(summary: RunSummary) -> None:
    summary.waits = [f"{w.kind}, since {w.since:%Y-%m-%d %H:%M:%S} UTC" for w in waits_of_this_run()]
    publish_summary(summary)
    record_run_end(summary.tenant, "success")


@onboard_app.on_failure
def record_failure(flow: Flow[Any, Any], flow_run: FlowRun, state: State[Any]) -> None:
    """The key stays in custody until it expires, so an operator can fix the cause and retry the run."""
    request = OnboardingRequest.model_validate(flow_run.parameters["request"])
    error = _error(state)
    record_run_end.fn(request.tenant, "failure", error_code=_error_code(error))
    create_markdown_artifact(
        markdown=failure_markdown(request.tenant, request.bundle_id, request.version, error),
        key=artifact_key(request.tenant, request.bundle_id),
        description=f"Failed onboarding of {request.bundle_id} for {request.tenant}",
    )


def _error(state: State[Any]) -> BaseException | None:
    try:
        state.result()
    except Exception as error:
        return error
    return None


def _error_code(error: BaseException | None) -> str:
    """Apple's code (or ours) in the audit trail's alphabet; never the error's text."""
    code = str(getattr(error, "code", None) or (type(error).__name__ if error else "FAILED"))
    return re.sub(r"[^A-Z0-9_.]", "_", code.upper())[:120]
