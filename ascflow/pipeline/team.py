"""Inviting the publishing team into the customer's App Store Connect account."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ascflow.audit import Action
from ascflow.connect.actions.team import InvitationStatus, ensure_invitation, invitation_status
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.job import Job, ResourceRow, StepResult


class InviteResult(BaseModel):
    email: str
    status: InvitationStatus
    apple_id: str


class TeamResult(StepResult):
    invitees: list[InviteResult] = Field(default_factory=list)

    def outcome(self) -> str:
        return f"{len(self.invitees)} invitee(s)"

    def resources(self) -> list[ResourceRow]:
        return [ResourceRow(f"invitation {i.email}", i.apple_id, i.status.value) for i in self.invitees]


def invite_team(ctx: StepContext, job: Job) -> TeamResult:
    results: list[InviteResult] = []
    if not job.request.invitees:
        return TeamResult()
    with ctx.apple(job.custody_id) as client:
        for invitee in job.request.invitees:
            outcome = ensure_invitation(client, invitee.apple())
            resource = outcome.resource
            ctx.record(Action.TEAM_INVITED, "success", apple_type=resource.type, apple_id=resource.id)
            results.append(
                InviteResult(email=invitee.email, status=invitation_status(outcome), apple_id=resource.id)
            )
    return TeamResult(invitees=results)
