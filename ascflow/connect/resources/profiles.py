"""Provisioning profiles. Profiles have no PATCH: a wrong one is deleted and made again."""

from __future__ import annotations

from collections.abc import Sequence

from ascflow.connect.models import Profile, parse_many, parse_one
from ascflow.connect.resources.base import ResourceGroup, linkage, request_document

# The linkage of these relationships is only in the document when they are included.
_LINKED = "bundleId,certificates"


class Profiles(ResourceGroup):
    def list(self, *, name: str, profile_type: str) -> list[Profile]:
        params = {"filter[name]": name, "filter[profileType]": profile_type, "include": _LINKED}
        return parse_many(Profile, self._session.paginate("/v1/profiles", params))

    def get(self, profile_id: str) -> Profile:
        return parse_one(Profile, self._session.get(f"/v1/profiles/{profile_id}", {"include": _LINKED}))

    def create(
        self, *, name: str, profile_type: str, bundle_id_id: str, certificate_ids: Sequence[str]
    ) -> Profile:
        body = request_document(
            "profiles",
            attributes={"name": name, "profileType": profile_type},
            relationships={
                "bundleId": linkage("bundleIds", bundle_id_id),
                "certificates": [linkage("certificates", cid) for cid in certificate_ids],
            },
        )
        return parse_one(Profile, self._session.post("/v1/profiles", body))

    def delete(self, profile_id: str) -> None:
        self._session.delete(f"/v1/profiles/{profile_id}")
