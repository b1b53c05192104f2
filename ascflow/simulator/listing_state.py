"""The store listing Apple keeps per app: app infos, their localizations, age rating, screenshots, price, availability.

What Apple creates by itself is created here: with the app record its appInfo (`PREPARE_FOR_SUBMISSION`), the
primary-locale appInfoLocalization carrying the app's name and an unanswered ageRatingDeclaration (reference §3,
§4.1: there is no POST for either); with a new version on a released app a new editable appInfo and the previous
version's screenshots (GUESS: ASC's UI carries them over). An app seeded with a released version was approved
once, so it is seeded with a complete listing (GUESS values: category UTILITIES, every age-rating answer NONE or
false, free in USA, available everywhere, one screenshot per released version), and an update needs only What's
New. App Privacy has no API (§11): it is a fact on the app that only the control API sets.
"""

from __future__ import annotations

from typing import Any

from ascflow.simulator.listing_catalog import (
    ALL_PLATFORMS,
    IOS_ONLY_CATEGORIES,
    SUBCATEGORIES,
    TERRITORIES,
    TOP_CATEGORIES,
    age_rating_questions,
    customer_price,
    price_point_id,
)
from ascflow.simulator.state import PROCESSES, RELEASED_VERSION_STATES, REVERSE, SEEDERS, Resource, Team

REVERSE.update(
    {
        ("apps", "appInfos"): ("appInfos", "app"),
        ("apps", "appPriceSchedule"): ("appPriceSchedules", "app"),
        ("apps", "appAvailabilityV2"): ("appAvailabilities", "app"),
        ("apps", "appEncryptionDeclarations"): ("appEncryptionDeclarations", "app"),
        ("appInfos", "appInfoLocalizations"): ("appInfoLocalizations", "appInfo"),
        ("appCategories", "subcategories"): ("appCategories", "parent"),
        ("appStoreVersionLocalizations", "appScreenshotSets"): (
            "appScreenshotSets",
            "appStoreVersionLocalization",
        ),
        ("appEncryptionDeclarations", "builds"): ("builds", "appEncryptionDeclaration"),
    }
)

# Answers that may stay null (OPTIONAL_ANSWERS): not Made for Kids, no override, no info URL.
FREQUENCY_ANSWERS, BOOLEAN_ANSWERS, OPTIONAL_ANSWERS = age_rating_questions()
CATEGORY_RELATIONSHIPS = (
    "primaryCategory", "primarySubcategoryOne", "primarySubcategoryTwo", "secondaryCategory",
    "secondarySubcategoryOne", "secondarySubcategoryTwo",
)  # fmt: skip
# fastlane's App#fetch_edit_app_info: the appInfo still open to edits (reference §2.1).
EDITABLE_APP_INFO_STATES = {"PREPARE_FOR_SUBMISSION", "DEVELOPER_REJECTED", "REJECTED", "WAITING_FOR_REVIEW"}
# The state of the appInfo that goes with the app's newest version, by that version's state (GUESS: the spec's
# AppInfo states mirror the version's; after release the older live appInfo is REPLACED_WITH_NEW_INFO).
APP_INFO_STATE = {
    "PREPARE_FOR_SUBMISSION": "PREPARE_FOR_SUBMISSION", "READY_FOR_REVIEW": "READY_FOR_REVIEW",
    "WAITING_FOR_REVIEW": "WAITING_FOR_REVIEW", "IN_REVIEW": "IN_REVIEW", "REJECTED": "REJECTED",
    "METADATA_REJECTED": "REJECTED", "DEVELOPER_REJECTED": "DEVELOPER_REJECTED",
    "PENDING_DEVELOPER_RELEASE": "PENDING_RELEASE", "PENDING_APPLE_RELEASE": "PENDING_RELEASE",
    "READY_FOR_DISTRIBUTION": "READY_FOR_DISTRIBUTION", "ACCEPTED": "ACCEPTED",
}  # fmt: skip
SCREENSHOT_PROCESSING_SECONDS = 5.0  # Apple seconds from commit to COMPLETE or FAILED (GUESS)


def seed_listing(team: Team) -> None:
    """Categories, territories, and each seeded app's listing (called once the scenario's apps exist)."""
    for category in TOP_CATEGORIES:
        platforms = ["IOS"] if category in IOS_ONLY_CATEGORIES else ALL_PLATFORMS
        team.add(Resource("appCategories", category, {"platforms": platforms}, {"parent": None}))
        for sub in SUBCATEGORIES.get(category, []):
            parent = ("appCategories", category)
            team.add(
                Resource("appCategories", f"{category}_{sub}", {"platforms": platforms}, {"parent": parent})
            )
    for territory, currency, _ in TERRITORIES:
        team.add(Resource("territories", territory, {"currency": currency}))
    published = {spec.bundle_id: spec.app_privacy_published for spec in team.scenario.apps}
    for app in team.all("apps"):
        seed_app_listing(team, app, published.get(app.attributes["bundleId"], False))


def seed_app_listing(team: Team, app: Resource, app_privacy_published: bool) -> None:
    """What Apple holds for an app record: a new app's bare listing, or a released app's complete one."""
    versions = team.related(app, "appStoreVersions")
    released = any(v.attributes["appVersionState"] in RELEASED_VERSION_STATES for v in versions)
    app.hidden["appPrivacyPublished"] = released or app_privacy_published
    if released:
        _seed_released_listing(team, app, versions)
    else:
        app.attributes["contentRightsDeclaration"] = None  # a new app has not declared it yet
        add_app_info(team, app, "PREPARE_FOR_SUBMISSION")


SEEDERS.append(seed_listing)


def follow_versions(team: Team, now: float | None = None) -> None:
    """The newest appInfo takes the state of the app's newest version; a release replaces the old live one."""
    for app in team.all("apps"):
        infos = team.related(app, "appInfos")
        versions = team.related(app, "appStoreVersions")
        if not infos or not versions:
            continue
        wanted = APP_INFO_STATE.get(versions[-1].attributes["appVersionState"])
        current = infos[-1]
        # A live appInfo stays live: a new version edits a copy of it (copy_app_info).
        if wanted is None or current.attributes["state"] in {
            wanted,
            "READY_FOR_DISTRIBUTION",
            "REPLACED_WITH_NEW_INFO",
        }:
            continue
        current.attributes["state"] = wanted
        if wanted == "READY_FOR_DISTRIBUTION":
            for older in infos[:-1]:
                if older.attributes["state"] == "READY_FOR_DISTRIBUTION":
                    older.attributes["state"] = "REPLACED_WITH_NEW_INFO"


PROCESSES.append(follow_versions)


def add_app_info(team: Team, app: Resource, state: str) -> Resource:
    """An appInfo with its age rating declaration (unanswered) and the primary-locale localization."""
    declaration = team.add(
        Resource(
            "ageRatingDeclarations",
            team.new_id("ageRatingDeclarations"),
            dict.fromkeys(FREQUENCY_ANSWERS + BOOLEAN_ANSWERS + OPTIONAL_ANSWERS),
        )
    )
    info = team.add(
        Resource(
            "appInfos",
            team.new_id("appInfos"),
            {"state": state},
            {"app": ("apps", app.id), "ageRatingDeclaration": ("ageRatingDeclarations", declaration.id)}
            | dict.fromkeys(CATEGORY_RELATIONSHIPS),
        )
    )
    declaration.hidden["appInfo"] = info.id
    add_app_info_localization(team, info, app.attributes["primaryLocale"], {"name": app.attributes["name"]})
    return info


def add_app_info_localization(
    team: Team, info: Resource, locale: str, attributes: dict[str, Any]
) -> Resource:
    values = dict.fromkeys(("name", "subtitle", "privacyPolicyUrl", "privacyChoicesUrl", "privacyPolicyText"))
    return team.add(
        Resource(
            "appInfoLocalizations",
            team.new_id("appInfoLocalizations"),
            {"locale": locale} | values | attributes,
            {"appInfo": ("appInfos", info.id)},
        )
    )


def _seed_released_listing(team: Team, app: Resource, versions: list[Resource]) -> None:
    info = add_app_info(team, app, "READY_FOR_DISTRIBUTION")
    info.relationships["primaryCategory"] = ("appCategories", "UTILITIES")
    age_rating(team, info).attributes.update(
        dict.fromkeys(FREQUENCY_ANSWERS, "NONE") | dict.fromkeys(BOOLEAN_ANSWERS, False)
    )
    for localization in team.related(info, "appInfoLocalizations"):
        localization.attributes["privacyPolicyUrl"] = "https://example.com/privacy"
    schedule = team.add(
        Resource(
            "appPriceSchedules",
            app.id,
            {},
            {"app": ("apps", app.id), "baseTerritory": ("territories", "USA"), "automaticPrices": []},
        )
    )
    free = team.add(price_point(app.id, "USA", 0))
    price = team.add(
        Resource(
            "appPrices",
            team.new_id("appPrices"),
            {"manual": True, "startDate": None, "endDate": None},
            {
                "appPricePoint": ("appPricePoints", free.id),
                "territory": ("territories", "USA"),
            },
        )
    )
    schedule.relationships["manualPrices"] = [("appPrices", price.id)]
    add_availability(team, app, True, {territory: {"available": True} for territory, _, _ in TERRITORIES})
    for version in versions:
        version.attributes["copyright"] = (
            version.attributes.get("copyright") or f"2025 {team.scenario.team_name}"
        )
        for localization in team.related(version, "appStoreVersionLocalizations"):
            localization.attributes.update(
                description=localization.attributes.get("description") or f"{app.attributes['name']}.",
                keywords=localization.attributes.get("keywords") or "app,tools",
                supportUrl=localization.attributes.get("supportUrl") or "https://example.com/support",
            )
            screenshots = add_screenshot_set(team, localization, "APP_IPHONE_67")
            shot = add_screenshot(team, screenshots, "seeded.png", 0, [])
            shot.attributes["assetDeliveryState"]["state"] = "COMPLETE"
            shot.attributes["imageAsset"] = {"templateUrl": "", "width": 1320, "height": 2868}
        if version.attributes["appVersionState"] not in RELEASED_VERSION_STATES:
            copy_app_info(team, app)


def price_point(app_id: str, territory: str, index: int) -> Resource:
    """A price point as Apple lists it (made on request: only the ones prices use are kept)."""
    price, proceeds = customer_price(territory, index)
    return Resource(
        "appPricePoints",
        price_point_id(app_id, territory, index),
        {"customerPrice": price, "proceeds": proceeds},
        {"app": ("apps", app_id), "territory": ("territories", territory)},
    )


def add_availability(
    team: Team, app: Resource, in_new_territories: bool, listed: dict[str, dict[str, Any]]
) -> Resource:
    """Availability in every territory: the listed ones as given, the others not available (GUESS)."""
    refs = []
    for territory, _, _ in TERRITORIES:
        given = listed.get(territory, {"available": False})
        available = bool(given.get("available"))
        entry = team.add(
            Resource(
                "territoryAvailabilities",
                team.new_id("territoryAvailabilities"),
                {
                    "available": available,
                    "releaseDate": given.get("releaseDate"),
                    "preOrderEnabled": bool(given.get("preOrderEnabled")),
                    "contentStatuses": ["AVAILABLE"] if available else ["CANNOT_SELL"],
                },
                {"territory": ("territories", territory)},
            )
        )
        refs.append(("territoryAvailabilities", entry.id))
    return team.add(
        Resource(
            "appAvailabilities",
            app.id,
            {"availableInNewTerritories": in_new_territories},
            {"app": ("apps", app.id), "territoryAvailabilities": refs},
        )
    )


def add_screenshot_set(team: Team, localization: Resource, display_type: str) -> Resource:
    return team.add(
        Resource(
            "appScreenshotSets",
            team.new_id("appScreenshotSets"),
            {"screenshotDisplayType": display_type},
            {
                "appStoreVersionLocalization": ("appStoreVersionLocalizations", localization.id),
                "appScreenshots": [],
            },
        )
    )


def add_screenshot(
    team: Team,
    screenshot_set: Resource,
    file_name: str,
    size: int,
    operations: list[Any],
    id_: str | None = None,
) -> Resource:
    shot = team.add(
        Resource(
            "appScreenshots",
            id_ or team.new_id("appScreenshots"),
            {
                "fileSize": size,
                "fileName": file_name,
                "sourceFileChecksum": None,
                "imageAsset": None,
                "assetToken": f"{screenshot_set.id}/{file_name}",
                "assetType": "SCREENSHOT",
                "uploadOperations": operations,
                "assetDeliveryState": {"state": "AWAITING_UPLOAD", "errors": [], "warnings": []},
            },
            {"appScreenshotSet": ("appScreenshotSets", screenshot_set.id)},
            {"parts": {}},
        )
    )
    ordered = screenshot_set.relationships["appScreenshots"]
    if isinstance(ordered, list):
        ordered.append(("appScreenshots", shot.id))
    return shot


def remove_screenshots(team: Team, localization: Resource) -> None:
    """A localization's screenshot sets and screenshots go with it."""
    for screenshot_set in team.related(localization, "appScreenshotSets"):
        for shot in team.related(screenshot_set, "appScreenshots"):
            team.remove("appScreenshots", shot.id)
        team.remove("appScreenshotSets", screenshot_set.id)


def age_rating(team: Team, info: Resource) -> Resource:
    return team.related(info, "ageRatingDeclaration")[0]


def app_info_for_edit(team: Team, app: Resource) -> Resource:
    """The appInfo a submission checks: the editable one, else the live one (fastlane's selection rule)."""
    infos = team.related(app, "appInfos")
    editable = [i for i in infos if i.attributes["state"] in EDITABLE_APP_INFO_STATES]
    return (editable or infos)[-1]


def copy_app_info(team: Team, app: Resource) -> Resource:
    """A new version on a released app opens a new editable appInfo, a copy of the live one (reference §2.1)."""
    live = app_info_for_edit(team, app)
    if live.attributes["state"] in EDITABLE_APP_INFO_STATES:
        return live
    info = add_app_info(team, app, "PREPARE_FOR_SUBMISSION")
    for name in CATEGORY_RELATIONSHIPS:
        info.relationships[name] = live.relationships.get(name)
    age_rating(team, info).attributes.update(age_rating(team, live).attributes)
    for localization in team.related(info, "appInfoLocalizations"):
        team.remove("appInfoLocalizations", localization.id)
    for localization in team.related(live, "appInfoLocalizations"):
        add_app_info_localization(
            team, info, localization.attributes["locale"], dict(localization.attributes)
        )
    return info


def version_created(team: Team, app: Resource, version: Resource) -> None:
    """What Apple carries into a new version of a released app: an editable appInfo and the screenshots."""
    earlier = [
        v
        for v in team.related(app, "appStoreVersions")
        if v.id != version.id and v.attributes["platform"] == version.attributes["platform"]
    ]
    if not earlier:
        return
    copy_app_info(team, app)
    previous = {
        loc.attributes["locale"]: loc for loc in team.related(earlier[-1], "appStoreVersionLocalizations")
    }
    for localization in team.related(version, "appStoreVersionLocalizations"):
        source = previous.get(localization.attributes["locale"])
        for old_set in team.related(source, "appScreenshotSets") if source else []:
            new_set = add_screenshot_set(team, localization, old_set.attributes["screenshotDisplayType"])
            for old in team.related(old_set, "appScreenshots"):
                shot = add_screenshot(
                    team, new_set, old.attributes["fileName"], old.attributes["fileSize"], []
                )
                shot.attributes.update(
                    {k: v for k, v in old.attributes.items() if k not in {"uploadOperations", "assetToken"}}
                )
                shot.attributes["assetDeliveryState"] = dict(old.attributes["assetDeliveryState"])


def is_first_version(team: Team, version: Resource) -> bool:
    """No version of the app on this platform was ever released (fastlane counts versions the same way)."""
    app = team.related(version, "app")[0]
    return not any(
        v.attributes["appVersionState"] in RELEASED_VERSION_STATES
        for v in team.related(app, "appStoreVersions")
        if v.attributes["platform"] == version.attributes["platform"]
    )
