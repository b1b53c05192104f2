"""App Store versions, localizations, review details, review submissions and their items.

Requests are held to Apple's per-request rules (listing_rules.py: limits, URLs, locales, the What's New lock on a
first version, edits locked outside the editable states except promotionalText); adding a version to a submission
and submitting it are held to what Apple checks before review (review_rules.py).
"""

from __future__ import annotations

from ascflow.simulator.documents import ApiError, Errors, Json
from ascflow.simulator.listing_rules import attribute_locked, check_attributes, check_locale, check_update
from ascflow.simulator.listing_state import (
    follow_versions,
    is_first_version,
    remove_screenshots,
    version_created,
)
from ascflow.simulator.review_rules import review_problems
from ascflow.simulator.routes.reads import one
from ascflow.simulator.routing import Call, Reply, created, handles, no_content, ok
from ascflow.simulator.state import (
    SETTLED_VERSION_STATES,
    Resource,
    Team,
    add_version,
)

VERSION_ATTRIBUTES = (
    "versionString",
    "copyright",
    "releaseType",
    "earliestReleaseDate",
    "downloadable",
    "reviewType",
)
LOCALIZATION_ATTRIBUTES = (
    "description",
    "keywords",
    "marketingUrl",
    "promotionalText",
    "supportUrl",
    "whatsNew",
)
REVIEW_DETAIL_ATTRIBUTES = (
    "contactFirstName", "contactLastName", "contactPhone", "contactEmail", "demoAccountName",
    "demoAccountPassword", "demoAccountRequired", "notes",
)  # fmt: skip
EDITABLE_VERSION_STATES = {
    "PREPARE_FOR_SUBMISSION", "DEVELOPER_REJECTED", "REJECTED", "METADATA_REJECTED", "INVALID_BINARY",
}  # fmt: skip
OPEN_SUBMISSION_STATES = {
    "READY_FOR_REVIEW",
    "WAITING_FOR_REVIEW",
    "IN_REVIEW",
    "UNRESOLVED_ISSUES",
    "CANCELING",
}


def attach_build(team: Team, version: Resource, build_id: str | None) -> None:
    if build_id is None:
        version.relationships["build"] = None
        return
    build = team.get("builds", build_id)
    if build is None:
        raise ApiError(Errors.relationship_invalid(f"build with id '{build_id}' cannot be found", "build"))
    if build.attributes["processingState"] != "VALID":
        raise ApiError(Errors.build_not_processed())
    version.relationships["build"] = ("builds", build.id)


@handles("POST", "/v1/appStoreVersions")
def create_version(call: Call) -> Reply:
    team = call.team
    app = call.require_related("app", "apps")
    check_attributes(call)
    platform = call.attributes["platform"]
    for version in team.related(app, "appStoreVersions"):
        if version.attributes["platform"] == platform and version.attributes["appVersionState"] not in (
            SETTLED_VERSION_STATES
        ):
            raise ApiError(
                Errors.relationship_invalid(
                    "You cannot create a new version of the App in the current state.", "app"
                )
            )
        if (
            version.attributes["platform"] == platform
            and version.attributes["versionString"] == (call.attributes["versionString"])
        ):
            raise ApiError(
                Errors.attribute_invalid(
                    "/data/attributes/versionString",
                    f"You cannot use the version number '{call.attributes['versionString']}': it was used before.",
                )
            )
    extra = call.given(name for name in VERSION_ATTRIBUTES if name != "versionString")
    build_id = call.related_id("build")
    version = add_version(
        team, app, platform, call.attributes["versionString"], "PREPARE_FOR_SUBMISSION", extra
    )
    try:
        attach_build(team, version, build_id)
    except ApiError:
        for localization in team.related(version, "appStoreVersionLocalizations"):
            team.remove("appStoreVersionLocalizations", localization.id)
        team.remove("appStoreVersions", version.id)
        raise
    version_created(team, app, version)
    return created(call, version)


def editable(version: Resource) -> None:
    if version.attributes["appVersionState"] not in EDITABLE_VERSION_STATES:
        raise ApiError(
            Errors.entity_error(
                f"The version cannot be changed in its current state ({version.attributes['appVersionState']})."
            )
        )


@handles("PATCH", "/v1/appStoreVersions/{id}")
def update_version(call: Call) -> Reply:
    version = one(call, "appStoreVersions")
    check_update(call)
    editable(version)
    if call.relationship("build") is not None:
        attach_build(call.team, version, call.related_id("build"))
    version.attributes.update(call.given(VERSION_ATTRIBUTES))
    return ok(call, version)


@handles("DELETE", "/v1/appStoreVersions/{id}")
def delete_version(call: Call) -> Reply:
    version = one(call, "appStoreVersions")
    if version.attributes["appVersionState"] != "PREPARE_FOR_SUBMISSION":
        raise ApiError(Errors.entity_error("Only a version in PREPARE_FOR_SUBMISSION can be deleted."))
    for localization in call.team.related(version, "appStoreVersionLocalizations"):
        remove_screenshots(call.team, localization)
        call.team.remove(localization.type, localization.id)
    for child in call.team.related(version, "appStoreReviewDetail") + call.team.related(
        version, "appStoreVersionPhasedRelease"
    ):
        call.team.remove(child.type, child.id)
    call.team.remove("appStoreVersions", version.id)
    return no_content()


@handles("PATCH", "/v1/appStoreVersions/{id}/relationships/build")
def set_version_build(call: Call) -> Reply:
    version = one(call, "appStoreVersions")
    editable(version)
    linkage = call.body.get("data")
    attach_build(call.team, version, linkage.get("id") if isinstance(linkage, dict) else None)
    return no_content()


@handles("POST", "/v1/appStoreVersionLocalizations")
def create_localization(call: Call) -> Reply:
    team = call.team
    version = call.require_related("appStoreVersion", "appStoreVersions")
    check_attributes(call)
    editable(version)
    locale = call.attributes["locale"]
    check_locale(locale)
    whats_new_allowed(team, version, call.attributes)
    if any(
        loc.attributes["locale"] == locale for loc in team.related(version, "appStoreVersionLocalizations")
    ):
        raise ApiError(
            Errors.entity_error(
                f"The locale '{locale}' already exists for this version. Update the existing localization.",
                "/data/attributes/locale",
            )
        )
    attributes = {"locale": locale} | call.given(LOCALIZATION_ATTRIBUTES)
    localization = team.add(
        Resource(
            "appStoreVersionLocalizations",
            team.new_id("appStoreVersionLocalizations"),
            attributes,
            {"appStoreVersion": ("appStoreVersions", version.id)},
        )
    )
    return created(call, localization)


@handles("PATCH", "/v1/appStoreVersionLocalizations/{id}")
def update_localization(call: Call) -> Reply:
    localization = one(call, "appStoreVersionLocalizations")
    check_update(call)
    version = call.team.related(localization, "appStoreVersion")[0]
    if version.attributes["appVersionState"] not in EDITABLE_VERSION_STATES:
        # Apple lets promotional text change at any time (reference §7).
        for name in call.attributes:
            if name != "promotionalText":
                raise ApiError(attribute_locked(name))
    whats_new_allowed(call.team, version, call.attributes)
    localization.attributes.update(call.given(LOCALIZATION_ATTRIBUTES))
    return ok(call, localization)


def whats_new_allowed(team: Team, version: Resource, attributes: Json) -> None:
    """Apple refuses What's New on the app's first version: there is nothing new to tell (reference §7)."""
    if attributes.get("whatsNew") is not None and is_first_version(team, version):
        raise ApiError(attribute_locked("whatsNew"))


@handles("DELETE", "/v1/appStoreVersionLocalizations/{id}")
def delete_localization(call: Call) -> Reply:
    localization = one(call, "appStoreVersionLocalizations")
    editable(call.team.related(localization, "appStoreVersion")[0])
    remove_screenshots(call.team, localization)
    call.team.remove("appStoreVersionLocalizations", localization.id)
    return no_content()


@handles("POST", "/v1/appStoreReviewDetails")
def create_review_detail(call: Call) -> Reply:
    team = call.team
    version = call.require_related("appStoreVersion", "appStoreVersions")
    check_attributes(call)
    if team.related(version, "appStoreReviewDetail"):
        raise ApiError(
            Errors.entity_error(
                "The version already has a review detail. Update it instead.", "/data/relationships"
            )
        )
    attributes = call.given(REVIEW_DETAIL_ATTRIBUTES)
    detail = team.add(
        Resource(
            "appStoreReviewDetails",
            team.new_id("appStoreReviewDetails"),
            attributes,
            {"appStoreVersion": ("appStoreVersions", version.id)},
        )
    )
    return created(call, detail)


@handles("PATCH", "/v1/appStoreReviewDetails/{id}")
def update_review_detail(call: Call) -> Reply:
    detail = one(call, "appStoreReviewDetails")
    check_update(call)
    detail.attributes.update(call.given(REVIEW_DETAIL_ATTRIBUTES))
    return ok(call, detail)


@handles("POST", "/v1/reviewSubmissions")
def create_submission(call: Call) -> Reply:
    team = call.team
    app = call.require_related("app", "apps")
    platform = call.attributes.get("platform", "IOS")
    for submission in team.related(app, "reviewSubmissions"):
        if submission.attributes["state"] in OPEN_SUBMISSION_STATES:
            raise ApiError(
                # Apple's text (fastlane#21482).
                Errors.entity_error(
                    f"There is another reviewSubmissions with id {submission.id} still in progress.",
                    "/data/relationships/app",
                )
            )
    submission = team.add(
        Resource(
            "reviewSubmissions",
            team.new_id("reviewSubmissions"),
            {"platform": platform, "state": "READY_FOR_REVIEW"},
            {"app": ("apps", app.id)},
        )
    )
    return created(call, submission)


@handles("PATCH", "/v1/reviewSubmissions/{id}")
def update_submission(call: Call) -> Reply:
    team = call.team
    submission = one(call, "reviewSubmissions")
    state = submission.attributes["state"]
    if call.attributes.get("canceled"):
        if state not in {"WAITING_FOR_REVIEW", "READY_FOR_REVIEW", "UNRESOLVED_ISSUES"}:
            raise ApiError(Errors.entity_error(f"A submission in state {state} cannot be canceled."))
        submission.attributes["state"] = "CANCELING"
        submission.hidden["due"] = team.now() + 60
        version = team.version_of(submission)
        if version is not None:
            team.set_version_state(version, "DEVELOPER_REJECTED")
        follow_versions(team)
        return ok(call, submission)
    if call.attributes.get("submitted"):
        if state not in {"READY_FOR_REVIEW", "UNRESOLVED_ISSUES"}:
            raise ApiError(Errors.entity_error(f"A submission in state {state} cannot be submitted again."))
        if not team.items_of(submission):
            raise ApiError(
                Errors.entity_error("The review submission has no items: add an item before submitting.")
            )
        version = team.version_of(submission)
        if version is not None:
            refuse_if_incomplete(team, version)
        submission.attributes["submittedDate"] = team.now_iso()
        submission.attributes["state"] = "WAITING_FOR_REVIEW"
        submission.hidden["due"] = team.now() + team.scenario.delays.review_wait_seconds
        for item in team.items_of(submission):
            item.attributes["state"] = "READY_FOR_REVIEW"
        version = team.version_of(submission)
        if version is not None:
            team.set_version_state(version, "WAITING_FOR_REVIEW")
    follow_versions(team)
    return ok(call, submission)


def refuse_if_incomplete(team: Team, version: Resource) -> None:
    """Apple's single 409 listing, per resource, everything that keeps the version from review."""
    problems = review_problems(team, version)
    if problems:
        raise ApiError(
            Errors.state_invalid(f"appStoreVersions with id '{version.id}' is not in valid state.", problems)
        )


@handles("POST", "/v1/reviewSubmissionItems")
def add_item(call: Call) -> Reply:
    team = call.team
    submission = call.require_related("reviewSubmission", "reviewSubmissions")
    if submission.attributes["state"] not in {"READY_FOR_REVIEW", "UNRESOLVED_ISSUES"}:
        raise ApiError(
            Errors.entity_error(
                f"Items cannot be added to a submission in state {submission.attributes['state']}."
            )
        )
    version = call.require_related("appStoreVersion", "appStoreVersions")
    for item in team.items_of(submission):
        if item.relationships.get("appStoreVersion") == ("appStoreVersions", version.id):
            raise ApiError(Errors.entity_error("The version is already an item of this submission."))
    builds = team.related(version, "build")
    if builds and builds[0].attributes["processingState"] != "VALID":
        raise ApiError(Errors.build_not_processed())
    refuse_if_incomplete(team, version)
    item = team.add(
        Resource(
            "reviewSubmissionItems",
            team.new_id("reviewSubmissionItems"),
            {"state": "READY_FOR_REVIEW"},
            {
                "reviewSubmission": ("reviewSubmissions", submission.id),
                "appStoreVersion": ("appStoreVersions", version.id),
            },
        )
    )
    submission.relationships["appStoreVersionForReview"] = ("appStoreVersions", version.id)
    return created(call, item)


@handles("DELETE", "/v1/reviewSubmissionItems/{id}")
def remove_item(call: Call) -> Reply:
    item = call.find("reviewSubmissionItems")
    call.team.remove("reviewSubmissionItems", item.id)
    return no_content()
