"""TestFlight over real HTTP: groups, testers and invitations, What to Test, the beta app description and review
contact, beta app review moving over Apple time, and the build's beta states, each with Apple's documents."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from ascflow.simulator.scenario import AppSpec, BetaGroupSpec, BetaTesterSpec, BuildSpec
from tests.fixtures.simulator import DEFAULT_APP_ID, RunningSimulator, StartSimulator, default_scenario
from tests.simulator.helpers import body
from tests.simulator.publishing import wait_for

OWNER: dict[str, Any] = {
    "email": "owner@example.com",
    "first_name": "Sam",
    "last_name": "Owner",
    "roles": ["ADMIN"],
}
CONTACT = {
    "contactFirstName": "Rae",
    "contactLastName": "Lee",
    "contactPhone": "+1 555 0100",
    "contactEmail": "rae@example.com",
}


@pytest.fixture
def sim(start_simulator: StartSimulator) -> RunningSimulator:
    return start_simulator(users=[OWNER])


def add_build(sim: RunningSimulator, number: str, **fields: Any) -> str:
    spec = {"version": "1.0", "build_number": number, "uses_non_exempt_encryption": False} | fields
    return sim.control.add_build(sim.app_id, BuildSpec(**spec))


def create_group(api: httpx.Client, app_id: str, name: str, **attributes: Any) -> httpx.Response:
    return api.post(
        "/v1/betaGroups", json=body("betaGroups", {"name": name, **attributes}, app=("apps", app_id))
    )


def create_tester(api: httpx.Client, email: str, **relationships: Any) -> httpx.Response:
    return api.post(
        "/v1/betaTesters", json=body("betaTesters", {"email": email, "firstName": "Jo"}, **relationships)
    )


def only_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    return dict(errors[0])


def test_groups_are_created_listed_and_refused_as_apple_refuses(sim: RunningSimulator) -> None:
    api = sim.client()
    internal = create_group(api, sim.app_id, "Team", isInternalGroup=True)
    assert internal.status_code == 201, internal.text
    assert internal.headers["Location"].endswith(f"/v1/betaGroups/{internal.json()['data']['id']}")
    attributes = internal.json()["data"]["attributes"]
    assert attributes["isInternalGroup"] is True
    assert attributes["publicLink"] is None
    external = create_group(api, sim.app_id, "Friends", publicLinkEnabled=True).json()["data"]
    assert external["attributes"]["isInternalGroup"] is False
    assert external["attributes"]["publicLink"].startswith("https://testflight.apple.com/join/")

    listed = api.get(f"/v1/apps/{sim.app_id}/betaGroups").json()["data"]
    assert {g["attributes"]["name"] for g in listed} == {"Team", "Friends"}
    filtered = api.get(
        "/v1/betaGroups", params={"filter[app]": sim.app_id, "filter[isInternalGroup]": "true"}
    )
    assert [g["attributes"]["name"] for g in filtered.json()["data"]] == ["Team"]

    twice = only_error(create_group(api, sim.app_id, "Team"), 409)
    assert twice["code"] == "ENTITY_ERROR"
    assert "'Team'" in twice["detail"]
    public = only_error(
        create_group(api, sim.app_id, "Open", isInternalGroup=True, publicLinkEnabled=True), 409
    )
    assert public["source"] == {"pointer": "/data/attributes/publicLinkEnabled"}
    unknown_app = only_error(create_group(api, "999", "X"), 409)
    assert unknown_app["code"] == "ENTITY_ERROR.RELATIONSHIP.INVALID"
    missing_name = api.post("/v1/betaGroups", json=body("betaGroups", {}, app=("apps", sim.app_id)))
    assert missing_name.status_code == 422  # the spec requires name


def test_an_internal_group_takes_only_team_members_and_testers_are_found_by_email_and_group(
    sim: RunningSimulator,
) -> None:
    api = sim.client()
    internal = create_group(api, sim.app_id, "Team", isInternalGroup=True).json()["data"]["id"]
    external = create_group(api, sim.app_id, "Friends").json()["data"]["id"]

    stranger = only_error(create_tester(api, "pat@example.net", betaGroups=[("betaGroups", internal)]), 409)
    assert stranger["code"] == "STATE_ERROR"
    assert stranger["title"] == "The request cannot be fulfilled because of the state of another resource."
    assert "pat@example.net" in stranger["detail"]
    assert "not a user of this team" in stranger["detail"]
    assert api.get("/v1/betaTesters", params={"filter[email]": "pat@example.net"}).json()["data"] == []

    owner = create_tester(api, OWNER["email"], betaGroups=[("betaGroups", internal)])
    assert owner.status_code == 201, owner.text
    assert owner.json()["data"]["attributes"]["state"] == "NOT_INVITED"
    pat = create_tester(api, "pat@example.net", betaGroups=[("betaGroups", external)]).json()["data"]

    again = only_error(create_tester(api, "pat@example.net", betaGroups=[("betaGroups", external)]), 409)
    assert again["code"] == "ENTITY_ERROR"
    assert pat["id"] in again["detail"]
    nowhere = only_error(create_tester(api, "lee@example.net"), 409)
    assert nowhere["code"] == "ENTITY_ERROR.RELATIONSHIP.REQUIRED"
    bad = only_error(create_tester(api, "not-an-email", betaGroups=[("betaGroups", external)]), 409)
    assert bad["source"] == {"pointer": "/data/attributes/email"}

    by_email = api.get("/v1/betaTesters", params={"filter[email]": "pat@example.net"}).json()["data"]
    assert [t["id"] for t in by_email] == [pat["id"]]
    in_external = api.get("/v1/betaTesters", params={"filter[betaGroups]": external}).json()["data"]
    assert [t["id"] for t in in_external] == [pat["id"]]
    by_app = api.get("/v1/betaTesters", params={"filter[apps]": sim.app_id}).json()["data"]
    assert len(by_app) == 2

    # Through the group's linkage: the stranger is refused there too; adding twice and removing are Apple's
    # JSON:API relationship writes (204, no duplicates).
    linkage = f"/v1/betaGroups/{internal}/relationships/betaTesters"
    refused = only_error(api.post(linkage, json={"data": [{"type": "betaTesters", "id": pat["id"]}]}), 409)
    assert refused["code"] == "STATE_ERROR"
    members = f"/v1/betaGroups/{external}/relationships/betaTesters"
    for _ in range(2):
        assert api.post(members, json={"data": [{"type": "betaTesters", "id": pat["id"]}]}).status_code == 204
    assert [r["id"] for r in api.get(members).json()["data"]] == [pat["id"]]
    assert (
        api.request("DELETE", members, json={"data": [{"type": "betaTesters", "id": pat["id"]}]}).status_code
        == 204
    )
    assert api.get(f"/v1/betaGroups/{external}/betaTesters").json()["data"] == []
    assert api.get(f"/v1/betaTesters/{pat['id']}/betaGroups").json()["data"] == []


def test_builds_join_groups_only_when_testable(sim: RunningSimulator) -> None:
    api = sim.client()
    group = create_group(api, sim.app_id, "Friends").json()["data"]["id"]
    automatic = create_group(api, sim.app_id, "Team", isInternalGroup=True, hasAccessToAllBuilds=True)
    ready = add_build(sim, "10")
    unanswered = add_build(sim, "11", uses_non_exempt_encryption=None)
    processing = add_build(sim, "12", processing_state="FAILED")
    linkage = f"/v1/betaGroups/{group}/relationships/builds"

    def add(group_linkage: str, build_id: str) -> httpx.Response:
        return api.post(group_linkage, json={"data": [{"type": "builds", "id": build_id}]})

    compliance = only_error(add(linkage, unanswered), 409)
    assert "usesNonExemptEncryption" in compliance["detail"]
    not_processed = only_error(add(linkage, processing), 422)
    assert not_processed["detail"] == "The build is not in a valid processing state for this operation."
    every_build = only_error(
        add(f"/v1/betaGroups/{automatic.json()['data']['id']}/relationships/builds", ready), 422
    )
    assert "access to all builds" in every_build["detail"]
    assert add(linkage, ready).status_code == 204
    assert [b["id"] for b in api.get(f"/v1/betaGroups/{group}/builds").json()["data"]] == [ready]
    assert api.get("/v1/betaGroups", params={"filter[builds]": ready}).json()["data"][0]["id"] == group
    # From the build's side, as the spec also allows.
    removed = api.request(
        "DELETE",
        f"/v1/builds/{ready}/relationships/betaGroups",
        json={"data": [{"type": "betaGroups", "id": group}]},
    )
    assert removed.status_code == 204
    assert api.get(f"/v1/betaGroups/{group}/builds").json()["data"] == []


def test_a_tester_is_invited_once_a_build_is_there_for_them_or_an_invitation_is_sent(
    sim: RunningSimulator,
) -> None:
    api = sim.client()
    team = create_group(api, sim.app_id, "Team", isInternalGroup=True).json()["data"]["id"]
    friends = create_group(api, sim.app_id, "Friends").json()["data"]["id"]
    owner = create_tester(api, OWNER["email"], betaGroups=[("betaGroups", team)]).json()["data"]["id"]
    pat = create_tester(api, "pat@example.net", betaGroups=[("betaGroups", friends)]).json()["data"]["id"]
    build = add_build(sim, "20")
    for group in (team, friends):
        api.post(
            f"/v1/betaGroups/{group}/relationships/builds", json={"data": [{"type": "builds", "id": build}]}
        )

    def state(tester: str) -> str:
        return str(api.get(f"/v1/betaTesters/{tester}").json()["data"]["attributes"]["state"])

    assert state(owner) == "INVITED"  # internal: the build is there without beta review
    assert state(pat) == "NOT_INVITED"  # external: not before beta app review approves the build
    invitation = api.post(
        "/v1/betaTesterInvitations",
        json=body("betaTesterInvitations", app=("apps", sim.app_id), betaTester=("betaTesters", pat)),
    )
    assert invitation.status_code == 201, invitation.text
    assert invitation.json()["data"]["type"] == "betaTesterInvitations"
    assert state(pat) == "INVITED"

    other_app = sim.control.add_app(
        AppSpec(id="6400000099", name="Other", bundle_id="com.example.other", sku="OTHER-1")
    )
    not_a_tester = only_error(
        api.post(
            "/v1/betaTesterInvitations",
            json=body("betaTesterInvitations", app=("apps", other_app), betaTester=("betaTesters", pat)),
        ),
        409,
    )
    assert not_a_tester["code"] == "ENTITY_ERROR.RELATIONSHIP.INVALID"


def test_what_to_test_is_one_localization_per_locale_per_build(sim: RunningSimulator) -> None:
    api = sim.client()
    build = add_build(sim, "30")

    def create(locale: str, text: str = "Try the new sync.") -> httpx.Response:
        return api.post(
            "/v1/betaBuildLocalizations",
            json=body(
                "betaBuildLocalizations", {"locale": locale, "whatsNew": text}, build=("builds", build)
            ),
        )

    first = create("en-US")
    assert first.status_code == 201, first.text
    assert first.json()["data"]["attributes"] == {"whatsNew": "Try the new sync.", "locale": "en-US"}
    duplicate = only_error(create("en-US", "Again"), 409)
    assert duplicate["code"] == "ENTITY_ERROR"
    assert duplicate["source"] == {"pointer": "/data/attributes/locale"}
    assert only_error(create("xx-XX"), 409)["code"] == "ENTITY_ERROR.ATTRIBUTE.INVALID"
    assert only_error(create("de-DE", "x" * 4001), 409)["source"] == {"pointer": "/data/attributes/whatsNew"}
    assert create("de-DE", "Neu").status_code == 201
    listed = api.get(
        "/v1/betaBuildLocalizations", params={"filter[build]": build, "filter[locale]": "de-DE"}
    ).json()
    assert len(api.get(f"/v1/builds/{build}/betaBuildLocalizations").json()["data"]) == 2
    assert [loc["attributes"]["whatsNew"] for loc in listed["data"]] == ["Neu"]
    localization_id = first.json()["data"]["id"]
    patched = api.patch(
        f"/v1/betaBuildLocalizations/{localization_id}",
        json=body("betaBuildLocalizations", {"whatsNew": "Sync, faster."}, id_=localization_id),
    )
    assert patched.json()["data"]["attributes"]["whatsNew"] == "Sync, faster."


def test_the_beta_review_detail_exists_per_app_and_is_only_read_and_patched(sim: RunningSimulator) -> None:
    api = sim.client()
    detail = api.get(f"/v1/apps/{sim.app_id}/betaAppReviewDetail").json()["data"]
    assert detail["id"] == sim.app_id  # GUESS: the app's id
    assert detail["attributes"]["contactEmail"] is None
    listed = api.get("/v1/betaAppReviewDetails", params={"filter[app]": sim.app_id}).json()["data"]
    assert [d["id"] for d in listed] == [sim.app_id]
    assert api.get("/v1/betaAppReviewDetails").status_code == 400  # filter[app] is required (spec)
    assert api.post("/v1/betaAppReviewDetails", json=body("betaAppReviewDetails", CONTACT)).status_code == 405
    patched = api.patch(
        f"/v1/betaAppReviewDetails/{sim.app_id}", json=body("betaAppReviewDetails", CONTACT, id_=sim.app_id)
    )
    assert patched.status_code == 200, patched.text
    assert {k: patched.json()["data"]["attributes"][k] for k in CONTACT} == CONTACT


def describe(api: httpx.Client, app_id: str, description: str | None = "Try it.") -> httpx.Response:
    return api.post(
        "/v1/betaAppLocalizations",
        json=body(
            "betaAppLocalizations",
            {"locale": "en-US", "description": description, "feedbackEmail": "beta@example.com"},
            app=("apps", app_id),
        ),
    )


def submit_for_beta_review(api: httpx.Client, build: str) -> httpx.Response:
    return api.post(
        "/v1/betaAppReviewSubmissions",
        json=body("betaAppReviewSubmissions", build=("builds", build)),
    )


def test_external_testing_needs_the_description_and_the_contact_before_beta_review(
    sim: RunningSimulator,
) -> None:
    api = sim.client()
    build = add_build(sim, "40")
    refused = submit_for_beta_review(api, build)
    assert refused.status_code == 409, refused.text
    errors = refused.json()["errors"]
    assert [e["title"] for e in errors] == [
        "Beta App Description is missing.",
        "Beta App Review Information is missing.",
    ]
    assert errors[0]["detail"] == "Beta App Description is required to submit a build for external testing."
    assert all(e["code"] == "STATE_ERROR" and e["status"] == "409" for e in errors)
    assert "contactPhone" in errors[1]["detail"]

    assert describe(api, sim.app_id).status_code == 201
    assert only_error(describe(api, sim.app_id), 409)["code"] == "ENTITY_ERROR"  # one per locale
    api.patch(
        f"/v1/betaAppReviewDetails/{sim.app_id}", json=body("betaAppReviewDetails", CONTACT, id_=sim.app_id)
    )
    demo = api.patch(
        f"/v1/betaAppReviewDetails/{sim.app_id}",
        json=body("betaAppReviewDetails", {"demoAccountRequired": True}, id_=sim.app_id),
    )
    assert demo.status_code == 200
    needs_demo = only_error(submit_for_beta_review(api, build), 409)
    assert "demoAccountName" in needs_demo["detail"]
    assert "demoAccountPassword" in needs_demo["detail"]
    api.patch(
        f"/v1/betaAppReviewDetails/{sim.app_id}",
        json=body(
            "betaAppReviewDetails", {"demoAccountName": "demo", "demoAccountPassword": "pw"}, id_=sim.app_id
        ),
    )
    unanswered = add_build(sim, "41", uses_non_exempt_encryption=None)
    compliance = only_error(submit_for_beta_review(api, unanswered), 409)
    assert "usesNonExemptEncryption" in compliance["detail"]
    processing = add_build(sim, "42", processing_state="FAILED")
    assert only_error(submit_for_beta_review(api, processing), 422)["code"] == "ENTITY_UNPROCESSABLE"

    accepted = submit_for_beta_review(api, build)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["data"]["attributes"]["betaReviewState"] == "WAITING_FOR_REVIEW"
    twice = only_error(submit_for_beta_review(api, build), 409)
    assert twice["code"] == "ENTITY_ERROR"
    assert accepted.json()["data"]["id"] in twice["detail"]


def ready_for_beta_review(sim: RunningSimulator, api: httpx.Client, number: str) -> str:
    describe(api, sim.app_id)
    api.patch(
        f"/v1/betaAppReviewDetails/{sim.app_id}", json=body("betaAppReviewDetails", CONTACT, id_=sim.app_id)
    )
    return add_build(sim, number)


def test_beta_review_moves_with_the_time_scale_and_the_build_beta_detail_follows(
    sim: RunningSimulator,
) -> None:
    # 3600 Apple seconds waiting and 7200 in review (the defaults) at 36000x: 0.1 s, then 0.2 s of wall time.
    api = sim.client()
    build = ready_for_beta_review(sim, api, "50")
    detail = api.get(f"/v1/builds/{build}/buildBetaDetail").json()["data"]
    assert detail["id"] == build  # recorded: Apple names the build's id for its beta detail
    assert detail["attributes"]["internalBuildState"] == "READY_FOR_BETA_TESTING"
    assert detail["attributes"]["externalBuildState"] == "READY_FOR_BETA_SUBMISSION"
    started = time.monotonic()
    submission = submit_for_beta_review(api, build).json()["data"]["id"]

    def states() -> tuple[str, str]:
        review = api.get(f"/v1/betaAppReviewSubmissions/{submission}").json()["data"]["attributes"]
        beta = api.get(f"/v1/buildBetaDetails/{build}").json()["data"]["attributes"]
        return review["betaReviewState"], beta["externalBuildState"]

    assert states() == ("WAITING_FOR_REVIEW", "WAITING_FOR_BETA_REVIEW")
    wait_for(states, lambda s: s == ("IN_REVIEW", "IN_BETA_REVIEW"))
    assert time.monotonic() - started >= 0.09
    wait_for(states, lambda s: s == ("APPROVED", "BETA_APPROVED"))
    assert time.monotonic() - started >= 0.28
    by_build = api.get("/v1/betaAppReviewSubmissions", params={"filter[build]": build}).json()["data"]
    assert [s["id"] for s in by_build] == [submission]


def test_the_beta_review_outcome_is_set_at_run_time(sim: RunningSimulator) -> None:
    api = sim.client()
    build = ready_for_beta_review(sim, api, "60")
    sim.control.set_review_outcomes(beta_review="REJECTED")
    submission = submit_for_beta_review(api, build).json()["data"]["id"]
    final = wait_for(
        lambda: api.get(f"/v1/betaAppReviewSubmissions/{submission}").json()["data"]["attributes"],
        lambda a: a["betaReviewState"] not in {"WAITING_FOR_REVIEW", "IN_REVIEW"},
    )
    assert final["betaReviewState"] == "REJECTED"
    assert (
        api.get(f"/v1/buildBetaDetails/{build}").json()["data"]["attributes"]["externalBuildState"]
        == "BETA_REJECTED"
    )


def test_the_build_beta_detail_follows_export_compliance(sim: RunningSimulator) -> None:
    api = sim.client()
    build = add_build(sim, "70", uses_non_exempt_encryption=None)
    attributes = api.get(f"/v1/builds/{build}/buildBetaDetail").json()["data"]["attributes"]
    assert attributes["internalBuildState"] == attributes["externalBuildState"] == "MISSING_EXPORT_COMPLIANCE"
    api.patch(f"/v1/builds/{build}", json=body("builds", {"usesNonExemptEncryption": False}, id_=build))
    attributes = api.get(f"/v1/buildBetaDetails/{build}").json()["data"]["attributes"]
    assert (attributes["internalBuildState"], attributes["externalBuildState"]) == (
        "READY_FOR_BETA_TESTING",
        "READY_FOR_BETA_SUBMISSION",
    )
    notify = api.patch(
        f"/v1/buildBetaDetails/{build}",
        json=body("buildBetaDetails", {"autoNotifyEnabled": False}, id_=build),
    )
    assert notify.json()["data"]["attributes"]["autoNotifyEnabled"] is False


def test_beta_groups_and_testers_are_seeded_from_the_scenario_and_the_control_api(
    start_simulator: StartSimulator,
) -> None:
    probe = start_simulator()
    scenario = default_scenario(probe.admin_key, users=[OWNER])
    scenario.apps[0].beta_groups = [
        BetaGroupSpec(name="Team", internal=True, testers=[BetaTesterSpec(email=OWNER["email"])]),
        BetaGroupSpec(name="Friends", testers=[BetaTesterSpec(email="pat@example.net", first_name="Pat")]),
    ]
    sim = start_simulator(scenario, admin_key=probe.admin_key)
    api = sim.client()
    groups = {
        g["attributes"]["name"]: g for g in api.get(f"/v1/apps/{DEFAULT_APP_ID}/betaGroups").json()["data"]
    }
    assert groups["Team"]["attributes"]["isInternalGroup"] is True
    friends = api.get(f"/v1/betaGroups/{groups['Friends']['id']}/betaTesters").json()["data"]
    assert [(t["attributes"]["email"], t["attributes"]["firstName"]) for t in friends] == [
        ("pat@example.net", "Pat")
    ]

    added = sim.control.add_beta_group(
        DEFAULT_APP_ID, BetaGroupSpec(name="More", testers=[BetaTesterSpec(email="pat@example.net")])
    )
    assert api.get(f"/v1/betaGroups/{added}/betaTesters").json()["data"][0]["id"] == friends[0]["id"]
    with pytest.raises(RuntimeError, match="not team users"):
        sim.control.add_beta_group(
            DEFAULT_APP_ID,
            BetaGroupSpec(name="Bad", internal=True, testers=[BetaTesterSpec(email="x@example.net")]),
        )


def test_an_internal_group_with_access_to_all_builds_gets_each_later_testable_build(
    sim: RunningSimulator,
) -> None:
    api = sim.client()
    earlier = add_build(sim, "80")
    time.sleep(0.02)  # 720 Apple seconds: the group is made after that build
    group = create_group(api, sim.app_id, "Team", isInternalGroup=True, hasAccessToAllBuilds=True).json()[
        "data"
    ]
    owner = create_tester(api, OWNER["email"], betaGroups=[("betaGroups", group["id"])]).json()["data"]["id"]
    assert api.get(f"/v1/betaTesters/{owner}").json()["data"]["attributes"]["state"] == "NOT_INVITED"
    time.sleep(0.02)
    later = add_build(sim, "81")
    unanswered = add_build(sim, "82", uses_non_exempt_encryption=None)
    builds = [b["id"] for b in api.get(f"/v1/betaGroups/{group['id']}/builds").json()["data"]]
    assert builds == [later]
    assert earlier not in builds
    assert unanswered not in builds
    assert api.get(f"/v1/betaTesters/{owner}").json()["data"]["attributes"]["state"] == "INVITED"
