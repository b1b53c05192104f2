"""Apple's OpenAPI document as the simulator's rule book: paths, query parameters and request bodies.

Checking requests against the spec itself (rather than hand-written lists) keeps the simulator as strict as
Apple about unknown parameters, enum values and body shapes for every operation it serves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from jsonschema import Draft7Validator, validators
from jsonschema.exceptions import ValidationError

from ascflow.simulator.documents import ApiError, Errors
from ascflow.spec import APPLE_OPENAPI

SPEC_PATH = APPLE_OPENAPI

# Our own paging cursor: Apple's next links carry it although the spec declares no such parameter.
CURSOR = "cursor"


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
        """Raise 422 for a body of the wrong shape, 409 for an unacceptable attribute value."""
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if content is None:
            return
        ref = content["schema"]["$ref"]
        error = next(iter(sorted(_validator(self, ref).iter_errors(body), key=_depth)), None)
        if error is None:
            return
        pointer = "/" + "/".join(str(p) for p in error.absolute_path)
        attribute_value = len(error.absolute_path) >= 3 and error.validator in {"enum", "type", "format"}
        if attribute_value:
            raise ApiError(Errors.attribute_invalid(pointer, error.message))
        raise ApiError(Errors.unprocessable(pointer, error.message))

    def relationship_schema(self, schema_name: str, relationship: str) -> dict[str, Any]:
        rels = self.schemas[schema_name]["properties"].get("relationships", {}).get("properties", {})
        result: dict[str, Any] = rels.get(relationship, {}).get("properties", {})
        return result


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
