"""Inviting the publishing team into the customer's App Store Connect account."""

from __future__ import annotations

from pydantic import BaseModel

from ascflow.audit import Action
from ascflow.connect import UserRole
from ascflow.connect.actions.team import InvitationStatus, ensure_invitation
from ascflow.connect.actions.team import Invitee as AppleInvitee
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.request import Invitee


class InviteResult(BaseModel):
    email: str
    status: InvitationStatus
    apple_id: str


def invite_team(ctx: StepContext, custody_id: str, invitees: list[Invitee]) -> list[InviteResult]:
    results: list[InviteResult] = []
    if not invitees:
        return results
    with ctx.apple(custody_id) as client:
        for invitee in invitees:
            outcome = ensure_invitation(
                client,
                AppleInvitee(
                    email=invitee.email,
                    first_name=invitee.first_name,
                    last_name=invitee.last_name,
                    roles=[UserRole(role) for role in invitee.roles],
                    all_apps_visible=invitee.all_apps_visible,
                    provisioning_allowed=invitee.provisioning_allowed,
                ),
            )
            resource = outcome.user or outcome.invitation
            assert resource is not None
            apple_type = "users" if outcome.user is not None else "userInvitations"
            ctx.record(Action.TEAM_INVITED, "success", apple_type=apple_type, apple_id=resource.id)
            results.append(InviteResult(email=invitee.email, status=outcome.status, apple_id=resource.id))
    return results
