"""Reads shared by every resource type: collections with filters and sort, single resources, relationships."""

from __future__ import annotations

import functools
from typing import Any

from ascflow.simulator.documents import ApiError, Errors
from ascflow.simulator.rendering import SIMULATED_TYPES
from ascflow.simulator.routing import HANDLERS, Call, Handler, Reply
from ascflow.simulator.spec import load_spec
from ascflow.simulator.state import Resource

# Apple's substring filters; every other attribute filter matches exactly.
SUBSTRING_FILTERS = {("bundleIds", "identifier")}
# Apple's prefix filters: filter[bundleId]=com.acme.app also finds com.acme.app.widget.
PREFIX_FILTERS = {("apps", "bundleId")}


def visible(resource: Resource) -> bool:
    """Accepted invitations and revoked certificates drop out of Apple's lists."""
    return not resource.hidden.get("gone")


def matches(call: Call, resource: Resource, key: str, values: list[str]) -> bool:
    if key == "id":
        return resource.id in values
    if (resource.type, key) in SUBSTRING_FILTERS:
        return any(v in str(resource.attributes.get(key, "")) for v in values)
    if (resource.type, key) in PREFIX_FILTERS:
        return any(str(resource.attributes.get(key, "")).startswith(v) for v in values)
    if key in resource.attributes:
        return _text(resource.attributes[key]) in values or (
            isinstance(resource.attributes[key], list)
            and any(_text(x) in values for x in resource.attributes[key])
        )
    if key in resource.hidden:
        return _text(resource.hidden[key]) in values
    if "." in key:  # filter[appStoreVersions.platform]: any related resource's attribute
        relationship, attribute = key.split(".", 1)
        return any(
            _text(other.attributes.get(attribute)) in values
            for other in call.team.related(resource, relationship)
        )
    refs = call.team.related_refs(resource, key)
    return any(ref[1] in values for ref in refs)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def select(call: Call, items: list[Resource]) -> list[Resource]:
    items = [r for r in items if visible(r)]
    for name, value in call.query.items():
        if name.startswith("filter[") and name.endswith("]"):
            key = name[len("filter[") : -1]
            values = value.split(",")
            items = [r for r in items if matches(call, r, key, values)]
        elif name.startswith("exists[") and name.endswith("]"):
            key = name[len("exists[") : -1]
            want = value == "true"
            items = [r for r in items if (r.attributes.get(key) is not None) == want]
    for expression in reversed(call.query.get("sort", "").split(",")):
        if not expression:
            continue
        key = expression.lstrip("-")
        items.sort(key=functools.partial(_sort_key, key=key), reverse=expression.startswith("-"))
    return items


def _sort_key(resource: Resource, key: str) -> tuple[int, Any]:
    value = resource.id if key == "id" else resource.attributes.get(key, resource.hidden.get(key))
    if value is None:
        return (0, "")
    if key in {"version", "cfBundleVersion"}:
        return (1, tuple(int(p) if p.isdigit() else 0 for p in str(value).split(".")))
    return (1, value)


def one(call: Call, type_: str) -> Resource:
    resource = call.find(type_)
    if resource.hidden.get("gone"):
        # Apple documents 410 for an accepted invitation; a revoked certificate is simply not found.
        raise ApiError(
            Errors.gone(type_, resource.id)
            if type_ == "userInvitations"
            else Errors.not_found(type_, resource.id)
        )
    return resource


def _collection(type_: str) -> Handler:
    def handler(call: Call) -> Reply:
        return Reply(200, call.render.collection(select(call, call.team.all(type_))))

    return handler


def _single(type_: str) -> Handler:
    def handler(call: Call) -> Reply:
        return Reply(200, call.render.single(one(call, type_)))

    return handler


def _related(type_: str, relationship: str) -> Handler:
    def handler(call: Call) -> Reply:
        resource = one(call, type_)
        related = call.team.related(resource, relationship)
        if call.render.to_one(type_, relationship):
            if not related:
                return Reply(200, {"data": None, "links": {"self": call.render.url(call.path)}})
            return Reply(200, call.render.single(related[0]))
        return Reply(200, call.render.collection(select(call, related)))

    return handler


def _linkage(type_: str, relationship: str) -> Handler:
    def handler(call: Call) -> Reply:
        return Reply(200, call.render.linkage(one(call, type_), relationship))

    return handler


def register_reads() -> None:
    """Serve, for every simulated type, each read Apple's spec has: the collection, the resource, and every
    relationship to another simulated type (related resources and linkage). Links to unsimulated types are
    left to the 501 answer. A handler a route module registers for the same operation wins, whichever is
    imported first.
    """
    spec = load_spec()
    paths = spec.document["paths"]
    reads: dict[str, Handler] = {}
    for type_ in SIMULATED_TYPES:
        prefix = spec.api_prefix(type_)
        reads[f"{prefix}/{type_}"] = _collection(type_)
        reads[f"{prefix}/{type_}/{{id}}"] = _single(type_)
        for rel in spec.relationships(type_).values():
            if rel.related_type not in SIMULATED_TYPES:
                continue
            if rel.related_path is not None:
                reads[rel.related_path] = _related(type_, rel.name)
            if rel.linkage_path is not None:
                reads[rel.linkage_path] = _linkage(type_, rel.name)
    for template, handler in reads.items():
        if "get" in paths.get(template, {}):
            HANDLERS.setdefault(("GET", template), handler)


register_reads()
