"""Release control: a version's phased release and the developer's release request (release_state.py moves them
over Apple time; the README says where each rule comes from)."""

from __future__ import annotations

from ascflow.simulator.documents import ApiError, Errors
from ascflow.simulator.release_state import LIVE_STATES, complete, pause, release_requested, resume
from ascflow.simulator.routes.testflight import state_error
from ascflow.simulator.routing import Call, Reply, created, handles, no_content, ok
from ascflow.simulator.state import Resource

# PATCH target -> the states it may come from once the rollout has started (Apple: pause, resume, release to all).
TRANSITIONS = {
    "PAUSED": {"ACTIVE", "PAUSED"},
    "ACTIVE": {"PAUSED", "ACTIVE"},
    "COMPLETE": {"ACTIVE", "PAUSED", "COMPLETE"},
}
POINTER = "/data/attributes/phasedReleaseState"


@handles("POST", "/v1/appStoreVersionPhasedReleases")
def create_phased_release(call: Call) -> Reply:
    """One per version, made before the version is live; it starts when the version goes live (INACTIVE is what
    fastlane sends, recorded; ACTIVE is accepted and means the same before release, GUESS)."""
    team = call.team
    version = call.require_related("appStoreVersion", "appStoreVersions")
    existing = team.related(version, "appStoreVersionPhasedRelease")
    if existing:
        raise ApiError(
            Errors.entity_error(
                f"The version has a phased release already (appStoreVersionPhasedReleases with id '{existing[0].id}'): "
                "change it with PATCH.",
                "/data/relationships/appStoreVersion",
            )
        )
    if version.attributes["appVersionState"] in LIVE_STATES:
        raise ApiError(
            state_error(
                f"appStoreVersions with id '{version.id}' is {version.attributes['appVersionState']}: a phased "
                "release is set up before the version is released.",
                "/data/relationships/appStoreVersion",
            )
        )
    state = call.attributes.get("phasedReleaseState") or "INACTIVE"
    if state not in {"INACTIVE", "ACTIVE"}:
        raise ApiError(
            Errors.attribute_invalid(
                POINTER,
                f"A phased release cannot be created {state}: create it INACTIVE; it starts on release.",
            )
        )
    phased = team.add(
        Resource(
            "appStoreVersionPhasedReleases",
            team.new_id("appStoreVersionPhasedReleases"),
            {"phasedReleaseState": state, "totalPauseDuration": 0},
            {"appStoreVersion": ("appStoreVersions", version.id)},
        )
    )
    return created(call, phased)


@handles("PATCH", "/v1/appStoreVersionPhasedReleases/{id}")
def update_phased_release(call: Call) -> Reply:
    """Pause, resume or release to everyone a rollout that has started; before the release only INACTIVE and
    ACTIVE (GUESS); a completed rollout is final, and INACTIVE cannot come back (GUESS texts)."""
    phased = call.find("appStoreVersionPhasedReleases")
    if call.data.get("id") != call.ids[0]:
        raise ApiError(
            Errors.entity_error("The id in the request body does not match the id in the path.", "/data/id")
        )
    wanted = call.attributes.get("phasedReleaseState")
    if wanted is None:
        return ok(call, phased)
    current = phased.attributes["phasedReleaseState"]
    started = phased.hidden.get("start") is not None
    now = call.team.now()
    if not started:
        if wanted not in {"INACTIVE", "ACTIVE"}:
            raise ApiError(
                state_error(
                    f"The phased release has not started (the version is not released yet): it cannot be {wanted}.",
                    POINTER,
                )
            )
        phased.attributes["phasedReleaseState"] = wanted
        return ok(call, phased)
    if current not in TRANSITIONS.get(wanted, set()):
        raise ApiError(state_error(f"A phased release that is {current} cannot be set to {wanted}.", POINTER))
    if wanted == "PAUSED" and current == "ACTIVE":
        pause(phased, now)
    elif wanted == "ACTIVE" and current == "PAUSED":
        resume(phased, now)
    elif wanted == "COMPLETE" and current != "COMPLETE":
        complete(phased, now)
    return ok(call, phased)


@handles("DELETE", "/v1/appStoreVersionPhasedReleases/{id}")
def delete_phased_release(call: Call) -> Reply:
    """Only before the rollout starts (GUESS: a started one can only be completed)."""
    phased = call.find("appStoreVersionPhasedReleases")
    if phased.hidden.get("start") is not None:
        raise ApiError(
            state_error(
                "The phased release has started: it cannot be removed. Release to all users with "
                "phasedReleaseState COMPLETE instead."
            )
        )
    call.team.remove("appStoreVersionPhasedReleases", phased.id)
    return no_content()


@handles("POST", "/v1/appStoreVersionReleaseRequests")
def request_release(call: Call) -> Reply:
    """Only a version waiting for its developer can be released (reference §14; the 409's code and text GUESS)."""
    team = call.team
    version = call.require_related("appStoreVersion", "appStoreVersions")
    state = version.attributes["appVersionState"]
    if state != "PENDING_DEVELOPER_RELEASE":
        raise ApiError(
            state_error(
                f"appStoreVersions with id '{version.id}' is {state}: only a version in PENDING_DEVELOPER_RELEASE "
                "can be released.",
                "/data/relationships/appStoreVersion",
            )
        )
    release_requested(team, version)
    request = team.add(
        Resource(
            "appStoreVersionReleaseRequests",
            team.new_id("appStoreVersionReleaseRequests"),
            {},
            {"appStoreVersion": ("appStoreVersions", version.id)},
        )
    )
    return created(call, request)
