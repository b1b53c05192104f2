"""The handler registry: each Apple operation the simulator serves, keyed by method and spec path."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ascflow.simulator.documents import ApiError, Errors, Json
from ascflow.simulator.rendering import Renderer
from ascflow.simulator.state import ApiKeyRecord, Resource, Team


@dataclass
class Call:
    team: Team
    render: Renderer
    method: str
    path: str
    ids: list[str]
    query: Mapping[str, str]
    body: Any
    key: ApiKeyRecord
    base_url: str

    @property
    def data(self) -> Json:
        data: Json = self.body["data"]
        return data

    @property
    def attributes(self) -> Json:
        attributes: Json = self.data.get("attributes") or {}
        return attributes

    def given(self, names: Iterable[str]) -> Json:
        """The attributes of `names` that the body sets (a PATCH changes only those; a create keeps only those)."""
        return {name: self.attributes[name] for name in names if name in self.attributes}

    def relationship(self, name: str) -> Any:
        """The linkage the body gives for a relationship (an identifier object, a list of them, or None)."""
        return ((self.data.get("relationships") or {}).get(name) or {}).get("data")

    def related_id(self, name: str) -> str | None:
        linkage = self.relationship(name)
        return linkage.get("id") if isinstance(linkage, dict) else None

    def find(self, type_: str, id_: str | None = None) -> Resource:
        id_ = id_ if id_ is not None else self.ids[0]
        found = self.team.get(type_, id_)
        if found is None:
            raise ApiError(Errors.not_found(type_, id_))
        return found

    def require_related(self, name: str, type_: str) -> Resource:
        """A relationship the body must name and that must exist (Apple's 409 when it does not)."""
        id_ = self.related_id(name)
        found = self.team.get(type_, id_) if id_ else None
        if found is None:
            singular = type_[:-1]
            raise ApiError(Errors.relationship_invalid(f"{singular} with id '{id_}' cannot be found", name))
        return found


@dataclass
class Reply:
    status: int
    body: Json | None = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Reply]
HANDLERS: dict[tuple[str, str], Handler] = {}


def handles(method: str, *templates: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for template in templates:
            HANDLERS[(method, template)] = handler
        return handler

    return register


def created(call: Call, resource: Resource) -> Reply:
    location = f"{call.base_url}/v1/{resource.type}/{resource.id}"
    return Reply(201, call.render.single(resource), {"Location": location})


def ok(call: Call, resource: Resource) -> Reply:
    return Reply(200, call.render.single(resource))


def no_content() -> Reply:
    return Reply(204)
