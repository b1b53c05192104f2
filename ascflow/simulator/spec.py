"""Apple's OpenAPI document as the simulator's rule book: paths, query parameters and request bodies.

Checking requests against the spec itself (rather than hand-written lists) keeps the simulator as strict as
Apple about unknown parameters, enum values and body shapes for every operation it serves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from jsonschema import Draft7Validator, validators
from jsonschema.exceptions import ValidationError

from ascflow.simulator.documents import ApiError, Errors, Json
from ascflow.spec import APPLE_OPENAPI

SPEC_PATH = APPLE_OPENAPI

# Our own paging cursor: Apple's next links carry it although the spec declares no such parameter.
CURSOR = "cursor"


@dataclass(frozen=True)
class RelationshipSpec:
    """What Apple's schema says about one relationship of a resource type, and which of its paths exist."""

    name: str
    related_type: str | None  # None: the related document is not a JSON:API resource (e.g. Xcode metrics)
    to_many: bool
    has_links: bool  # the schema's relationship object declares `links`
    has_data: bool  # ... and `data` (linkage, sent when the relationship is included)
    related_path: str | None  # `/v1/{type}/{id}/{name}` (or /v2, /v3) when the spec has GET on it
    linkage_path: str | None  # `/v1/{type}/{id}/relationships/{name}` when the spec has that path


@dataclass(frozen=True)
class Route:
    template: str
    pattern: re.Pattern[str]
    literals: int
    methods: Mapping[str, dict[str, Any]]


class ApiSpec:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.schemas: dict[str, Any] = document["components"]["schemas"]
        self._relationships: dict[str, dict[str, RelationshipSpec]] = {}
        self.routes: list[Route] = []
        for template, item in document["paths"].items():
            regex = re.sub(r"\\\{[^/]+?\\\}", r"([^/]+)", re.escape(template))
            methods = {m.upper(): op for m, op in item.items() if m != "parameters"}
            literals = sum(1 for part in template.split("/") if part and not part.startswith("{"))
            self.routes.append(Route(template, re.compile(f"^{regex}$"), literals, methods))
        self.routes.sort(key=lambda r: -r.literals)

    def match(self, path: str) -> tuple[Route, list[str]] | None:
        for route in self.routes:
            found = route.pattern.match(path)
            if found:
                return route, list(found.groups())
        return None

    def check_query(self, operation: dict[str, Any], query: Mapping[str, str]) -> None:
        """Raise Apple's PARAMETER_ERROR for an undeclared, invalid or missing query parameter."""
        declared = {p["name"]: p for p in operation.get("parameters", []) if p.get("in") == "query"}
        for name, value in query.items():
            if name == CURSOR:
                continue
            param = declared.get(name)
            if param is None:
                raise ApiError(Errors.parameter_illegal(name))
            _check_value(name, value, param.get("schema", {}))
        for name, param in declared.items():
            if param.get("required") and name not in query:
                raise ApiError(Errors.parameter_required(name))

    def check_body(self, operation: dict[str, Any], body: object) -> None:
        """Raise 422 for a body of the wrong shape, 409 for an unacceptable attribute value, then 409 listing
        every attribute or relationship the operation's request schema does not declare."""
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if content is None:
            return
        ref = content["schema"]["$ref"]
        error = next(iter(sorted(_validator(self, ref).iter_errors(body), key=_depth)), None)
        if error is not None:
            pointer = "/" + "/".join(str(p) for p in error.absolute_path)
            attribute_value = len(error.absolute_path) >= 3 and error.validator in {"enum", "type", "format"}
            if attribute_value:
                raise ApiError(Errors.attribute_invalid(pointer, error.message))
            raise ApiError(Errors.unprocessable(pointer, error.message))
        unknown = self._unknown_names(self._deref(content["schema"]), body)
        if unknown:
            raise ApiError(unknown[0], more=unknown[1:])

    def _unknown_names(self, schema: dict[str, Any], body: Any) -> list[tuple[int, Json]]:
        """Apple's UNKNOWN errors for `data` and each `included` resource (the body has the schema's shape)."""
        declared = schema.get("properties", {})
        found = self._unknown_in(declared.get("data", {}), body.get("data"), "/data")
        inline = [self._deref(s) for s in declared.get("included", {}).get("items", {}).get("oneOf", [])]
        for index, item in enumerate(body.get("included") or []):
            for candidate in inline:
                if item.get("type") in candidate.get("properties", {}).get("type", {}).get("enum", []):
                    found += self._unknown_in(candidate, item, f"/included/{index}")
                    break
        return found

    def _unknown_in(self, schema: dict[str, Any], resource: Any, pointer: str) -> list[tuple[int, Json]]:
        # Linkage bodies (`data` a list, or an identifier) carry no attributes or relationships to check.
        if not isinstance(resource, dict):
            return []
        declared = self._deref(schema).get("properties", {})
        type_ = resource.get("type")
        found = []
        for member, unknown in (
            ("attributes", Errors.unknown_attribute),
            ("relationships", Errors.unknown_relationship),
        ):
            given = resource.get(member)
            names = self._deref(declared.get(member, {})).get("properties", {})
            for name in given if isinstance(given, dict) else ():
                if name not in names:
                    found.append(unknown(name, str(type_), f"{pointer}/{member}/{name}"))
        return found

    def operation_id(self, method: str, template: str) -> str:
        operation_id: str = self.document["paths"][template][method.lower()].get("operationId", "")
        return operation_id

    @cached_property
    def resource_schemas(self) -> dict[str, str]:
        """Resource type -> the schema of its resource object (`apps` -> `App`), read off the spec.

        Where Apple kept an old and a `V2` schema for one type, the one that the type's own
        `GET /v1/{type}/{id}` (or the version of `api_prefix`) answers with wins.
        """
        found: dict[str, list[str]] = {}
        for name, schema in self.schemas.items():
            props = schema.get("properties", {})
            types = props.get("type", {}).get("enum", [])
            if len(types) == 1 and "id" in props and "links" in props:
                found.setdefault(types[0], []).append(name)
        chosen: dict[str, str] = {}
        for type_, names in found.items():
            served = self._response_resource(f"{self.api_prefix(type_)}/{type_}/{{id}}")
            chosen[type_] = served if served in names else sorted(names)[0]
        return chosen

    def api_prefix(self, type_: str) -> str:
        """`/v1`, or the later version under which alone Apple serves the type (`/v2/appAvailabilities`)."""
        paths = self.document["paths"]
        for version in ("/v1", "/v2", "/v3"):
            if f"{version}/{type_}" in paths or f"{version}/{type_}/{{id}}" in paths:
                return version
        return "/v1"

    def attribute_names(self, type_: str) -> list[str]:
        props = self.schemas[self.resource_schemas[type_]]["properties"]
        return list(props.get("attributes", {}).get("properties", {}))

    def relationships(self, type_: str) -> dict[str, RelationshipSpec]:
        """Every relationship the type's schema declares, in the schema's order."""
        if type_ not in self._relationships:
            props = self.schemas[self.resource_schemas[type_]]["properties"]
            declared = props.get("relationships", {}).get("properties", {})
            self._relationships[type_] = {
                name: self._relationship(type_, name, rel.get("properties", {}))
                for name, rel in declared.items()
            }
        return self._relationships[type_]

    def _relationship(self, type_: str, name: str, rel: dict[str, Any]) -> RelationshipSpec:
        paths = self.document["paths"]
        prefix = self.api_prefix(type_)
        related = f"{prefix}/{type_}/{{id}}/{name}"
        linkage = f"{prefix}/{type_}/{{id}}/relationships/{name}"
        related_path = related if "get" in paths.get(related, {}) else None
        data = rel.get("data", {})
        to_many = data.get("type") == "array"
        enum = (data.get("items", data)).get("properties", {}).get("type", {}).get("enum", [])
        related_type = enum[0] if enum else None
        if related_type is None and related_path is not None:
            resource = self._response_resource(related_path)
            if resource is not None:
                related_type = self.schemas[resource]["properties"]["type"]["enum"][0]
                to_many = self._response_is_list(related_path)
        return RelationshipSpec(
            name=name,
            related_type=related_type,
            to_many=to_many,
            has_links="links" in rel,
            has_data="data" in rel,
            related_path=related_path,
            linkage_path=linkage if linkage in paths else None,
        )

    def _response_data(self, template: str) -> dict[str, Any] | None:
        operation = self.document["paths"].get(template, {}).get("get")
        content = (operation or {}).get("responses", {}).get("200", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        if schema is None:
            return None
        data: dict[str, Any] | None = self._deref(schema).get("properties", {}).get("data")
        return data

    def _response_resource(self, template: str) -> str | None:
        data = self._response_data(template)
        if data is None:
            return None
        ref = data.get("items", data).get("$ref")
        return ref.rsplit("/", 1)[1] if ref else None

    def _response_is_list(self, template: str) -> bool:
        return (self._response_data(template) or {}).get("type") == "array"

    def _deref(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[1]]
        return schema


def _depth(error: ValidationError) -> int:
    return len(error.absolute_path)


def _allow_null(keyword: str) -> Callable[..., Iterator[ValidationError]]:
    """OpenAPI 3.0's `nullable: true`, which JSON Schema draft 7 does not know."""
    check = Draft7Validator.VALIDATORS[keyword]

    def nullable_aware(
        validator: Any, value: Any, instance: Any, schema: dict[str, Any]
    ) -> Iterator[ValidationError]:
        if instance is None and schema.get("nullable"):
            return
        yield from check(validator, value, instance, schema)

    return nullable_aware


OpenApi30Validator = validators.extend(
    Draft7Validator, {"type": _allow_null("type"), "enum": _allow_null("enum")}
)


@cache
def _validator(spec: ApiSpec, ref: str) -> Any:
    return OpenApi30Validator({"$ref": ref, "components": spec.document["components"]})


def _check_value(name: str, value: str, schema: dict[str, Any]) -> None:
    if schema.get("type") == "integer":
        if not value.isdigit():
            raise ApiError(Errors.parameter_invalid(name, f"'{value}' is not a valid integer value"))
        number = int(value)
        maximum = schema.get("maximum")
        if maximum is not None and number > maximum:
            raise ApiError(
                Errors.parameter_invalid(name, f"'{value}' exceeds the maximum allowed value of {maximum}")
            )
        if number < schema.get("minimum", 1):
            raise ApiError(Errors.parameter_invalid(name, f"'{value}' is below the minimum allowed value"))
        return
    if schema.get("type") == "boolean":
        if value not in {"true", "false"}:
            raise ApiError(
                Errors.parameter_invalid(name, f"'{value}' is not a valid boolean: use true or false")
            )
        return
    allowed = schema.get("items", {}).get("enum") or schema.get("enum")
    if allowed is None:
        return
    for item in value.split(","):
        if item not in allowed:
            raise ApiError(
                Errors.parameter_invalid(
                    name,
                    f"'{item}' is not a valid field name"
                    if name.startswith(("fields[", "include"))
                    else f"'{item}' is not a valid value",
                )
            )


@cache
def load_spec() -> ApiSpec:
    return ApiSpec(json.loads(SPEC_PATH.read_text()))
