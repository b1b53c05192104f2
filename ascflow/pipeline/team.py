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
    roles_asked: list[str] = Field(default_factory=list)
    roles_held: list[str] = Field(
        default_factory=list, description="A member's roles, after any this run added."
    )
    roles_added: list[str] = Field(default_factory=list)

    def describe(self) -> str:
        if self.status is not InvitationStatus.ALREADY_USER:
            return self.status.value
        lacking = [r for r in self.roles_asked if r not in self.roles_held]
        said = f"already a member with {', '.join(self.roles_held) or 'no role'}"
        if self.roles_added:
            return f"{said} (added {', '.join(self.roles_added)})"
        return said + (
            f"; lacks {', '.join(lacking)} (asked for; add_missing_roles adds them)" if lacking else ""
        )


class TeamResult(StepResult):
    invitees: list[InviteResult] = Field(default_factory=list)

    def outcome(self) -> str:
        return f"{len(self.invitees)} invitee(s)"

    def resources(self) -> list[ResourceRow]:
        return [ResourceRow(f"invitation {i.email}", i.apple_id, i.describe()) for i in self.invitees]


def invite_team(ctx: StepContext, job: Job) -> TeamResult:
    results: list[InviteResult] = []
    if not job.request.invitees:
        return TeamResult()
    with ctx.apple(job.custody_id) as client:
        for invitee in job.request.invitees:
            outcome = ensure_invitation(client, invitee.apple(), add_roles=invitee.add_missing_roles)
            resource = outcome.resource
            ctx.record(Action.TEAM_INVITED, "success", apple_type=resource.type, apple_id=resource.id)
            asked = list(invitee.roles)
            added = [r for r in asked if r not in resource.attributes.roles] if outcome.updated else []
            results.append(
                InviteResult(
                    email=invitee.email,
                    status=invitation_status(outcome),
                    apple_id=resource.id,
                    roles_asked=asked,
                    roles_held=[*resource.attributes.roles, *added],
                    roles_added=added,
                )
            )
    return TeamResult(invitees=results)
