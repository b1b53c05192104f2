"""Release control for an approved version: its phased release and the request that releases it (reference
first-release.md §14)."""

from __future__ import annotations

from ascflow.connect.errors import NotFound
from ascflow.connect.models import parse_one, parse_optional
from ascflow.connect.resources.base import ResourceGroup, linkage, request_document
from ascflow.connect.testflight_models import PhasedRelease, PhasedReleaseState, ReleaseRequest


class PhasedReleases(ResourceGroup):
    """`appStoreVersionPhasedReleases`: at most one per version; its state is changed by PATCH."""

    def for_version(self, version_id: str) -> PhasedRelease | None:
        """None when the version has none (Apple answers `data: null`; a 404 is read the same way)."""
        try:
            document = self._session.get(f"/v1/appStoreVersions/{version_id}/appStoreVersionPhasedRelease")
        except NotFound:
            return None
        return parse_optional(PhasedRelease, document)

    def create(self, *, version_id: str, state: PhasedReleaseState) -> PhasedRelease:
        body = request_document(
            "appStoreVersionPhasedReleases",
            attributes={"phasedReleaseState": state.value},
            relationships={"appStoreVersion": linkage("appStoreVersions", version_id)},
        )
        return parse_one(PhasedRelease, self._session.post("/v1/appStoreVersionPhasedReleases", body))

    def update(self, phased_release_id: str, state: PhasedReleaseState) -> None:
        body = request_document(
            "appStoreVersionPhasedReleases",
            id_=phased_release_id,
            attributes={"phasedReleaseState": state.value},
        )
        self._session.patch(f"/v1/appStoreVersionPhasedReleases/{phased_release_id}", body)


class ReleaseRequests(ResourceGroup):
    """`appStoreVersionReleaseRequests`: Apple takes one only for a version in PENDING_DEVELOPER_RELEASE."""

    def create(self, version_id: str) -> ReleaseRequest:
        body = request_document(
            "appStoreVersionReleaseRequests",
            relationships={"appStoreVersion": linkage("appStoreVersions", version_id)},
        )
        return parse_one(ReleaseRequest, self._session.post("/v1/appStoreVersionReleaseRequests", body))
