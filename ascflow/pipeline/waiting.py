"""What a suspended run waits for, and the Resume forms an operator sees in the Prefect UI."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from ascflow.contracts import CUSTODY_ID_PATTERN
from ascflow.pipeline.request import OnboardingRequest

# "beta-review" waits name the build in `submission_id`: Beta App Review is one per build.
WaitKind = Literal["credentials", "access", "review", "app-privacy", "build", "beta-review"]


class Waiting(BaseModel):
    """Stored beside a suspended run (as a flow run input) so the poller knows what to check, and for whom."""

    kind: WaitKind
    step: str | None = Field(default=None, description="The step that waits; None for the customer's upload.")
    tenant: str
    bundle_id: str
    custody_id: str | None = None
    submission_id: str | None = None
    version: str | None = Field(default=None, description="The version being published.")
    build_number: str | None = Field(default=None, description="The build the run expects.")
    since: datetime

    @classmethod
    def of(
        cls,
        request: OnboardingRequest,
        kind: WaitKind,
        *,
        step: str | None = None,
        custody_id: str | None = None,
        submission_id: str | None = None,
    ) -> Waiting:
        return cls(
            kind=kind,
            step=step,
            tenant=request.tenant,
            bundle_id=request.bundle_id,
            custody_id=custody_id,
            submission_id=submission_id,
            version=request.version,
            build_number=request.build.build_number,
            since=datetime.now(UTC),
        )

    @staticmethod
    def input_key(pause_key: str) -> str:
        return f"ascflow-waiting-{pause_key}"

    # Beside the wait, each with one writer, so neither rewrites what the other wrote (see check_schedule).
    @staticmethod
    def checked_key(pause_key: str) -> str:
        """The poller's last check of this wait."""
        return f"ascflow-checked-{pause_key}"

    @staticmethod
    def asked_key(pause_key: str) -> str:
        """The customer's latest "Check now" of this wait."""
        return f"ascflow-check-asked-{pause_key}"


class CredentialsArrived(BaseModel):
    """How the intake page (or an operator) resumes a run that waits for the customer's key."""

    custody_id: str = Field(
        pattern=CUSTODY_ID_PATTERN,
        description="The custody record of the key the customer uploaded (shown by `ascflow custody list`).",
    )


class ResumeCheck(BaseModel):
    """Resuming only asks the run to check again; it cannot make Apple say yes."""

    checked_by: str = Field(default="operator", max_length=64, description="Who resumed the run.")


def explain_access_wait(verdict: str, next_step: str) -> str:
    return (
        "### Waiting for Apple to accept the customer's key\n\n"
        f"Apple's answer: **{verdict.replace('_', ' ')}**.\n\n"
        f"What the customer must do: {next_step}\n\n"
        "The `access-poller` deployment checks the key on its schedule and resumes this run when it works. "
        "Resume it yourself once the customer says it is done: the run checks again, and waits again if "
        "Apple still refuses."
    )


def explain_review_wait(submission_id: str, state: str) -> str:
    return (
        f"### Waiting for Apple's review\n\nReview submission `{submission_id}` is **{state}**.\n\n"
        "The `access-poller` deployment resumes this run when the review ends (approved or with issues). "
        "Resuming it yourself makes the run look again."
    )


def explain_credentials_wait(tenant: str, bundle_id: str) -> str:
    return (
        f"### Waiting for the customer's key\n\n{tenant} has not uploaded the App Store Connect key for "
        f"`{bundle_id}` yet. The intake page resumes this run when they do. To resume it by hand, deposit the "
        "key in custody and enter its custody ID."
    )
