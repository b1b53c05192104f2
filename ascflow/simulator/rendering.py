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

SCHEMA_NAMES = {
    "apps": "App",
    "bundleIds": "BundleId",
    "certificates": "Certificate",
    "profiles": "Profile",
    "users": "User",
    "userInvitations": "UserInvitation",
    "builds": "Build",
    "buildUploads": "BuildUpload",
    "buildUploadFiles": "BuildUploadFile",
    "appStoreVersions": "AppStoreVersion",
    "appStoreVersionLocalizations": "AppStoreVersionLocalization",
    "appStoreReviewDetails": "AppStoreReviewDetail",
    "reviewSubmissions": "ReviewSubmission",
    "reviewSubmissionItems": "ReviewSubmissionItem",
}
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
        data = self.spec.relationship_schema(SCHEMA_NAMES[type_], relationship).get("data", {})
        return bool(data.get("type") == "object")

    def fields(self, type_: str) -> set[str] | None:
        value = self.query.get(f"fields[{type_}]")
        return set(value.split(",")) if value else None

    def resource(self, r: Resource, included: bool = False) -> Json:
        schema_name = SCHEMA_NAMES[r.type]
        wanted = self.fields(r.type)
        self_path = f"/v1/{r.type}/{r.id}"
        attributes = {
            k: v for k, v in r.attributes.items() if v is not None and (wanted is None or k in wanted)
        }
        body: Json = {"type": r.type, "id": r.id}
        if attributes:
            body["attributes"] = attributes
        declared = self.spec.schemas[schema_name]["properties"].get("relationships", {}).get("properties", {})
        relationships: Json = {}
        for name in declared:
            if wanted is not None and name not in wanted:
                continue
            rel_schema = self.spec.relationship_schema(schema_name, name)
            entry: Json = {}
            if "links" in rel_schema:
                entry["links"] = {
                    "self": self.url(f"{self_path}/relationships/{name}"),
                    "related": self.url(f"{self_path}/{name}"),
                }
            show_data = "data" in rel_schema and (
                (not included and name in self.include) or "links" not in rel_schema
            )
            if show_data:
                refs = self.team.related_refs(r, name)
                if self.to_one(r.type, name):
                    if refs:
                        entry["data"] = {"type": refs[0][0], "id": refs[0][1]}
                else:
                    entry["data"] = [{"type": t, "id": i} for t, i in refs]
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
        return [self.resource(r, included=True) for r in seen.values() if r.type in SCHEMA_NAMES]

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
        links = {"self": self.url(self.path), "related": self.url(f"/v1/{r.type}/{r.id}/{relationship}")}
        if self.to_one(r.type, relationship):
            data: Any = {"type": refs[0][0], "id": refs[0][1]} if refs else None
            return {"data": data, "links": links}
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
