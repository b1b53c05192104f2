"""Release control over real HTTP: the version's states after App Review by release type and outcome, release
requests only from PENDING_DEVELOPER_RELEASE, and phased releases counting Apple's 7 days with the time scale."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from ascflow.simulator.scenario import Delays, SubmissionSpec, VersionSpec
from tests.fixtures.simulator import RunningSimulator, StartSimulator
from tests.simulator.helpers import body
from tests.simulator.publishing import wait_for

DAY = 86400.0
DAY_AT = 864_000.0  # an Apple day in a tenth of a wall second
SETTLED = {"PENDING_DEVELOPER_RELEASE", "READY_FOR_DISTRIBUTION", "REJECTED", "PROCESSING_FOR_DISTRIBUTION"}


def version_state(api: httpx.Client, version_id: str) -> str:
    return str(api.get(f"/v1/appStoreVersions/{version_id}").json()["data"]["attributes"]["appVersionState"])


def new_version(sim: RunningSimulator, release_type: str = "AFTER_APPROVAL") -> str:
    return sim.control.add_version(
        sim.app_id,
        VersionSpec(version_string="1.0", state="PREPARE_FOR_SUBMISSION", release_type=release_type),
    )


def submit(sim: RunningSimulator) -> None:
    """Version 1.0 waiting for review, as the API would have left it (it moves on over Apple time)."""
    sim.control.add_review_submission(sim.app_id, SubmissionSpec(state="WAITING_FOR_REVIEW", items=["1.0"]))


def in_review(sim: RunningSimulator, release_type: str = "AFTER_APPROVAL") -> str:
    version_id = new_version(sim, release_type)
    submit(sim)
    return version_id


def released_version_id(api: httpx.Client, app_id: str) -> str:
    versions = api.get(f"/v1/apps/{app_id}/appStoreVersions", params={"filter[versionString]": "0.9"}).json()
    return str(versions["data"][0]["id"])


def request_release(api: httpx.Client, version_id: str) -> httpx.Response:
    return api.post(
        "/v1/appStoreVersionReleaseRequests",
        json=body("appStoreVersionReleaseRequests", appStoreVersion=("appStoreVersions", version_id)),
    )


def create_phased(api: httpx.Client, version_id: str, state: str | None = "INACTIVE") -> httpx.Response:
    attributes = {"phasedReleaseState": state} if state else None
    return api.post(
        "/v1/appStoreVersionPhasedReleases",
        json=body(
            "appStoreVersionPhasedReleases", attributes, appStoreVersion=("appStoreVersions", version_id)
        ),
    )


def set_phase(api: httpx.Client, phased_id: str, state: str) -> httpx.Response:
    return api.patch(
        f"/v1/appStoreVersionPhasedReleases/{phased_id}",
        json=body("appStoreVersionPhasedReleases", {"phasedReleaseState": state}, id_=phased_id),
    )


def phased_of(api: httpx.Client, version_id: str) -> dict[str, Any]:
    return dict(
        api.get(f"/v1/appStoreVersions/{version_id}/appStoreVersionPhasedRelease").json()["data"] or {}
    )


def only_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    (error,) = response.json()["errors"]
    return dict(error)


@pytest.fixture
def releasing(start_simulator: StartSimulator) -> RunningSimulator:
    """Review in 0.1 s of wall time, processing for distribution 0.2 s."""
    return start_simulator(
        delays=Delays(review_wait_seconds=1800, review_seconds=1800, release_processing_seconds=7200)
    )


def test_a_manual_release_waits_for_the_developer_then_processes_and_replaces_the_live_version(
    releasing: RunningSimulator,
) -> None:
    simulator = releasing
    api = simulator.client()
    version_id = in_review(simulator, "MANUAL")
    early = only_error(request_release(api, version_id), 409)
    assert early["code"] == "STATE_ERROR"
    assert early["title"] == "The request cannot be fulfilled because of the state of another resource."
    assert "PENDING_DEVELOPER_RELEASE" in early["detail"]
    assert early["source"] == {"pointer": "/data/relationships/appStoreVersion"}
    assert (
        wait_for(lambda: version_state(api, version_id), lambda s: s in SETTLED)
        == "PENDING_DEVELOPER_RELEASE"
    )
    submission = api.get(f"/v1/apps/{simulator.app_id}/reviewSubmissions").json()["data"][-1]
    assert submission["attributes"]["state"] == "COMPLETE"

    released = request_release(api, version_id)
    assert released.status_code == 201, released.text
    assert released.json()["data"]["type"] == "appStoreVersionReleaseRequests"
    assert version_state(api, version_id) == "PROCESSING_FOR_DISTRIBUTION"
    assert only_error(request_release(api, version_id), 409)["code"] == "STATE_ERROR"  # once only
    wait_for(lambda: version_state(api, version_id), lambda s: s == "READY_FOR_DISTRIBUTION")
    assert version_state(api, released_version_id(api, simulator.app_id)) == "REPLACED_WITH_NEW_VERSION"
    live = only_error(request_release(api, version_id), 409)
    assert "READY_FOR_DISTRIBUTION" in live["detail"]


def test_after_approval_goes_live_and_a_rejection_leaves_the_submission_with_unresolved_issues(
    start_simulator: StartSimulator,
) -> None:
    approved = start_simulator()
    api = approved.client()
    version_id = in_review(approved)
    assert (
        wait_for(lambda: version_state(api, version_id), lambda s: s in SETTLED) == "READY_FOR_DISTRIBUTION"
    )

    rejected = start_simulator()
    rejected.control.set_review_outcomes(review="UNRESOLVED_ISSUES")
    api = rejected.client()
    version_id = in_review(rejected, "MANUAL")
    assert wait_for(lambda: version_state(api, version_id), lambda s: s in SETTLED) == "REJECTED"
    submission = api.get(f"/v1/apps/{rejected.app_id}/reviewSubmissions").json()["data"][-1]
    assert submission["attributes"]["state"] == "UNRESOLVED_ISSUES"
    assert only_error(request_release(api, version_id), 409)["code"] == "STATE_ERROR"


def test_a_scheduled_release_waits_for_its_date_in_apple_time(simulator: RunningSimulator) -> None:
    # Review ends one Apple hour after submission (0.1 s); the date is 20 Apple hours after the version was made.
    api = simulator.client()
    version_id = new_version(simulator, "SCHEDULED")
    created = api.get(f"/v1/appStoreVersions/{version_id}").json()["data"]["attributes"]["createdDate"]
    date = (datetime.fromisoformat(created) + timedelta(hours=20)).isoformat()
    patched = api.patch(
        f"/v1/appStoreVersions/{version_id}",
        json=body("appStoreVersions", {"earliestReleaseDate": date}, id_=version_id),
    )
    assert patched.status_code == 200, patched.text
    started = time.monotonic()
    submit(simulator)
    assert (
        wait_for(lambda: version_state(api, version_id), lambda s: s in SETTLED)
        == "PENDING_DEVELOPER_RELEASE"
    )
    wait_for(lambda: version_state(api, version_id), lambda s: s == "READY_FOR_DISTRIBUTION", timeout=8)
    assert time.monotonic() - started >= 1.5  # not before the date (2 s of wall time after creation)


@pytest.fixture
def daily(start_simulator: StartSimulator) -> RunningSimulator:
    """An Apple day in 0.1 s of wall time; review takes a day (waiting) and a day."""
    return start_simulator(
        time_scale=DAY_AT,
        delays=Delays(review_wait_seconds=DAY, review_seconds=DAY, release_processing_seconds=3600),
    )


def test_a_phased_release_is_made_before_release_and_refused_as_apple_refuses(
    daily: RunningSimulator,
) -> None:
    api = daily.client()
    live = released_version_id(api, daily.app_id)
    refused = only_error(create_phased(api, live), 409)
    assert refused["code"] == "STATE_ERROR"
    assert "READY_FOR_DISTRIBUTION" in refused["detail"]
    version_id = daily.control.add_version(
        daily.app_id, VersionSpec(version_string="1.0", state="PREPARE_FOR_SUBMISSION")
    )
    assert phased_of(api, version_id) == {}  # Apple's {"data": null}
    paused = only_error(create_phased(api, version_id, "PAUSED"), 409)
    assert paused["source"] == {"pointer": "/data/attributes/phasedReleaseState"}
    bad_enum = create_phased(api, version_id, "STARTED")
    assert bad_enum.status_code == 409
    assert bad_enum.json()["errors"][0]["code"] == "ENTITY_ERROR.ATTRIBUTE.INVALID"

    made = create_phased(api, version_id, state=None)
    assert made.status_code == 201, made.text
    attributes = made.json()["data"]["attributes"]
    assert attributes == {
        "phasedReleaseState": "INACTIVE",
        "startDate": None,
        "totalPauseDuration": 0,
        "currentDayNumber": None,
    }
    phased_id = made.json()["data"]["id"]
    assert only_error(create_phased(api, version_id), 409)["code"] == "ENTITY_ERROR"  # one per version
    not_started = only_error(set_phase(api, phased_id, "PAUSED"), 409)
    assert "has not started" in not_started["detail"]
    assert set_phase(api, phased_id, "ACTIVE").json()["data"]["attributes"]["phasedReleaseState"] == "ACTIVE"
    assert api.delete(f"/v1/appStoreVersionPhasedReleases/{phased_id}").status_code == 204
    assert phased_of(api, version_id) == {}


def test_a_phased_release_counts_seven_active_days_pauses_and_completes(daily: RunningSimulator) -> None:
    api = daily.client()
    version_id = in_review(daily)  # AFTER_APPROVAL: live once approved
    phased_id = create_phased(api, version_id).json()["data"]["id"]
    wait_for(lambda: version_state(api, version_id), lambda s: s == "READY_FOR_DISTRIBUTION")
    started = phased_of(api, version_id)["attributes"]
    assert started["phasedReleaseState"] == "ACTIVE"
    assert started["startDate"] is not None
    assert started["currentDayNumber"] in {1, 2}
    assert only_error(set_phase(api, phased_id, "INACTIVE"), 409)["code"] == "STATE_ERROR"
    assert (
        only_error(api.delete(f"/v1/appStoreVersionPhasedReleases/{phased_id}"), 409)["code"] == "STATE_ERROR"
    )

    pause = set_phase(api, phased_id, "PAUSED")
    assert pause.status_code == 200, pause.text
    day_at_pause = pause.json()["data"]["attributes"]["currentDayNumber"]
    assert set_phase(api, phased_id, "PAUSED").status_code == 200  # pausing again changes nothing
    held = wait_for(lambda: phased_of(api, version_id)["attributes"], lambda a: a["totalPauseDuration"] >= 2)
    assert held["currentDayNumber"] == day_at_pause
    assert held["phasedReleaseState"] == "PAUSED"
    assert set_phase(api, phased_id, "ACTIVE").json()["data"]["attributes"]["phasedReleaseState"] == "ACTIVE"
    moving = wait_for(
        lambda: phased_of(api, version_id)["attributes"], lambda a: a["currentDayNumber"] > day_at_pause
    )
    assert moving["totalPauseDuration"] >= 2
    done = wait_for(
        lambda: phased_of(api, version_id)["attributes"],
        lambda a: a["phasedReleaseState"] == "COMPLETE",
        timeout=8,
    )
    assert done["currentDayNumber"] == 7
    assert only_error(set_phase(api, phased_id, "PAUSED"), 409)["code"] == "STATE_ERROR"


def test_a_phased_release_completes_at_once_on_request(daily: RunningSimulator) -> None:
    api = daily.client()
    version_id = in_review(daily, "MANUAL")
    phased_id = create_phased(api, version_id, "ACTIVE").json()["data"]["id"]
    wait_for(lambda: version_state(api, version_id), lambda s: s == "PENDING_DEVELOPER_RELEASE")
    assert phased_of(api, version_id)["attributes"]["startDate"] is None  # not before the release
    assert request_release(api, version_id).status_code == 201
    wait_for(lambda: phased_of(api, version_id)["attributes"], lambda a: a["startDate"] is not None)
    completed = set_phase(api, phased_id, "COMPLETE")
    assert completed.status_code == 200, completed.text
    assert completed.json()["data"]["attributes"]["phasedReleaseState"] == "COMPLETE"
    assert phased_of(api, version_id)["attributes"]["phasedReleaseState"] == "COMPLETE"


def test_deleting_a_version_removes_its_phased_release(simulator: RunningSimulator) -> None:
    api = simulator.client()
    version_id = new_version(simulator)
    phased_id = create_phased(api, version_id).json()["data"]["id"]
    assert api.delete(f"/v1/appStoreVersions/{version_id}").status_code == 204
    gone = only_error(set_phase(api, phased_id, "ACTIVE"), 404)
    assert gone["code"] == "NOT_FOUND"
    assert "appStoreVersionPhasedReleases" not in {
        type_ for type_, items in simulator.control.state().items() if items
    }
