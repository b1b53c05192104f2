"""What Apple checks before a version may be reviewed, as the `meta.associatedErrors` of one 409.

Reference `first-release.md` §16b, submission level (9-15). Apple's own texts: the top-level error ("This resource
cannot be reviewed, please check associated errors to see why.", nickustinov/itsyconnect#67, fastlane#20100), the
missing-attribute form "You must provide a value for the attribute '<x>' with this request" (attested for whatsNew,
privacyPolicyText, usesNonExemptEncryption and used here for every missing attribute, GUESS for the others), the
screenshot text "App screenshot missing (...) - A screenshot with type ... is required but was not provided"
(codemagic cli-tools#85; GUESS: naming APP_IPHONE_67 today) and the App Privacy text (fastlane#17757).
GUESS: the keys (the path of the resource at fault), the nested codes of the non-attribute errors, the texts for
a missing relationship (category, price, availability, review detail), that only the primary locale needs
description, keywords and support URL (other locales fall back to it) while What's New is needed in every locale
of an update, that every non-optional age-rating answer must be given, and that a build whose app uses non-exempt
encryption needs a linked encryption declaration in any state.
"""

from __future__ import annotations

from collections.abc import Callable

from ascflow.simulator.documents import Errors, Json, error
from ascflow.simulator.listing_catalog import IPHONE_REQUIRED
from ascflow.simulator.listing_rules import attribute_locked
from ascflow.simulator.listing_state import (
    BOOLEAN_ANSWERS,
    FREQUENCY_ANSWERS,
    age_rating,
    app_info_for_edit,
    is_first_version,
)
from ascflow.simulator.state import Resource, Team

REQUIRED_CONTACT = ("contactFirstName", "contactLastName", "contactPhone", "contactEmail")
REQUIRED_TEXT = ("description", "keywords", "supportUrl")

Problems = dict[str, list[Json]]
Add = Callable[[Resource, Json], None]


def _missing(attribute: str) -> Json:
    return Errors.attribute_required(attribute)[1]


def _missing_relationship(relationship: str, what: str) -> Json:
    body = Errors.relationship_required(relationship)[1]
    body["detail"] = f"{body['detail']}: {what}"
    return body


def screenshot_missing(display_type: str) -> Json:
    short = display_type.removeprefix("APP_").replace("_", "").lower()
    return error(
        409,
        "ENTITY_ERROR.RELATIONSHIP.REQUIRED",
        f"App screenshot missing ({display_type}).",
        f"A screenshot with type {short} is required but was not provided",
    )[1]


def app_privacy_missing() -> Json:
    return error(
        409,
        "STATE_ERROR.APP_PRIVACY_NOT_PUBLISHED",
        "Answers to what data your app collects and how it's used are needed.",
        "You must have published answers to your app's data usages.",
    )[1]


def review_problems(team: Team, version: Resource) -> Problems:
    """Every reason Apple refuses to review `version`, keyed by the path of the resource at fault."""
    problems: Problems = {}

    def add(resource: Resource, problem: Json) -> None:
        problems.setdefault(f"/v1/{resource.type}/{resource.id}", []).append(problem)

    app = team.related(version, "app")[0]
    _build(team, version, app, add)
    if not version.attributes.get("copyright"):
        add(version, _missing("copyright"))
    if not version.attributes.get("releaseType"):
        add(version, _missing("releaseType"))
    first = is_first_version(team, version)
    primary = app.attributes["primaryLocale"]
    localizations = team.related(version, "appStoreVersionLocalizations")
    for localization in localizations:
        if first and localization.attributes.get("whatsNew"):
            add(localization, attribute_locked("whatsNew")[1])
        if not first and not localization.attributes.get("whatsNew"):
            add(localization, _missing("whatsNew"))
    main = next((loc for loc in localizations if loc.attributes["locale"] == primary), None)
    if main is None:
        add(version, _missing_relationship("appStoreVersionLocalizations", f"the primary locale {primary}"))
    else:
        for attribute in REQUIRED_TEXT:
            if not main.attributes.get(attribute):
                add(main, _missing(attribute))
        if not _has_iphone_screenshots(team, main):
            add(main, screenshot_missing(IPHONE_REQUIRED[0]))
    _app_info(team, app, primary, add)
    if not app.attributes.get("contentRightsDeclaration"):
        add(app, _missing("contentRightsDeclaration"))
    _price_and_availability(team, app, add)
    if not app.hidden.get("appPrivacyPublished"):
        add(app, app_privacy_missing())
    details = team.related(version, "appStoreReviewDetail")
    if not details:
        add(version, _missing_relationship("appStoreReviewDetail", "the App Review contact"))
    else:
        detail = details[0]
        for attribute in REQUIRED_CONTACT:
            if not detail.attributes.get(attribute):
                add(detail, _missing(attribute))
        if detail.attributes.get("demoAccountRequired"):
            for attribute in ("demoAccountName", "demoAccountPassword"):
                if not detail.attributes.get(attribute):
                    add(detail, _missing(attribute))
    return problems


def _build(team: Team, version: Resource, app: Resource, add: Add) -> None:
    builds = team.related(version, "build")
    if not builds:
        add(version, Errors.relationship_required("build")[1])
        return
    build = builds[0]
    if build.attributes.get("expired"):
        add(build, _missing_relationship("build", "the build has expired; attach a newer build"))
    uses = build.attributes.get("usesNonExemptEncryption")
    if uses is None:
        add(build, _missing("usesNonExemptEncryption"))
    elif uses and not team.related(build, "appEncryptionDeclaration"):
        add(build, _missing_relationship("appEncryptionDeclaration", "the build uses non-exempt encryption"))


def _has_iphone_screenshots(team: Team, localization: Resource) -> bool:
    for screenshot_set in team.related(localization, "appScreenshotSets"):
        if screenshot_set.attributes["screenshotDisplayType"] in IPHONE_REQUIRED and any(
            shot.attributes["assetDeliveryState"]["state"] == "COMPLETE"
            for shot in team.related(screenshot_set, "appScreenshots")
        ):
            return True
    return False


def _app_info(team: Team, app: Resource, primary: str, add: Add) -> None:
    info = app_info_for_edit(team, app)
    localization = next(
        (loc for loc in team.related(info, "appInfoLocalizations") if loc.attributes["locale"] == primary),
        None,
    )
    if localization is None:
        add(info, _missing_relationship("appInfoLocalizations", f"the primary locale {primary}"))
    else:
        for attribute in ("name", "privacyPolicyUrl"):
            if not localization.attributes.get(attribute):
                add(localization, _missing(attribute))
    if not team.related_refs(info, "primaryCategory"):
        add(info, _missing_relationship("primaryCategory", "choose the app's primary category"))
    declaration = age_rating(team, info)
    for attribute in FREQUENCY_ANSWERS + BOOLEAN_ANSWERS:
        if declaration.attributes.get(attribute) is None:
            add(declaration, _missing(attribute))


def _price_and_availability(team: Team, app: Resource, add: Add) -> None:
    schedules = team.related(app, "appPriceSchedule")
    if not schedules or not team.related(schedules[0], "manualPrices"):
        add(app, _missing_relationship("appPriceSchedule", "set the app's price"))
    availabilities = team.related(app, "appAvailabilityV2")
    if not availabilities or not any(
        t.attributes["available"] for t in team.related(availabilities[0], "territoryAvailabilities")
    ):
        add(
            app,
            _missing_relationship("appAvailabilityV2", "make the app available in at least one territory"),
        )
