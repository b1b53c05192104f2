"""Resources as Apple renders them: sparse fieldsets, relationship links, `included`, paging and cursors."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from ascflow.simulator.documents import ApiError, Errors, Json
from ascflow.simulator.spec import CURSOR, ApiSpec
from ascflow.simulator.state import Resource, Team

# The resource types the simulator keeps in its state: the one registry. Add a type here (and create its
# resources in a state or route module) and it is rendered from its spec schema, its reads are served by
# routes/reads.py, and the conformance test covers it. Everything else about a type comes from Apple's spec.
SIMULATED_TYPES = (
    "apps",
    "bundleIds",
    "certificates",
    "profiles",
    "users",
    "userInvitations",
    "builds",
    "buildUploads",
    "buildUploadFiles",
    "appStoreVersions",
    "appStoreVersionLocalizations",
    "appStoreReviewDetails",
    "reviewSubmissions",
    "reviewSubmissionItems",
    # the store listing (listing_state.py, routes/listing.py, screenshots.py, pricing.py)
    "appInfos",
    "appInfoLocalizations",
    "ageRatingDeclarations",
    "appCategories",
    "appScreenshotSets",
    "appScreenshots",
    "appPricePoints",
    "appPriceSchedules",
    "appPrices",
    "territories",
    "appAvailabilities",
    "territoryAvailabilities",
    "appEncryptionDeclarations",
    # TestFlight and release control (testflight_state.py, release_state.py, routes/testflight.py,
    # beta_review.py, release.py); betaTesterInvitations and appStoreVersionReleaseRequests are kept too but not
    # listed: Apple's spec has no read of either, so there is nothing to serve or to check.
    "betaGroups",
    "betaTesters",
    "betaBuildLocalizations",
    "betaAppLocalizations",
    "betaAppReviewDetails",
    "betaAppReviewSubmissions",
    "buildBetaDetails",
    "appStoreVersionPhasedReleases",
)
DEFAULT_LIMIT = 50


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": str(offset)}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset = int(json.loads(base64.urlsafe_b64decode(padded))["offset"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(
            Errors.parameter_invalid(CURSOR, f"'{cursor}' is not a valid cursor for this request")
        ) from exc
    if offset < 0:
        raise ApiError(Errors.parameter_invalid(CURSOR, f"'{cursor}' is not a valid cursor for this request"))
    return offset


class Renderer:
    def __init__(self, team: Team, spec: ApiSpec, base_url: str, path: str, query: Mapping[str, str]) -> None:
        self.team = team
        self.spec = spec
        self.base_url = base_url
        self.path = path
        self.query = query
        self.include = [name for name in query.get("include", "").split(",") if name]

    def url(self, path: str, query: Mapping[str, str] | None = None) -> str:
        return f"{self.base_url}{path}" + (f"?{urlencode(query, safe='[],')}" if query else "")

    def to_one(self, type_: str, relationship: str) -> bool:
        return not self.spec.relationships(type_)[relationship].to_many

    def fields(self, type_: str) -> set[str] | None:
        value = self.query.get(f"fields[{type_}]")
        return set(value.split(",")) if value else None

    def resource(self, r: Resource, included: bool = False) -> Json:
        """Every attribute of the type's schema (null when unset) and its relationships, as Apple renders them.

        `fields[type]` narrows both (Apple treats relationship names as fields). A relationship gets the `links`
        the spec gives it a path for; its linkage `data` only when the request includes it (recorded: Apple
        sends no linkage otherwise, not even when `fields[...]` names the relationship). A relationship whose
        schema declares only `data` has no endpoint and so no links: it appears only when included.
        """
        wanted = self.fields(r.type)
        self_path = f"{self.spec.api_prefix(r.type)}/{r.type}/{r.id}"
        body: Json = {"type": r.type, "id": r.id}
        attributes = {
            name: r.attributes.get(name)
            for name in self.spec.attribute_names(r.type)
            if wanted is None or name in wanted
        }
        if attributes:
            body["attributes"] = attributes
        relationships: Json = {}
        for name, rel in self.spec.relationships(r.type).items():
            if wanted is not None and name not in wanted:
                continue
            entry: Json = {}
            links = {}
            if rel.linkage_path is not None:
                links["self"] = self.url(f"{self_path}/relationships/{name}")
            if rel.related_path is not None:
                links["related"] = self.url(f"{self_path}/{name}")
            if rel.has_links and links:
                entry["links"] = links
            if rel.has_data and not included and name in self.include:
                refs = self.team.related_refs(r, name)
                if rel.to_many:
                    entry["data"] = [{"type": t, "id": i} for t, i in refs]
                elif refs:
                    entry["data"] = {"type": refs[0][0], "id": refs[0][1]}
            if entry:
                relationships[name] = entry
        if relationships:
            body["relationships"] = relationships
        body["links"] = {"self": self.url(self_path)}
        return body

    def included(self, primary: list[Resource]) -> list[Json]:
        seen: dict[tuple[str, str], Resource] = {}
        for name in self.include:
            for r in primary:
                for other in self.team.related(r, name):
                    seen.setdefault((other.type, other.id), other)
        return [self.resource(r, included=True) for r in seen.values() if r.type in SIMULATED_TYPES]

    def single(self, r: Resource) -> Json:
        doc: Json = {"data": self.resource(r), "links": {"self": self.url(self.path)}}
        extra = self.included([r])
        if extra:
            doc["included"] = extra
        return doc

    def collection(self, items: list[Resource]) -> Json:
        limit = int(self.query.get("limit", DEFAULT_LIMIT))
        offset = decode_cursor(self.query[CURSOR]) if CURSOR in self.query else 0
        page = items[offset : offset + limit]
        query = {k: v for k, v in self.query.items() if k != CURSOR}
        paging: Json = {"total": len(items), "limit": limit}
        doc: Json = {
            "data": [self.resource(r) for r in page],
            "links": {"self": self.url(self.path, self.query)},
        }
        if offset + limit < len(items):
            cursor = encode_cursor(offset + limit)
            paging["nextCursor"] = cursor
            doc["links"]["next"] = self.url(self.path, {**query, CURSOR: cursor})
        doc["meta"] = {"paging": paging}
        extra = self.included(page)
        if extra:
            doc["included"] = extra
        return doc

    def linkage(self, r: Resource, relationship: str) -> Json:
        refs = self.team.related_refs(r, relationship)
        if self.to_one(r.type, relationship):
            data: Any = {"type": refs[0][0], "id": refs[0][1]} if refs else None
            return {"data": data, "links": {"self": self.url(self.path)}}
        limit = int(self.query.get("limit", DEFAULT_LIMIT))
        offset = decode_cursor(self.query[CURSOR]) if CURSOR in self.query else 0
        page = refs[offset : offset + limit]
        doc: Json = {
            "data": [{"type": t, "id": i} for t, i in page],
            "links": {"self": self.url(self.path, self.query)},
            "meta": {"paging": {"total": len(refs), "limit": limit}},
        }
        if offset + limit < len(refs):
            cursor = encode_cursor(offset + limit)
            doc["meta"]["paging"]["nextCursor"] = cursor
            doc["links"]["next"] = self.url(self.path, {**self.query, CURSOR: cursor})
        return doc
