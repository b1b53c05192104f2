"""Bundle IDs (App IDs) of the team."""

from __future__ import annotations

from ascflow.connect.models import BundleId, BundleIdPlatform, parse_many, parse_one
from ascflow.connect.resources.base import ResourceGroup, request_document


class BundleIds(ResourceGroup):
    def list(self, *, identifier: str, platform: BundleIdPlatform | None = None) -> list[BundleId]:
        """Bundle IDs whose identifier *contains* `identifier` (Apple's filter is a substring match)."""
        params = {"filter[identifier]": identifier}
        if platform is not None:
            params["filter[platform]"] = platform.value
        return parse_many(BundleId, self._session.paginate("/v1/bundleIds", params))

    def create(self, *, identifier: str, name: str, platform: BundleIdPlatform) -> BundleId:
        body = request_document(
            "bundleIds", attributes={"identifier": identifier, "name": name, "platform": platform.value}
        )
        return parse_one(BundleId, self._session.post("/v1/bundleIds", body))
