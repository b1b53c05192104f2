"""Users and user invitations."""

from __future__ import annotations

from ascflow.simulator.clock import iso
from ascflow.simulator.documents import ApiError, Errors
from ascflow.simulator.routes.reads import one, visible
from ascflow.simulator.routing import Call, Reply, created, handles, no_content, ok
from ascflow.simulator.state import Resource, Team, add_user

INVITATION_LIFETIME = 30 * 86400


@handles("PATCH", "/v1/users/{id}")
def update_user(call: Call) -> Reply:
    user = one(call, "users")
    user.attributes.update(call.given(("roles", "allAppsVisible", "provisioningAllowed")))
    return ok(call, user)


@handles("DELETE", "/v1/users/{id}")
def delete_user(call: Call) -> Reply:
    call.team.remove("users", one(call, "users").id)
    return no_content()


@handles("POST", "/v1/userInvitations")
def invite(call: Call) -> Reply:
    team = call.team
    email = call.attributes["email"]
    if "@" not in email:
        raise ApiError(
            Errors.attribute_invalid("/data/attributes/email", f"'{email}' is not a valid email address.")
        )
    if any(u.attributes["username"].lower() == email.lower() for u in team.all("users")):
        raise ApiError(
            Errors.entity_error(
                f"The user with email '{email}' is already a member of this team.", "/data/attributes/email"
            )
        )
    if any(i.attributes["email"].lower() == email.lower() for i in team.all("userInvitations") if visible(i)):
        raise ApiError(
            Errors.entity_error(
                f"An invitation has already been sent to '{email}'.", "/data/attributes/email"
            )
        )
    if "ACCOUNT_HOLDER" in call.attributes["roles"]:
        raise ApiError(
            Errors.attribute_invalid(
                "/data/attributes/roles", "The role 'ACCOUNT_HOLDER' cannot be assigned."
            )
        )
    visible_apps = call.relationship("visibleApps") or []
    invitation = team.add(
        Resource(
            "userInvitations",
            team.new_id("userInvitations"),
            {
                "email": email,
                "firstName": call.attributes["firstName"],
                "lastName": call.attributes["lastName"],
                "roles": call.attributes["roles"],
                "allAppsVisible": call.attributes.get("allAppsVisible", False),
                "provisioningAllowed": call.attributes.get("provisioningAllowed", False),
                "expirationDate": iso(team.now() + INVITATION_LIFETIME),
            },
            {"visibleApps": [("apps", ref["id"]) for ref in visible_apps]},
        )
    )
    return created(call, invitation)


@handles("DELETE", "/v1/userInvitations/{id}")
def cancel_invitation(call: Call) -> Reply:
    call.team.remove("userInvitations", one(call, "userInvitations").id)
    return no_content()


def accept_invitation(team: Team, invitation_id: str) -> Resource:
    """What the invitee's click does: the invitation is gone (410) and a user exists."""
    invitation = team.get("userInvitations", invitation_id)
    if invitation is None or invitation.hidden.get("gone"):
        raise KeyError(invitation_id)
    invitation.hidden["gone"] = True
    attrs = invitation.attributes
    return add_user(team, attrs["email"], attrs["firstName"], attrs["lastName"], list(attrs["roles"]))
