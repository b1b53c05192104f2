"""Inviting the publishing team into the customer's account."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ascflow.connect.actions.common import Ensured, find_or_create, update_once
from ascflow.connect.client import AppStoreConnect
from ascflow.connect.models import User, UserInvitation, UserRole


@dataclass(frozen=True)
class Invitee:
    email: str
    first_name: str
    last_name: str
    roles: Sequence[UserRole] = field(default=(UserRole.APP_MANAGER,))
    all_apps_visible: bool = True
    provisioning_allowed: bool = True

    def __post_init__(self) -> None:
        if "@" not in self.email or self.email.strip() != self.email:
            raise ValueError(
                f"invitee email: {self.email!r} is not an e-mail address; give the Apple ID e-mail"
            )
        if not self.first_name.strip() or not self.last_name.strip():
            raise ValueError("invitee first_name/last_name: empty; Apple requires both names")
        if not self.roles:
            raise ValueError("invitee roles: empty; give at least one role, e.g. APP_MANAGER")
        if UserRole.ACCOUNT_HOLDER in self.roles:
            raise ValueError(
                "invitee roles: ACCOUNT_HOLDER cannot be given by invitation; choose ADMIN or lower"
            )


class InvitationStatus(StrEnum):
    ALREADY_USER = "already_user"
    ALREADY_INVITED = "already_invited"
    INVITED = "invited"


def invitation_status(outcome: Ensured[User | UserInvitation]) -> InvitationStatus:
    if isinstance(outcome.resource, User):
        return InvitationStatus.ALREADY_USER
    return InvitationStatus.INVITED if outcome.created else InvitationStatus.ALREADY_INVITED


def _member_roles(client: AppStoreConnect, email: str, member_id: str) -> list[str]:
    return next(
        (list(u.attributes.roles) for u in client.users.list(username=email) if u.id == member_id), []
    )


def _spellings(email: str) -> list[str]:
    # Apple IDs compare case-insensitively, but whether Apple's filters do is undocumented: ask for both.
    return list(dict.fromkeys([email, email.lower()]))


def ensure_invitation(
    client: AppStoreConnect, invitee: Invitee, *, add_roles: bool = False
) -> Ensured[User | UserInvitation]:
    """The invitee as a member of the team or invited (once). A member who lacks some of the requested roles is
    left as they are, or with `add_roles` given the missing ones (never losing one they have)."""
    wanted = invitee.email.casefold()
    # Both filters may also match more than the exact address: compare on our side.
    member = next(
        (
            user
            for spelling in _spellings(invitee.email)
            for user in client.users.list(username=spelling)
            if user.attributes.username.casefold() == wanted
        ),
        None,
    )
    if member is not None:
        held = list(member.attributes.roles)
        missing = [role.value for role in invitee.roles if role.value not in held]
        if not (add_roles and missing):
            return Ensured(member, created=False)
        roles = held + missing
        member_id = member.id
        update_once(
            lambda: client.users.set_roles(member_id, roles),
            lambda: set(roles) <= set(_member_roles(client, invitee.email, member_id)),
        )
        return Ensured(member, created=False, changes=(f"added role(s) {', '.join(missing)}",))

    def find() -> UserInvitation | None:
        return next(
            (
                invitation
                for spelling in _spellings(invitee.email)
                for invitation in client.invitations.list(email=spelling)
                if invitation.attributes.email.casefold() == wanted
            ),
            None,
        )

    ensured: Ensured[User | UserInvitation] = find_or_create(
        find,
        lambda: client.invitations.create(
            email=invitee.email,
            first_name=invitee.first_name,
            last_name=invitee.last_name,
            roles=invitee.roles,
            all_apps_visible=invitee.all_apps_visible,
            provisioning_allowed=invitee.provisioning_allowed,
        ),
    )
    return ensured
