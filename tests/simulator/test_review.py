"""Versions, localizations, review details and review submissions, with Apple's rules and moving states."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.fixtures.ipa import ipa_bytes
from tests.fixtures.simulator import RunningSimulator
from tests.simulator.helpers import body
from tests.simulator.listing_steps import CONTACT, prepare_update
from tests.simulator.publishing import commit, put_parts, reserve_file, reserve_upload, upload_build, wait_for


def create_version(
    api: httpx.Client, app_id: str, version: str = "1.0", build_id: str | None = None
) -> httpx.Response:
    relationships: dict[str, Any] = {"app": ("apps", app_id)}
    if build_id:
        relationships["build"] = ("builds", build_id)
    return api.post(
        "/v1/appStoreVersions",
        json=body("appStoreVersions", {"platform": "IOS", "versionString": version}, **relationships),
    )


def attach(api: httpx.Client, version_id: str, build_id: str) -> httpx.Response:
    return api.patch(
        f"/v1/appStoreVersions/{version_id}/relationships/build",
        json={"data": {"type": "builds", "id": build_id}},
    )


def answer_compliance(api: httpx.Client, build_id: str) -> None:
    response = api.patch(
        f"/v1/builds/{build_id}", json=body("builds", {"usesNonExemptEncryption": False}, id_=build_id)
    )
    assert response.status_code == 200


def open_submission(api: httpx.Client, app_id: str) -> httpx.Response:
    return api.post(
        "/v1/reviewSubmissions", json=body("reviewSubmissions", {"platform": "IOS"}, app=("apps", app_id))
    )


def add_item(api: httpx.Client, submission_id: str, version_id: str) -> httpx.Response:
    return api.post(
        "/v1/reviewSubmissionItems",
        json=body(
            "reviewSubmissionItems",
            reviewSubmission=("reviewSubmissions", submission_id),
            appStoreVersion=("appStoreVersions", version_id),
        ),
    )


def submit(api: httpx.Client, submission_id: str) -> httpx.Response:
    return api.patch(
        f"/v1/reviewSubmissions/{submission_id}",
        json=body("reviewSubmissions", {"submitted": True}, id_=submission_id),
    )


@pytest.fixture
def sim(start_simulator) -> RunningSimulator:
    return start_simulator(upload_part_size=4096)


def ready_version(api: httpx.Client, app_id: str, version: str = "1.0", number: str = "1") -> tuple[str, str]:
    build = upload_build(api, app_id, version, number)
    answer_compliance(api, build["id"])
    version_id = create_version(api, app_id, version).json()["data"]["id"]
    assert attach(api, version_id, build["id"]).status_code == 204
    prepare_update(api, version_id)
    return version_id, build["id"]


def test_version_copies_the_primary_localization_and_takes_review_details(sim: RunningSimulator) -> None:
    api = sim.client()
    created = create_version(api, sim.app_id, "1.0")
    assert created.status_code == 201
    version = created.json()["data"]
    assert version["attributes"]["appVersionState"] == "PREPARE_FOR_SUBMISSION"
    locs = api.get(
        f"/v1/appStoreVersions/{version['id']}/appStoreVersionLocalizations",
        params={"filter[locale]": "en-US"},
    )
    assert [loc["attributes"]["locale"] for loc in locs.json()["data"]] == ["en-US"]
    loc_id = locs.json()["data"][0]["id"]
    patched = api.patch(
        f"/v1/appStoreVersionLocalizations/{loc_id}",
        json=body("appStoreVersionLocalizations", {"whatsNew": "Fixes."}, id_=loc_id),
    )
    assert patched.json()["data"]["attributes"]["whatsNew"] == "Fixes."
    assert api.get(f"/v1/appStoreVersions/{version['id']}/appStoreReviewDetail").json()["data"] is None
    detail = api.post(
        "/v1/appStoreReviewDetails",
        json=body(
            "appStoreReviewDetails",
            {"contactEmail": "review@example.com", "contactFirstName": "Rae", "demoAccountRequired": False},
            appStoreVersion=("appStoreVersions", version["id"]),
        ),
    )
    assert detail.status_code == 201
    read = api.get(f"/v1/appStoreVersions/{version['id']}/appStoreReviewDetail").json()["data"]
    assert read["attributes"]["contactEmail"] == "review@example.com"
    again = api.post(
        "/v1/appStoreReviewDetails",
        json=body(
            "appStoreReviewDetails", {"notes": "x"}, appStoreVersion=("appStoreVersions", version["id"])
        ),
    )
    assert again.status_code == 409
    updated = api.patch(
        f"/v1/appStoreReviewDetails/{read['id']}",
        json=body("appStoreReviewDetails", {"notes": "hi"}, id_=read["id"]),
    )
    assert updated.json()["data"]["attributes"]["notes"] == "hi"


def test_a_duplicate_locale_is_409(sim: RunningSimulator) -> None:
    api = sim.client()
    version_id = create_version(api, sim.app_id).json()["data"]["id"]
    duplicate = api.post(
        "/v1/appStoreVersionLocalizations",
        json=body(
            "appStoreVersionLocalizations",
            {"locale": "en-US"},
            appStoreVersion=("appStoreVersions", version_id),
        ),
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["code"] == "ENTITY_ERROR"
    other = api.post(
        "/v1/appStoreVersionLocalizations",
        json=body(
            "appStoreVersionLocalizations",
            {"locale": "fr-FR"},
            appStoreVersion=("appStoreVersions", version_id),
        ),
    )
    assert other.status_code == 201


def test_one_editable_version_per_platform(sim: RunningSimulator) -> None:
    api = sim.client()
    assert create_version(api, sim.app_id, "1.0").status_code == 201
    second = create_version(api, sim.app_id, "1.1")
    assert second.status_code == 409
    assert second.json()["errors"][0] | {"id": "x"} == {
        "id": "x",
        "status": "409",
        "code": "ENTITY_ERROR.RELATIONSHIP.INVALID",
        "title": "The provided entity includes a relationship with an invalid value",
        "detail": "You cannot create a new version of the App in the current state.",
        "source": {"pointer": "/data/relationships/app"},
    }
    found = api.get(
        f"/v1/apps/{sim.app_id}/appStoreVersions",
        params={"filter[platform]": "IOS", "filter[versionString]": "1.0"},
    )
    assert len(found.json()["data"]) == 1


def test_attaching_a_build_that_is_still_processing_is_422(start_simulator) -> None:
    sim = start_simulator(time_scale=1.0, upload_part_size=4096)
    api = sim.client()
    upload_id = reserve_upload(api, sim.app_id).json()["data"]["id"]
    file = reserve_file(api, upload_id, 10).json()["data"]
    put_parts(file, bytes(10))
    commit(api, file["id"])
    version_id = create_version(api, sim.app_id).json()["data"]["id"]
    assert api.get(f"/v1/appStoreVersions/{version_id}/build").json()["data"] is None
    # Processing takes Apple minutes at real time: no build exists yet, and the upload is PROCESSING.
    assert (
        api.get(f"/v1/buildUploads/{upload_id}").json()["data"]["attributes"]["state"]["state"]
        == "PROCESSING"
    )


def test_a_build_not_processed_is_refused_with_apples_422(start_simulator) -> None:
    sim = start_simulator(
        upload_part_size=4096, delays={"upload_processing_seconds": 0, "build_processing_seconds": 10**9}
    )
    api = sim.client()
    upload_id = reserve_upload(api, sim.app_id).json()["data"]["id"]
    content = ipa_bytes(sim.bundle_id, "1.0", "1")
    file = reserve_file(api, upload_id, len(content)).json()["data"]
    put_parts(file, content)
    commit(api, file["id"])
    build = wait_for(
        lambda: api.get("/v1/builds", params={"filter[app]": sim.app_id}).json()["data"],
        lambda builds: builds,
    )[0]
    assert build["attributes"]["processingState"] == "PROCESSING"
    version_id = create_version(api, sim.app_id).json()["data"]["id"]
    response = attach(api, version_id, build["id"])
    assert response.status_code == 422
    assert (
        response.json()["errors"][0]["detail"]
        == "The build is not in a valid processing state for this operation."
    )
    at_creation = create_version(api, sim.app_id, "2.0", build_id=build["id"])
    assert at_creation.status_code == 409  # the first version is still editable


def test_item_without_a_build_lists_associated_errors(sim: RunningSimulator) -> None:
    api = sim.client()
    version_id = create_version(api, sim.app_id).json()["data"]["id"]
    prepare_update(api, version_id)
    submission_id = open_submission(api, sim.app_id).json()["data"]["id"]
    response = add_item(api, submission_id, version_id)
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["code"] == "STATE_ERROR.ENTITY_STATE_INVALID"
    assert error["detail"] == "This resource cannot be reviewed, please check associated errors to see why."
    associated = error["meta"]["associatedErrors"][f"/v1/appStoreVersions/{version_id}"]
    assert [e["source"]["pointer"] for e in associated] == ["/data/relationships/build"]


def test_update_needs_whats_new_and_export_compliance(start_simulator) -> None:
    sim = start_simulator(
        upload_part_size=4096,
        apps=[{"id": "6400000001", "name": "Demo", "bundle_id": "com.example.demoapp", "sku": "D",
               "versions": [{"version_string": "1.0", "state": "READY_FOR_DISTRIBUTION"}]}],
    )  # fmt: skip
    api = sim.client()
    build = upload_build(api, sim.app_id, "1.1", "11")
    version_id = create_version(api, sim.app_id, "1.1").json()["data"]["id"]
    assert attach(api, version_id, build["id"]).status_code == 204
    api.post(
        "/v1/appStoreReviewDetails",
        json=body("appStoreReviewDetails", CONTACT, appStoreVersion=("appStoreVersions", version_id)),
    )
    submission_id = open_submission(api, sim.app_id).json()["data"]["id"]
    response = add_item(api, submission_id, version_id)
    assert response.status_code == 409
    associated = response.json()["errors"][0]["meta"]["associatedErrors"]
    loc_id = api.get(f"/v1/appStoreVersions/{version_id}/appStoreVersionLocalizations").json()["data"][0][
        "id"
    ]
    assert sorted(associated) == [f"/v1/appStoreVersionLocalizations/{loc_id}", f"/v1/builds/{build['id']}"]
    assert sorted(e["detail"] for errors in associated.values() for e in errors) == [
        "You must provide a value for the attribute 'usesNonExemptEncryption' with this request",
        "You must provide a value for the attribute 'whatsNew' with this request",
    ]
    answer_compliance(api, build["id"])
    api.patch(
        f"/v1/appStoreVersionLocalizations/{loc_id}",
        json=body("appStoreVersionLocalizations", {"whatsNew": "Better."}, id_=loc_id),
    )
    assert add_item(api, submission_id, version_id).status_code == 201


def test_one_open_submission_per_app(sim: RunningSimulator) -> None:
    api = sim.client()
    first = open_submission(api, sim.app_id)
    assert first.status_code == 201
    assert first.json()["data"]["attributes"]["state"] == "READY_FOR_REVIEW"
    second = open_submission(api, sim.app_id)
    assert second.status_code == 409
    assert second.json()["errors"][0]["code"] == "ENTITY_ERROR"
    listed = api.get(
        "/v1/reviewSubmissions", params={"filter[app]": sim.app_id, "filter[state]": "READY_FOR_REVIEW"}
    )
    assert [s["id"] for s in listed.json()["data"]] == [first.json()["data"]["id"]]


def test_submitting_an_empty_submission_is_409(sim: RunningSimulator) -> None:
    api = sim.client()
    submission_id = open_submission(api, sim.app_id).json()["data"]["id"]
    assert submit(api, submission_id).status_code == 409


@pytest.mark.parametrize(
    ("outcome", "version_state"), [("COMPLETE", "READY_FOR_DISTRIBUTION"), ("UNRESOLVED_ISSUES", "REJECTED")]
)
def test_review_moves_through_its_states_in_seconds_at_3600x(
    start_simulator, outcome: str, version_state: str
) -> None:
    sim = start_simulator(
        time_scale=3600.0,
        upload_part_size=4096,
        review_outcome=outcome,
        delays={"upload_processing_seconds": 60, "build_processing_seconds": 300, "review_wait_seconds": 1800,
                "review_seconds": 1800},
    )  # fmt: skip
    api = sim.client()
    version_id, _ = ready_version(api, sim.app_id)
    submission_id = open_submission(api, sim.app_id).json()["data"]["id"]
    assert add_item(api, submission_id, version_id).status_code == 201
    submitted = submit(api, submission_id)
    assert submitted.status_code == 200
    assert submitted.json()["data"]["attributes"]["state"] == "WAITING_FOR_REVIEW"
    assert "submittedDate" in submitted.json()["data"]["attributes"]
    seen: list[str] = []
    started = time.monotonic()

    def state() -> str:
        value = api.get(f"/v1/reviewSubmissions/{submission_id}").json()["data"]["attributes"]["state"]
        if not seen or seen[-1] != value:
            seen.append(value)
        return value

    wait_for(state, lambda s: s == outcome, timeout=5)
    assert time.monotonic() - started < 3
    assert seen == ["WAITING_FOR_REVIEW", "IN_REVIEW", outcome]
    version = api.get(f"/v1/appStoreVersions/{version_id}").json()["data"]
    assert version["attributes"]["appVersionState"] == version_state
    items = api.get(f"/v1/reviewSubmissions/{submission_id}/items").json()["data"]
    assert [i["attributes"]["state"] for i in items] == ["APPROVED" if outcome == "COMPLETE" else "REJECTED"]
    included = api.get(
        f"/v1/reviewSubmissions/{submission_id}", params={"include": "items,appStoreVersionForReview"}
    )
    assert {r["type"] for r in included.json()["included"]} == {"reviewSubmissionItems", "appStoreVersions"}
    if outcome == "UNRESOLVED_ISSUES":
        # Fix and resubmit the same submission: Apple wants the PATCH, not a new item.
        assert open_submission(api, sim.app_id).status_code == 409
        assert submit(api, submission_id).json()["data"]["attributes"]["state"] == "WAITING_FOR_REVIEW"
    else:
        assert open_submission(api, sim.app_id).status_code == 201
        assert create_version(api, sim.app_id, "1.1").status_code == 201


def test_a_canceled_submission_completes_and_frees_the_app(start_simulator) -> None:
    sim = start_simulator(
        upload_part_size=4096,
        delays={"upload_processing_seconds": 1, "build_processing_seconds": 1, "review_wait_seconds": 10**9},
    )
    api = sim.client()
    version_id, _ = ready_version(api, sim.app_id)
    submission_id = open_submission(api, sim.app_id).json()["data"]["id"]
    add_item(api, submission_id, version_id)
    submit(api, submission_id)
    canceled = api.patch(
        f"/v1/reviewSubmissions/{submission_id}",
        json=body("reviewSubmissions", {"canceled": True}, id_=submission_id),
    )
    assert canceled.json()["data"]["attributes"]["state"] == "CANCELING"
    wait_for(
        lambda: api.get(f"/v1/reviewSubmissions/{submission_id}").json()["data"]["attributes"]["state"],
        lambda s: s == "COMPLETE",
    )
    assert open_submission(api, sim.app_id).status_code == 201


def test_another_open_submission_gets_apples_text(sim: RunningSimulator) -> None:
    api = sim.client()
    first = open_submission(api, sim.app_id).json()["data"]["id"]
    second = open_submission(api, sim.app_id)
    assert (
        second.json()["errors"][0]["detail"]
        == f"There is another reviewSubmissions with id {first} still in progress."
    )


def test_a_release_date_must_be_a_date_time(sim: RunningSimulator) -> None:
    api = sim.client()
    version_id = create_version(api, sim.app_id).json()["data"]["id"]
    bad = api.patch(
        f"/v1/appStoreVersions/{version_id}",
        json=body(
            "appStoreVersions",
            {"releaseType": "SCHEDULED", "earliestReleaseDate": "next week"},
            id_=version_id,
        ),
    )
    assert bad.status_code == 409
    assert bad.json()["errors"][0]["source"] == {"pointer": "/data/attributes/earliestReleaseDate"}
    good = api.patch(
        f"/v1/appStoreVersions/{version_id}",
        json=body(
            "appStoreVersions",
            {"releaseType": "SCHEDULED", "earliestReleaseDate": "2026-06-17T12:00:00-07:00"},
            id_=version_id,
        ),
    )
    assert good.json()["data"]["attributes"]["earliestReleaseDate"] == "2026-06-17T12:00:00-07:00"
