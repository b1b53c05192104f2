"""ensure_invitation against the simulator: already a user / already invited / invited, never twice."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ascflow.connect.actions import InvitationStatus, Invitee, ensure_invitation, invitation_status
from ascflow.connect.models import User, UserRole
from ascflow.simulator.faults import FaultPlan, FaultRule
from ascflow.simulator.scenario import PersonSpec
from tests.connect.conftest import Apple

INVITEE = Invitee(email="publisher@example.com", first_name="Pat", last_name="Publisher")


def test_invites_once_then_sees_the_pending_invitation(apple: Apple) -> None:
    first = ensure_invitation(apple.client, INVITEE)
    second = ensure_invitation(apple.client, INVITEE)
    assert invitation_status(first) is InvitationStatus.INVITED
    assert invitation_status(second) is InvitationStatus.ALREADY_INVITED
    assert first.resource is not None
    assert second.resource is not None
    assert first.resource.id == second.resource.id
    assert first.resource.attributes.roles == [UserRole.APP_MANAGER.value]
    assert apple.writes("POST", "/v1/userInvitations") == 1


def test_an_accepted_invitation_makes_a_user(apple: Apple) -> None:
    invited = ensure_invitation(apple.client, INVITEE)
    assert invited.resource is not None
    apple.control.accept_invitation(invited.resource.id)
    after = ensure_invitation(apple.client, INVITEE)
    assert invitation_status(after) is InvitationStatus.ALREADY_USER
    assert isinstance(after.resource, User)
    assert after.resource.attributes.username == INVITEE.email
    assert apple.writes("POST", "/v1/userInvitations") == 1


def test_existing_members_and_invitees_are_matched_without_regard_to_case(
    make_apple: Callable[..., Apple],
) -> None:
    apple = make_apple(
        users=[PersonSpec(email="member@example.com")],
        invitations=[PersonSpec(email="pending@example.com")],
    )
    member = ensure_invitation(apple.client, Invitee("Member@Example.com", "M", "Ember"))
    pending = ensure_invitation(apple.client, Invitee("pending@example.com", "P", "Ending"))
    assert invitation_status(member) is InvitationStatus.ALREADY_USER
    assert invitation_status(pending) is InvitationStatus.ALREADY_INVITED
    assert apple.writes("POST", "/v1/userInvitations") == 0


def test_invitation_dropped_after_apple_applied_it_is_not_sent_again(
    make_apple: Callable[..., Apple],
) -> None:
    apple = make_apple(
        faults=FaultPlan(
            rules=[FaultRule(kind="drop_after_write", path="/v1/userInvitations", methods=["POST"], count=1)]
        )
    )
    outcome = ensure_invitation(apple.client, INVITEE)
    assert invitation_status(outcome) is InvitationStatus.INVITED
    emails = [i["attributes"]["email"] for i in apple.control.state()["userInvitations"]]
    assert emails == [INVITEE.email]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"first_name": " "}, "first_name"),
        ({"roles": ()}, "roles"),
        ({"roles": (UserRole.ACCOUNT_HOLDER,)}, "ACCOUNT_HOLDER"),
    ],
)
def test_bad_invitee_input_is_refused_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    values: dict[str, object] = {"email": "a@example.com", "first_name": "A", "last_name": "B"} | kwargs
    with pytest.raises(ValueError, match=field):
        Invitee(**values)  # type: ignore[arg-type]


def test_a_member_lacking_a_requested_role_is_left_alone_or_given_only_the_missing_role(
    make_apple: Callable[..., Apple],
) -> None:
    apple = make_apple(users=[PersonSpec(email="dev@example.com", roles=["DEVELOPER"])])
    asked = Invitee("dev@example.com", "D", "Ev", roles=[UserRole.APP_MANAGER])
    left = ensure_invitation(apple.client, asked)
    assert (invitation_status(left), left.changes) == (InvitationStatus.ALREADY_USER, ())
    assert apple.writes("PATCH", f"/v1/users/{left.resource.id}") == 0

    added = ensure_invitation(apple.client, asked, add_roles=True)
    assert added.changes == ("added role(s) APP_MANAGER",)
    (user,) = [u for u in apple.control.state()["users"] if u["id"] == added.resource.id]
    assert sorted(user["attributes"]["roles"]) == ["APP_MANAGER", "DEVELOPER"]

    again = ensure_invitation(apple.client, asked, add_roles=True)
    assert again.changes == ()
    assert apple.writes("PATCH", f"/v1/users/{added.resource.id}") == 1
    assert apple.writes("POST", "/v1/userInvitations") == 0
