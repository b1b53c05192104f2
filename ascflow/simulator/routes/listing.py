"""The app-level listing: the app's own attributes, app infos and their localizations, categories, age rating,
and export-compliance (encryption) declarations.

Rules from the spec and reference `first-release.md` (§1-§4, §6); GUESS (see README "The store listing"): an
appInfo outside fastlane's editable states refuses edits, a primary category must be a top-level one and a
subcategory must sit under the category it goes with, the primary locale's localization cannot be deleted, a new
primary locale needs its appInfoLocalization first, and a new encryption declaration starts `CREATED`.
"""

from __future__ import annotations

import dataclasses

from ascflow.simulator.documents import ApiError, Errors
from ascflow.simulator.listing_rules import check_attributes, check_locale, check_update
from ascflow.simulator.listing_state import (
    CATEGORY_RELATIONSHIPS,
    EDITABLE_APP_INFO_STATES,
    add_app_info_localization,
    app_info_for_edit,
)
from ascflow.simulator.routes.reads import one, select
from ascflow.simulator.routing import Call, Reply, created, handles, no_content, ok
from ascflow.simulator.state import Resource, Team

APP_ATTRIBUTES = (
    "accessibilityUrl", "bundleId", "primaryLocale", "subscriptionStatusUrl", "subscriptionStatusUrlVersion",
    "subscriptionStatusUrlForSandbox", "subscriptionStatusUrlVersionForSandbox", "contentRightsDeclaration",
    "streamlinedPurchasingEnabled",
)  # fmt: skip
INFO_LOCALIZATION_ATTRIBUTES = (
    "name",
    "subtitle",
    "privacyPolicyUrl",
    "privacyChoicesUrl",
    "privacyPolicyText",
)
SUBCATEGORY_OF = {
    "primarySubcategoryOne": "primaryCategory",
    "primarySubcategoryTwo": "primaryCategory",
    "secondarySubcategoryOne": "secondaryCategory",
    "secondarySubcategoryTwo": "secondaryCategory",
}
ENCRYPTION_ATTRIBUTES = (
    "appDescription",
    "containsProprietaryCryptography",
    "containsThirdPartyCryptography",
    "availableOnFrenchStore",
)


def editable_info(info: Resource) -> None:
    state = info.attributes["state"]
    if state not in EDITABLE_APP_INFO_STATES:
        raise ApiError(
            Errors.entity_error(
                f"The appInfo cannot be changed in its current state ({state}): edit the appInfo in "
                "PREPARE_FOR_SUBMISSION (a new version opens one)."
            )
        )


def _info_of(team: Team, localization: Resource) -> Resource:
    return team.related(localization, "appInfo")[0]


@handles("PATCH", "/v1/apps/{id}")
def update_app(call: Call) -> Reply:
    app = one(call, "apps")
    check_update(call)
    locale = call.attributes.get("primaryLocale")
    if locale is not None:
        check_locale(locale)
        info = app_info_for_edit(call.team, app)
        if not any(
            loc.attributes["locale"] == locale for loc in call.team.related(info, "appInfoLocalizations")
        ):
            raise ApiError(
                Errors.attribute_invalid(
                    "/data/attributes/primaryLocale",
                    f"The app has no appInfoLocalization for '{locale}': create it before making it primary.",
                )
            )
    app.attributes.update(call.given(APP_ATTRIBUTES))
    return ok(call, app)


@handles("PATCH", "/v1/appInfos/{id}")
def update_app_info(call: Call) -> Reply:
    team = call.team
    info = one(call, "appInfos")
    check_update(call)
    editable_info(info)
    given = {name: call.relationship(name) for name in CATEGORY_RELATIONSHIPS if name in _relationships(call)}
    result = {name: info.relationships.get(name) for name in CATEGORY_RELATIONSHIPS}
    for name, linkage in given.items():
        if linkage is None:
            result[name] = None
            continue
        if team.get("appCategories", linkage["id"]) is None:
            raise ApiError(
                Errors.relationship_invalid(f"appCategory with id '{linkage['id']}' cannot be found", name)
            )
        result[name] = ("appCategories", linkage["id"])
    for name in given:
        ref = result[name]
        if ref is None:
            continue
        parent = team.get(*ref)
        parent_ref = parent.relationships.get("parent") if parent else None
        owner = SUBCATEGORY_OF.get(name)
        if owner is None and parent_ref is not None:
            raise ApiError(
                Errors.relationship_invalid(f"'{ref[1]}' is a subcategory: choose a top-level category", name)
            )
        if owner is not None and parent_ref != result[owner]:
            raise ApiError(
                Errors.relationship_invalid(
                    f"'{ref[1]}' is not a subcategory of the {owner} ({(result[owner] or ('', 'none'))[1]})",
                    name,
                )
            )
    info.relationships.update(result)
    return ok(call, info)


def _relationships(call: Call) -> dict[str, object]:
    relationships: dict[str, object] = call.data.get("relationships") or {}
    return relationships


@handles("POST", "/v1/appInfoLocalizations")
def create_info_localization(call: Call) -> Reply:
    team = call.team
    info = call.require_related("appInfo", "appInfos")
    check_attributes(call)
    editable_info(info)
    locale = call.attributes["locale"]
    check_locale(locale)
    if any(loc.attributes["locale"] == locale for loc in team.related(info, "appInfoLocalizations")):
        raise ApiError(
            Errors.entity_error(
                f"The locale '{locale}' already exists for this appInfo. Update the existing localization.",
                "/data/attributes/locale",
            )
        )
    localization = add_app_info_localization(team, info, locale, call.given(INFO_LOCALIZATION_ATTRIBUTES))
    return created(call, localization)


@handles("PATCH", "/v1/appInfoLocalizations/{id}")
def update_info_localization(call: Call) -> Reply:
    localization = one(call, "appInfoLocalizations")
    check_update(call)
    editable_info(_info_of(call.team, localization))
    localization.attributes.update(call.given(INFO_LOCALIZATION_ATTRIBUTES))
    return ok(call, localization)


@handles("DELETE", "/v1/appInfoLocalizations/{id}")
def delete_info_localization(call: Call) -> Reply:
    team = call.team
    localization = one(call, "appInfoLocalizations")
    info = _info_of(team, localization)
    editable_info(info)
    app = team.related(info, "app")[0]
    if localization.attributes["locale"] == app.attributes["primaryLocale"]:
        raise ApiError(
            Errors.entity_error(
                "The localization of the app's primary locale cannot be deleted: change primaryLocale first."
            )
        )
    team.remove("appInfoLocalizations", localization.id)
    return no_content()


@handles("GET", "/v1/appCategories")
def list_categories(call: Call) -> Reply:
    items = call.team.all("appCategories")
    wanted = call.query.get("exists[parent]")
    if wanted is not None:
        # exists[] on a relationship: reads.select knows attributes only.
        items = [c for c in items if (c.relationships.get("parent") is not None) == (wanted == "true")]
        call = dataclasses.replace(call, query={k: v for k, v in call.query.items() if k != "exists[parent]"})
    return Reply(200, call.render.collection(select(call, items)))


@handles("PATCH", "/v1/ageRatingDeclarations/{id}")
def update_age_rating(call: Call) -> Reply:
    declaration = one(call, "ageRatingDeclarations")
    check_update(call)
    info = call.team.get("appInfos", declaration.hidden["appInfo"])
    if info is not None:
        editable_info(info)
    declaration.attributes.update(call.attributes)
    return ok(call, declaration)


@handles("POST", "/v1/appEncryptionDeclarations")
def create_encryption_declaration(call: Call) -> Reply:
    team = call.team
    app = call.require_related("app", "apps")
    check_attributes(call)
    declaration = team.add(
        Resource(
            "appEncryptionDeclarations",
            team.new_id("appEncryptionDeclarations"),
            call.given(ENCRYPTION_ATTRIBUTES)
            | {
                "appEncryptionDeclarationState": "CREATED",
                "exempt": False,
                "platform": "IOS",
                "createdDate": team.now_iso(),
            },
            {"app": ("apps", app.id)},
        )
    )
    return created(call, declaration)


@handles("POST", "/v1/appEncryptionDeclarations/{id}/relationships/builds")
def link_builds(call: Call) -> Reply:
    declaration = one(call, "appEncryptionDeclarations")
    for linkage in call.body["data"]:
        build = call.team.get("builds", linkage["id"])
        if build is None:
            raise ApiError(
                Errors.relationship_invalid(f"build with id '{linkage['id']}' cannot be found", "builds")
            )
        build.relationships["appEncryptionDeclaration"] = ("appEncryptionDeclarations", declaration.id)
    return no_content()


@handles("PATCH", "/v1/builds/{id}/relationships/appEncryptionDeclaration")
def set_build_declaration(call: Call) -> Reply:
    build = one(call, "builds")
    linkage = call.body["data"]
    declaration = call.team.get("appEncryptionDeclarations", linkage["id"])
    if declaration is None:
        raise ApiError(
            Errors.relationship_invalid(
                f"appEncryptionDeclaration with id '{linkage['id']}' cannot be found",
                "appEncryptionDeclaration",
            )
        )
    build.relationships["appEncryptionDeclaration"] = ("appEncryptionDeclarations", declaration.id)
    return no_content()
