"""TestFlight for the uploaded build: What to Test, the team in an internal group, an external group through
Beta App Review, and the wait for Beta App Review's verdict (the access poller resumes the run when it ends).

Every write is the client's find-or-create (`ascflow.connect.actions.testflight`), so a rerun writes nothing.
Results count testers and never hold an address or the demo account's password."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ascflow.connect.actions.common import ActionFailed, Ensured
from ascflow.connect.actions.team import InvitationStatus
from ascflow.connect.actions.testflight import (
    DemoAccount,
    ReviewContact,
    beta_review_state,
    ensure_beta_app_description,
    ensure_beta_group,
    ensure_beta_review_details,
    ensure_beta_review_submitted,
    ensure_beta_whats_new,
    ensure_group_has_build,
    ensure_testers,
)
from ascflow.connect.client import AppStoreConnect
from ascflow.connect.testflight_models import BetaReviewState
from ascflow.errors import OperatorError
from ascflow.pipeline.build import BuildResult
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.job import Job, ResourceRow, StepResult, Wait, made
from ascflow.pipeline.request import ExternalGroup, TestFlight
from ascflow.pipeline.team import TeamResult


class TestFlightResult(StepResult):
    group_id: str | None = None
    group_created: bool = False
    group_kind: str = "internal"
    testers: int = 0
    not_yet_members: int = Field(
        default=0,
        description="Invitees who have not accepted yet: Apple takes only users in an internal group.",
    )
    beta_submission_id: str | None = None
    beta_submission_created: bool = False
    changes: list[str] = Field(default_factory=list)

    def outcome(self) -> str:
        said = "; ".join(self.changes) or "nothing to change"
        if self.not_yet_members:
            said += (
                f"; {self.not_yet_members} invitee(s) not in the team yet: rerun the step once they accepted"
            )
        return f"{said} ({self.testers} {self.group_kind} tester(s))"

    def resources(self) -> list[ResourceRow]:
        rows = []
        if self.group_id is not None:
            rows.append(ResourceRow(f"{self.group_kind} beta group", self.group_id, made(self.group_created)))
        if self.beta_submission_id is not None:
            rows.append(
                ResourceRow(
                    "beta app review submission", self.beta_submission_id, made(self.beta_submission_created)
                )
            )
        return rows


class BetaReviewResult(StepResult):
    build_id: str
    state: str

    def outcome(self) -> str:
        return f"Beta App Review {self.state}"


class BetaReviewRejected(OperatorError):
    """Beta App Review rejected the build: external testers cannot get it."""


def testflight_of(job: Job) -> TestFlight:
    if job.request.testflight is None:
        raise LookupError("a TestFlight step runs only for a request with testflight (its `applies` says so)")
    return job.request.testflight


def changes_of(*ensured: Ensured[Any]) -> list[str]:
    return [change for one in ensured for change in one.changes]


def testflight_internal(ctx: StepContext, job: Job) -> TestFlightResult:
    """What to Test for the build, then the internal group with the build and the team as testers."""
    testflight = testflight_of(job)
    build = job.get("upload-build", BuildResult)
    group = testflight.internal_group
    with ctx.apple(job.custody_id) as client:
        changes = (
            changes_of(ensure_beta_whats_new(client, build.build_id, testflight.whats_new))
            if testflight.whats_new
            else []
        )
        if group is None:
            return TestFlightResult(changes=changes)
        rows, pending = internal_testers(job)
        made_group = ensure_beta_group(client, build.app_id, group.name, internal=True)
        group_id = made_group.resource.id
        linked = ensure_group_has_build(client, group_id, build.build_id)
        testers = ensure_testers(client, group_id, rows) if rows else None
    changes += changes_of(made_group, linked, *([testers] if testers else []))
    return TestFlightResult(
        group_id=group_id,
        group_created=made_group.created,
        testers=len(testers.resource) if testers else 0,
        not_yet_members=pending,
        changes=changes,
    )


def internal_testers(job: Job) -> tuple[list[tuple[str, str, str]], int]:
    """The internal group's testers, and how many invitees are left out until they accept the invitation."""
    group = testflight_of(job).internal_group
    if group is not None and group.testers:
        return [t.row() for t in group.testers], 0
    team = job.optional("invite-team", TeamResult)
    members = {i.email for i in team.invitees if i.status is InvitationStatus.ALREADY_USER} if team else set()
    invitees = job.request.invitees
    rows = [(i.email, i.first_name, i.last_name) for i in invitees if i.email in members]
    return rows, len(invitees) - len(rows)


def testflight_external(ctx: StepContext, job: Job) -> TestFlightResult:
    """The external group with the build and its testers, the test information Beta App Review needs, and the
    build submitted to Beta App Review (once per build)."""
    group = external_group_of(job)
    build = job.get("upload-build", BuildResult)
    demo = demo_account_of(group)
    contact = group.review_contact
    with ctx.apple(job.custody_id) as client:
        made_group = ensure_beta_group(client, build.app_id, group.name, internal=False)
        group_id = made_group.resource.id
        testers = (
            ensure_testers(client, group_id, [t.row() for t in group.testers]) if group.testers else None
        )
        described = [
            ensure_beta_app_description(client, build.app_id, locale, text)
            for locale, text in group.description.items()
        ]
        details = ensure_beta_review_details(
            client,
            build.app_id,
            ReviewContact(contact.first_name, contact.last_name, contact.phone, contact.email),
            demo,
            contact.notes or None,
        )
        submitted = ensure_beta_review_submitted(client, build.build_id)
        linked = ensure_group_has_build(client, group_id, build.build_id)
    return TestFlightResult(
        group_id=group_id,
        group_created=made_group.created,
        group_kind="external",
        testers=len(testers.resource) if testers else 0,
        beta_submission_id=submitted.resource.id,
        beta_submission_created=submitted.created,
        changes=changes_of(
            made_group, *([testers] if testers else []), *described, details, submitted, linked
        ),
    )


def external_group_of(job: Job) -> ExternalGroup:
    group = testflight_of(job).external_group
    if group is None:
        raise LookupError("testflight-external runs only with an external group (its `applies` says so)")
    return group


def demo_account_of(group: ExternalGroup) -> DemoAccount | None:
    """The demo account with its password read from the worker's environment now, at the Apple call."""
    if group.demo_account is None:
        return None
    password = group.demo_account.password()
    if password is None:
        raise OperatorError(
            f"testflight.external_group.demo_account: the worker's environment variable "
            f"{group.demo_account.password_env} is unset or empty (nothing was sent to Beta App Review).",
            next_step=f"Set {group.demo_account.password_env} on the worker (from the secrets manager), then "
            "retry the run.",
        )
    return DemoAccount(username=group.demo_account.name, password=password)


def await_beta_review(ctx: StepContext, job: Job) -> BetaReviewResult | Wait:
    """Beta App Review's verdict, or a wait until it comes. The wait names the build (Beta App Review is one per
    build) in `submission_id`: that is what the access poller reads the state with."""
    build_id = job.get("upload-build", BuildResult).build_id
    with ctx.apple(job.custody_id) as client:
        state = judged_beta_review(client, build_id)
    if state is BetaReviewState.APPROVED:
        return BetaReviewResult(build_id=build_id, state=state.value)
    return Wait(
        kind="beta-review",
        description=(
            f"### Waiting for Beta App Review\n\nBuild `{build_id}` is **{state.value}** at Beta App Review.\n\n"
            "The `access-poller` deployment resumes this run when the review ends. Resuming it yourself makes "
            "the run look again."
        ),
        submission_id=build_id,
    )


def judged_beta_review(client: AppStoreConnect, build_id: str) -> BetaReviewState:
    """The build's Beta App Review state; a rejection raises with what to do."""
    state = beta_review_state(client, build_id)
    if state is None:
        raise ActionFailed(
            f"Build {build_id} was never submitted to Beta App Review.",
            next_step="Retry the run: the testflight-external step submits it.",
        )
    if state is BetaReviewState.REJECTED:
        raise BetaReviewRejected(
            f"Beta App Review rejected build {build_id} (REJECTED): external testers cannot install it.",
            next_step="Read Apple's message in App Store Connect (TestFlight), have the customer fix the cause "
            "and upload a new build (a new build number), then run again with that build.",
        )
    return state


def beta_review_ended(ctx: StepContext, custody_id: str, build_id: str) -> bool:
    """For the access poller (reads only): has Beta App Review decided about the build?"""
    with ctx.apple(custody_id) as client:
        state = beta_review_state(client, build_id)
    return state in {BetaReviewState.APPROVED, BetaReviewState.REJECTED}
