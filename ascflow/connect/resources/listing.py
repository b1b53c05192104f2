"""The store listing's texts: the app's own attributes, app infos (categories), their localizations, the age
rating declaration, and the version's attributes and localized texts (reference first-release.md §1-§5, §7).

Each write sends only the attributes it is given: Apple clears an attribute sent as null, and a rerun that
sends nothing writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ascflow.connect.listing_models import (
    AgeRatingDeclaration,
    AppInfo,
    AppInfoLocalization,
    AppListing,
    ContentRights,
    ListingReleaseType,
    VersionListing,
    VersionLocalizationListing,
    parse_included,
)
from ascflow.connect.models import parse_many, parse_one
from ascflow.connect.resources.base import ResourceGroup, comma_list, linkage, request_document

CATEGORY_RELATIONSHIPS = (
    "primaryCategory",
    "primarySubcategoryOne",
    "primarySubcategoryTwo",
    "secondaryCategory",
    "secondarySubcategoryOne",
    "secondarySubcategoryTwo",
)
# Apple includes at most 50 related resources per relationship (spec: `limit[...]` maximum 50); the ~40
# App Store locales fit.
MAX_INCLUDED = 50


class AppListings(ResourceGroup):
    """`apps`: the attributes of the app record the listing sets (content rights, primary locale)."""

    def get(self, app_id: str) -> AppListing:
        params = {"fields[apps]": comma_list(("name", "primaryLocale", "contentRightsDeclaration"))}
        return parse_one(AppListing, self._session.get(f"/v1/apps/{app_id}", params))

    def update(
        self,
        app_id: str,
        *,
        content_rights: ContentRights | None = None,
        primary_locale: str | None = None,
    ) -> None:
        attributes = {"contentRightsDeclaration": content_rights, "primaryLocale": primary_locale}
        self._session.patch(f"/v1/apps/{app_id}", request_document("apps", id_=app_id, attributes=attributes))


class AppInfos(ResourceGroup):
    def list_for_app(
        self, app_id: str
    ) -> tuple[list[AppInfo], list[AppInfoLocalization], list[AgeRatingDeclaration]]:
        """The app's appInfos with their category linkage, and (included) their localizations and age ratings."""
        params: dict[str, str | int] = {
            "include": comma_list(("ageRatingDeclaration", "appInfoLocalizations", *CATEGORY_RELATIONSHIPS)),
            "limit[appInfoLocalizations]": MAX_INCLUDED,
        }
        pages = list(self._session.paginate(f"/v1/apps/{app_id}/appInfos", params))
        return (
            parse_many(AppInfo, pages),
            parse_included(AppInfoLocalization, pages),
            parse_included(AgeRatingDeclaration, pages),
        )

    def set_categories(self, info_id: str, categories: Mapping[str, str]) -> None:
        """PATCH the category relationships named in `categories` (relationship name -> appCategories id)."""
        relationships = {name: linkage("appCategories", value) for name, value in categories.items()}
        body = request_document("appInfos", id_=info_id, relationships=relationships)
        self._session.patch(f"/v1/appInfos/{info_id}", body)


class AppInfoLocalizations(ResourceGroup):
    def list_for_info(self, info_id: str, *, locale: str | None = None) -> list[AppInfoLocalization]:
        params = {"filter[locale]": locale} if locale is not None else {}
        path = f"/v1/appInfos/{info_id}/appInfoLocalizations"
        return parse_many(AppInfoLocalization, self._session.paginate(path, params))

    def create(self, *, info_id: str, locale: str, attributes: Mapping[str, Any]) -> AppInfoLocalization:
        body = request_document(
            "appInfoLocalizations",
            attributes={"locale": locale, **attributes},
            relationships={"appInfo": linkage("appInfos", info_id)},
        )
        return parse_one(AppInfoLocalization, self._session.post("/v1/appInfoLocalizations", body))

    def update(self, localization_id: str, attributes: Mapping[str, Any]) -> None:
        body = request_document("appInfoLocalizations", id_=localization_id, attributes=attributes)
        self._session.patch(f"/v1/appInfoLocalizations/{localization_id}", body)


class AgeRatingDeclarations(ResourceGroup):
    """Apple makes one declaration per appInfo (there is no POST); it is read through the appInfo."""

    def for_info(self, info_id: str) -> AgeRatingDeclaration:
        return parse_one(
            AgeRatingDeclaration, self._session.get(f"/v1/appInfos/{info_id}/ageRatingDeclaration")
        )

    def update(self, declaration_id: str, answers: Mapping[str, Any]) -> None:
        # Unlike other writes, a None answer is sent: null is an answer here (kidsAgeBand null: not Made for
        # Kids). The spec writes `nullable` beside kidsAgeBand's `$ref`, which strict OpenAPI 3.0 ignores.
        body: dict[str, Any] = request_document("ageRatingDeclarations", id_=declaration_id)
        body["data"]["attributes"] = dict(answers)
        self._session.patch(f"/v1/ageRatingDeclarations/{declaration_id}", body)


class VersionListings(ResourceGroup):
    """`appStoreVersions`: the version's listing attributes and its localizations in one read."""

    def get(self, version_id: str) -> tuple[VersionListing, list[VersionLocalizationListing]]:
        params: dict[str, str | int] = {
            "include": "appStoreVersionLocalizations",
            "limit[appStoreVersionLocalizations]": MAX_INCLUDED,
        }
        document = self._session.get(f"/v1/appStoreVersions/{version_id}", params)
        return parse_one(VersionListing, document), parse_included(VersionLocalizationListing, [document])

    def update(
        self,
        version_id: str,
        *,
        copyright: str | None = None,
        release_type: ListingReleaseType | None = None,
        earliest_release_date: datetime | None = None,
    ) -> None:
        attributes = {
            "copyright": copyright,
            "releaseType": release_type,
            "earliestReleaseDate": earliest_release_date.isoformat() if earliest_release_date else None,
        }
        body = request_document("appStoreVersions", id_=version_id, attributes=attributes)
        self._session.patch(f"/v1/appStoreVersions/{version_id}", body)


class VersionTexts(ResourceGroup):
    """`appStoreVersionLocalizations` with every text of the listing (description, keywords, URLs, ...)."""

    def list_for_version(
        self, version_id: str, *, locale: str | None = None
    ) -> list[VersionLocalizationListing]:
        params = {"filter[locale]": locale} if locale is not None else {}
        path = f"/v1/appStoreVersions/{version_id}/appStoreVersionLocalizations"
        return parse_many(VersionLocalizationListing, self._session.paginate(path, params))

    def create(
        self, *, version_id: str, locale: str, attributes: Mapping[str, Any]
    ) -> VersionLocalizationListing:
        body = request_document(
            "appStoreVersionLocalizations",
            attributes={"locale": locale, **attributes},
            relationships={"appStoreVersion": linkage("appStoreVersions", version_id)},
        )
        return parse_one(
            VersionLocalizationListing, self._session.post("/v1/appStoreVersionLocalizations", body)
        )

    def update(self, localization_id: str, attributes: Mapping[str, Any]) -> None:
        body = request_document("appStoreVersionLocalizations", id_=localization_id, attributes=attributes)
        self._session.patch(f"/v1/appStoreVersionLocalizations/{localization_id}", body)
