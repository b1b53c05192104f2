"""App Store versions, their localizations and their review details."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ascflow.connect.errors import NotFound
from ascflow.connect.listing_models import parse_included
from ascflow.connect.models import (
    AppStoreReviewDetail,
    AppStoreVersion,
    AppStoreVersionLocalization,
    Platform,
    parse_many,
    parse_one,
    parse_optional,
)
from ascflow.connect.resources.base import ResourceGroup, comma_list, linkage, request_document

# SCHEDULED needs a date ascflow does not ask for; the pipeline offers the other two.
ReleaseType = Literal["MANUAL", "AFTER_APPROVAL"]


@dataclass(frozen=True)
class AppVersions:
    """The app's versions as one read saw them, with what it included, by version id: each version's build
    (its id; None for none), review detail (None for none) and, when asked for, its localizations."""

    versions: list[AppStoreVersion]
    builds: dict[str, str | None]
    review_details: dict[str, AppStoreReviewDetail | None]
    localizations: dict[str, list[AppStoreVersionLocalization]]


class AppStoreVersions(ResourceGroup):
    def list_for_app(self, *, app_id: str, platform: Platform) -> list[AppStoreVersion]:
        params = {"filter[platform]": platform.value}
        return parse_many(
            AppStoreVersion, self._session.paginate(f"/v1/apps/{app_id}/appStoreVersions", params)
        )

    def list_with_details(self, *, app_id: str, platform: Platform, localizations: bool) -> AppVersions:
        """`list_for_app` with each version's build, review detail and (optionally) localizations included: a
        rerun proves the version ready in this one read. A version has at most one localization per App Store
        locale (under 40), within the 50 Apple includes."""
        include = [
            "build",
            "appStoreReviewDetail",
            *(["appStoreVersionLocalizations"] if localizations else []),
        ]
        params = {"filter[platform]": platform.value, "include": comma_list(include)}
        if localizations:
            params["limit[appStoreVersionLocalizations]"] = "50"
        pages = list(self._session.paginate(f"/v1/apps/{app_id}/appStoreVersions", params))
        versions = parse_many(AppStoreVersion, pages)
        details = {d.id: d for d in parse_included(AppStoreReviewDetail, pages)}
        texts = {t.id: t for t in parse_included(AppStoreVersionLocalization, pages)}
        return AppVersions(
            versions=versions,
            builds={v.id: v.related_id("build") for v in versions},
            review_details={v.id: details.get(v.related_id("appStoreReviewDetail") or "") for v in versions},
            localizations={
                v.id: [texts[i] for i in v.related_ids("appStoreVersionLocalizations") if i in texts]
                for v in versions
            }
            if localizations
            else {},
        )

    def get(self, version_id: str) -> AppStoreVersion:
        return parse_one(AppStoreVersion, self._session.get(f"/v1/appStoreVersions/{version_id}"))

    def create(
        self,
        *,
        app_id: str,
        platform: Platform,
        version_string: str,
        release_type: ReleaseType | None = None,
        build_id: str | None = None,
    ) -> AppStoreVersion:
        attributes: dict[str, object] = {"platform": platform.value, "versionString": version_string}
        if release_type is not None:
            attributes["releaseType"] = release_type
        relationships = {"app": linkage("apps", app_id)}
        if build_id is not None:
            relationships["build"] = linkage("builds", build_id)
        body = request_document("appStoreVersions", attributes=attributes, relationships=relationships)
        return parse_one(AppStoreVersion, self._session.post("/v1/appStoreVersions", body))

    def update(
        self, version_id: str, *, version_string: str | None = None, release_type: ReleaseType | None = None
    ) -> AppStoreVersion | None:
        attributes = {"versionString": version_string, "releaseType": release_type}
        body = request_document(
            "appStoreVersions",
            id_=version_id,
            attributes={k: v for k, v in attributes.items() if v is not None},
        )
        document = self._session.patch(f"/v1/appStoreVersions/{version_id}", body)
        return parse_one(AppStoreVersion, document) if document else None

    def build_id(self, version_id: str) -> str | None:
        document = self._session.get(f"/v1/appStoreVersions/{version_id}/relationships/build")
        data = document.get("data")
        return str(data["id"]) if isinstance(data, Mapping) else None

    def attach_build(self, version_id: str, build_id: str) -> None:
        self._session.patch(
            f"/v1/appStoreVersions/{version_id}/relationships/build", {"data": linkage("builds", build_id)}
        )


class AppStoreVersionLocalizations(ResourceGroup):
    def list_for_version(self, version_id: str) -> list[AppStoreVersionLocalization]:
        path = f"/v1/appStoreVersions/{version_id}/appStoreVersionLocalizations"
        return parse_many(AppStoreVersionLocalization, self._session.paginate(path))

    def create(self, *, version_id: str, locale: str, whats_new: str) -> AppStoreVersionLocalization:
        body = request_document(
            "appStoreVersionLocalizations",
            attributes={"locale": locale, "whatsNew": whats_new},
            relationships={"appStoreVersion": linkage("appStoreVersions", version_id)},
        )
        return parse_one(
            AppStoreVersionLocalization, self._session.post("/v1/appStoreVersionLocalizations", body)
        )

    def set_whats_new(self, localization_id: str, whats_new: str) -> None:
        body = request_document(
            "appStoreVersionLocalizations", id_=localization_id, attributes={"whatsNew": whats_new}
        )
        self._session.patch(f"/v1/appStoreVersionLocalizations/{localization_id}", body)


class AppStoreReviewDetails(ResourceGroup):
    def for_version(self, version_id: str) -> AppStoreReviewDetail | None:
        try:
            document = self._session.get(f"/v1/appStoreVersions/{version_id}/appStoreReviewDetail")
        except NotFound:
            return None
        return parse_optional(AppStoreReviewDetail, document)

    def create(self, *, version_id: str, attributes: Mapping[str, object]) -> AppStoreReviewDetail:
        body = request_document(
            "appStoreReviewDetails",
            attributes=attributes,
            relationships={"appStoreVersion": linkage("appStoreVersions", version_id)},
        )
        return parse_one(AppStoreReviewDetail, self._session.post("/v1/appStoreReviewDetails", body))

    def update(self, detail_id: str, *, attributes: Mapping[str, object]) -> None:
        body = request_document("appStoreReviewDetails", id_=detail_id, attributes=attributes)
        self._session.patch(f"/v1/appStoreReviewDetails/{detail_id}", body)
