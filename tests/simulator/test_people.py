"""Users and invitations: duplicates are refused, and an accepted invitation is gone (410)."""

from __future__ import annotations

import httpx

from tests.fixtures.simulator import RunningSimulator
from tests.simulator.helpers import body

INVITEE = {
    "email": "publisher@example.com",
    "firstName": "Pat",
    "lastName": "Lisher",
    "roles": ["APP_MANAGER"],
}


def invite(api: httpx.Client, **changes) -> httpx.Response:
    return api.post(
        "/v1/userInvitations", json=body("userInvitations", {**INVITEE, "allAppsVisible": True, **changes})
    )


def test_invite_then_accept_makes_a_user_and_the_invitation_gone(simulator: RunningSimulator) -> None:
    api = simulator.client()
    created = invite(api)
    assert created.status_code == 201
    invitation = created.json()["data"]
    assert created.headers["location"].endswith(f"/v1/userInvitations/{invitation['id']}")
    listed = api.get("/v1/userInvitations", params={"filter[email]": INVITEE["email"]}).json()["data"]
    assert [i["id"] for i in listed] == [invitation["id"]]
    user_id = simulator.control.accept_invitation(invitation["id"])
    gone = api.get(f"/v1/userInvitations/{invitation['id']}")
    assert gone.status_code == 410
    assert gone.json()["errors"][0]["status"] == "410"
    assert api.get("/v1/userInvitations", params={"filter[email]": INVITEE["email"]}).json()["data"] == []
    users = api.get("/v1/users", params={"filter[username]": INVITEE["email"]}).json()["data"]
    assert [u["id"] for u in users] == [user_id]
    assert users[0]["attributes"]["roles"] == ["APP_MANAGER"]


def test_inviting_a_pending_invitee_is_409(simulator: RunningSimulator) -> None:
    api = simulator.client()
    assert invite(api).status_code == 201
    again = invite(api)
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"].startswith("ENTITY_ERROR")
    assert INVITEE["email"] in again.json()["errors"][0]["detail"]


def test_inviting_an_existing_user_is_409(start_simulator) -> None:
    sim = start_simulator(users=[{"email": INVITEE["email"], "roles": ["DEVELOPER"]}])
    response = invite(sim.client())
    assert response.status_code == 409
    assert "already a member" in response.json()["errors"][0]["detail"]


def test_scenario_invitations_are_pending_and_cancellable(start_simulator) -> None:
    sim = start_simulator(invitations=[{"email": "x@example.com"}])
    api = sim.client()
    pending = api.get("/v1/userInvitations").json()["data"]
    assert [i["attributes"]["email"] for i in pending] == ["x@example.com"]
    assert invite(api, email="x@example.com").status_code == 409
    assert api.delete(f"/v1/userInvitations/{pending[0]['id']}").status_code == 204
    assert invite(api, email="x@example.com").status_code == 201


def test_an_invalid_email_is_409_naming_the_attribute(simulator: RunningSimulator) -> None:
    response = invite(simulator.client(), email="not-an-email")
    assert response.status_code == 409
    assert response.json()["errors"][0]["source"] == {"pointer": "/data/attributes/email"}


def test_users_can_be_updated_and_removed(start_simulator) -> None:
    sim = start_simulator(users=[{"email": "dev@example.com", "roles": ["DEVELOPER"]}])
    api = sim.client()
    user = api.get("/v1/users").json()["data"][0]
    patched = api.patch(
        f"/v1/users/{user['id']}", json=body("users", {"roles": ["APP_MANAGER"]}, id_=user["id"])
    )
    assert patched.status_code == 200
    assert patched.json()["data"]["attributes"]["roles"] == ["APP_MANAGER"]
    assert api.delete(f"/v1/users/{user['id']}").status_code == 204
    assert api.get("/v1/users").json()["data"] == []
