"""App Store versions, their localizations and their review details."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from ascflow.connect.errors import NotFound
from ascflow.connect.models import (
    AppStoreReviewDetail,
    AppStoreVersion,
    AppStoreVersionLocalization,
    Platform,
    parse_many,
    parse_one,
    parse_optional,
)
from ascflow.connect.resources.base import ResourceGroup, linkage, request_document

# SCHEDULED needs a date ascflow does not ask for; the pipeline offers the other two.
ReleaseType = Literal["MANUAL", "AFTER_APPROVAL"]


class AppStoreVersions(ResourceGroup):
    def list_for_app(self, *, app_id: str, platform: Platform) -> list[AppStoreVersion]:
        params = {"filter[platform]": platform.value}
        return parse_many(
            AppStoreVersion, self._session.paginate(f"/v1/apps/{app_id}/appStoreVersions", params)
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
