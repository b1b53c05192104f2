"""The review: the version submitted through one review submission, and Apple's verdict waited for."""

from __future__ import annotations

from pydantic import Field

from ascflow.audit import Action
from ascflow.connect import Platform
from ascflow.connect.actions.release_control import ReviewDecision, review_outcome
from ascflow.connect.actions.review import ensure_review_submission_submitted, review_state
from ascflow.connect.client import AppStoreConnect
from ascflow.connect.errors import Conflict
from ascflow.connect.models import AppVersionState
from ascflow.errors import OperatorError
from ascflow.pipeline.build import BuildResult
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.job import Job, ResourceRow, StepResult, Wait, made
from ascflow.pipeline.refusals import SubmissionRefused, explain_app_privacy_wait, refusals_of
from ascflow.pipeline.release_app import release_command
from ascflow.pipeline.version import VersionResult
from ascflow.pipeline.waiting import explain_review_wait

TERMINAL_REVIEW_STATES = frozenset({"COMPLETE", "UNRESOLVED_ISSUES"})


class SubmissionResult(StepResult):
    submission_id: str
    submission_created: bool
    submission_state: str

    def outcome(self) -> str:
        return self.submission_state

    def resources(self) -> list[ResourceRow]:
        return [ResourceRow("review submission", self.submission_id, made(self.submission_created))]


class ReviewStatus(StepResult):
    submission_id: str
    state: str
    version_state: str | None = Field(default=None, description="The version's state once the review ended.")
    decision: str | None = Field(default=None, description="What Apple decided: approved or rejected.")
    next_step: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_REVIEW_STATES

    def outcome(self) -> str:
        if self.decision is None:
            return self.state
        return f"{self.decision} (version {self.version_state}, submission {self.state}): {self.next_step}"


class ReviewRejected(OperatorError):
    """App Review sent the version back; what the run made stays for a resubmission."""


def submit_for_review(ctx: StepContext, job: Job) -> SubmissionResult | Wait:
    """Submit once. Apple's refusal names every missing item: App Privacy (which only a person can answer in
    App Store Connect) makes the run wait; anything else stops it with each item and its fix."""
    app_id = job.get("upload-build", BuildResult).app_id
    version = job.get("prepare-version", VersionResult)
    version_id = version.version_id
    with ctx.apple(job.custody_id) as client:
        preflight(client, version)
        try:
            submitted = ensure_review_submission_submitted(
                client, app_id=app_id, version_id=version_id, platform=Platform(job.request.platform)
            )
        except Conflict as conflict:
            refusals = refusals_of(conflict)
            if refusals is None:
                raise
            if refusals and all(r.app_privacy for r in refusals):
                return Wait(
                    kind="app-privacy",
                    description=explain_app_privacy_wait(app_id, [i.email for i in job.request.invitees]),
                )
            raise SubmissionRefused(refusals) from conflict
        submission = submitted.resource
        ctx.record(Action.REVIEW_SUBMITTED, "success", apple_type="reviewSubmissions", apple_id=submission.id)
    return SubmissionResult(
        submission_id=submission.id,
        submission_created=submitted.created,
        submission_state=submission.attributes.state.value,
    )


class SubmissionNotReady(OperatorError):
    """Found before the review submission was touched: what Apple would refuse, each with its fix."""


def preflight(client: AppStoreConnect, version: VersionResult) -> None:
    """One read before the submission is touched. The listing was checked offline and written by the steps
    before; what they cannot know is a locale Apple holds for an update (copied from the last version) that has
    no What's New: Apple refuses the whole submission for it."""
    if version.first_version:
        return
    lacking = sorted(
        loc.attributes.locale
        for loc in client.localizations.list_for_version(version.version_id)
        if not loc.attributes.whats_new
    )
    if lacking:
        raise SubmissionNotReady(
            f"Apple would refuse the update: What's New is missing for {', '.join(lacking)} (nothing was "
            "submitted).",
            next_step=f"Give What's New for {', '.join(lacking)} (the listing's whats_new per locale, or the "
            "request's whats_new), then retry the run: it reuses everything already written.",
        )


def await_review(ctx: StepContext, job: Job) -> ReviewStatus | Wait:
    """Apple's verdict, or a wait until it comes (the access poller resumes the run when the review ends). A
    rejection fails the step with Apple's states and the next step."""
    submission_id = job.get("submit-for-review", SubmissionResult).submission_id
    status = check_review(ctx, job.custody_id, submission_id)
    wait = Wait(
        kind="review",
        description=explain_review_wait(submission_id, status.state),
        submission_id=submission_id,
    )
    if not status.finished:
        return wait
    version_id = job.get("prepare-version", VersionResult).version_id
    with ctx.apple(job.custody_id) as client:
        decided = review_outcome(client, submission_id, version_id)
    if decided.decision is ReviewDecision.IN_REVIEW:
        # Apple moves the submission first and the version after it: the verdict is the version's, so wait on.
        return wait
    version_state = decided.version_state.value
    if decided.decision is ReviewDecision.REJECTED:
        raise ReviewRejected(
            f"App Review rejected version {job.request.version} (version {version_state}, submission "
            f"{decided.submission_state.value}); the version and the submission are kept for a resubmission.",
            next_step="Read Apple's message in App Store Connect (App Review), fix the cause with the customer, "
            "then retry: the version is reused and submitted again.",
        )
    next_step = decided.next_step
    if decided.version_state is AppVersionState.PENDING_DEVELOPER_RELEASE:
        # The onboarding run keeps the key for this release (flows/onboard.py): the command names it.
        command = release_command(
            job.request.tenant, job.request.bundle_id, job.request.version, job.custody_id
        )
        next_step = (
            "Approved and held for a manual release (PENDING_DEVELOPER_RELEASE): release it when the customer "
            f"asks, with the release-app deployment: {command}"
        )
    return status.model_copy(
        update={"version_state": version_state, "decision": decided.decision.value, "next_step": next_step}
    )


def review_status(ctx: StepContext, custody_id: str, submission_id: str) -> ReviewStatus:
    with ctx.apple(custody_id) as client:
        return ReviewStatus(submission_id=submission_id, state=review_state(client, submission_id).value)


def check_review(ctx: StepContext, custody_id: str, submission_id: str) -> ReviewStatus:
    """The review's state, recorded in the audit trail once it has ended."""
    status = review_status(ctx, custody_id, submission_id)
    if status.finished:
        approved = status.state == "COMPLETE"
        ctx.record(
            Action.REVIEW_OUTCOME,
            "success" if approved else "failure",
            apple_type="reviewSubmissions",
            apple_id=submission_id,
            error_code=None if approved else status.state,
        )
    return status
