"""Apple's JSON:API documents: error bodies with Apple's codes and wording, resources, paging."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

Json = dict[str, Any]


class ApiError(Exception):
    """An Apple error answer; handlers raise it and the app renders it."""

    def __init__(
        self,
        error: tuple[int, Json],
        headers: dict[str, str] | None = None,
        more: Sequence[tuple[int, Json]] = (),
    ) -> None:
        status, body = error
        super().__init__(f"{status} {body['code']}")
        self.status = status
        # Apple lists every problem of one kind in one document (fastlane#21820: an unknown attribute and two
        # unknown relationships in one answer); the first one's status is the answer's.
        self.errors = [body, *(other for _, other in more)]
        self.headers = headers or {}

    def document(self) -> Json:
        return {"errors": self.errors}


def error(status: int, code: str, title: str, detail: str, **extra: Any) -> tuple[int, Json]:
    body: Json = {
        "id": str(uuid.uuid4()),
        "status": str(status),
        "code": code,
        "title": title,
        "detail": detail,
    }
    body.update(extra)
    return status, body


class Errors:
    """Every error the simulator answers, worded as Apple words it (see reference sections 2-4 and 6)."""

    NOT_AUTHORIZED_DETAIL = (
        "Provide a properly configured and signed bearer token, and make sure that it has not expired. "
        "Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens"
    )

    @staticmethod
    def not_authorized() -> tuple[int, Json]:
        # Apple's 401 body carries no id.
        return 401, {
            "status": "401",
            "code": "NOT_AUTHORIZED",
            "title": "Authentication credentials are missing or invalid.",
            "detail": Errors.NOT_AUTHORIZED_DETAIL,
        }

    @staticmethod
    def forbidden() -> tuple[int, Json]:
        return error(
            403,
            "FORBIDDEN_ERROR",
            "This request is forbidden for security reasons",
            "The API key in use does not allow this request",
        )

    @staticmethod
    def agreements_missing() -> tuple[int, Json]:
        return error(
            403,
            "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED",
            "A required agreement is missing or has expired.",
            "This request requires an in-effect agreement that has not been signed or has expired.",
            links={"see": "/business"},
        )

    @staticmethod
    def rate_limited() -> tuple[int, Json]:
        return error(
            429,
            "RATE_LIMIT_EXCEEDED",
            "The request rate limit has been reached.",
            "We've received too many requests for this API. Please wait and try again or slow down your "
            "request rate.",
        )

    @staticmethod
    def server_error() -> tuple[int, Json]:
        return error(
            500,
            "UNEXPECTED_ERROR",
            "An unexpected error occurred.",
            "An unexpected error occurred on the server side. If this issue continues, contact us at "
            "https://developer.apple.com/contact/.",
        )

    @staticmethod
    def path_error(path: str) -> tuple[int, Json]:
        return error(
            404,
            "PATH_ERROR",
            "The URL path is invalid.",
            f"The path provided does not match a defined resource type: {path}",
        )

    @staticmethod
    def not_implemented(method: str, template: str, operation_id: str) -> tuple[int, Json]:
        # The simulator's own answer (Apple has the operation; the simulator does not play it).
        return error(
            501,
            "SIMULATOR.NOT_IMPLEMENTED",
            "The simulator does not implement this operation.",
            f"{method} {template} ({operation_id}) is in Apple's App Store Connect API but the simulator does "
            "not simulate it. The simulator README lists the operations it serves.",
        )

    @staticmethod
    def not_found(type_: str, id_: str) -> tuple[int, Json]:
        return error(
            404,
            "NOT_FOUND",
            "The specified resource does not exist",
            f"There is no resource of type '{type_}' with id '{id_}'",
        )

    @staticmethod
    def method_not_allowed(method: str, path: str) -> tuple[int, Json]:
        return error(
            405,
            "METHOD_NOT_ALLOWED",
            "The request method is not valid for the resource path.",
            f"The request method '{method}' is not valid for the resource path '{path}'.",
        )

    @staticmethod
    def gone(type_: str, id_: str) -> tuple[int, Json]:
        return error(
            410,
            "GONE",
            "The requested resource is no longer available.",
            f"The resource of type '{type_}' with id '{id_}' is no longer available.",
        )

    @staticmethod
    def parameter_illegal(name: str) -> tuple[int, Json]:
        return error(
            400,
            "PARAMETER_ERROR.ILLEGAL",
            "A parameter provided is not allowed for this request",
            f"The parameter '{name}' can not be used with this request",
            source={"parameter": name},
        )

    @staticmethod
    def parameter_invalid(name: str, detail: str) -> tuple[int, Json]:
        return error(
            400,
            "PARAMETER_ERROR.INVALID",
            "A parameter has an invalid value",
            detail,
            source={"parameter": name},
        )

    @staticmethod
    def parameter_required(name: str) -> tuple[int, Json]:
        return error(
            400,
            "PARAMETER_ERROR.REQUIRED",
            "A required parameter is missing",
            f"The parameter '{name}' is required for this request",
            source={"parameter": name},
        )

    @staticmethod
    def entity_invalid(detail: str) -> tuple[int, Json]:
        return error(400, "ENTITY_INVALID", "The request entity is invalid", detail)

    @staticmethod
    def unsupported_media_type() -> tuple[int, Json]:
        return error(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "The request entity has an unsupported media type",
            "Send the body as JSON with the header 'Content-Type: application/json'.",
        )

    @staticmethod
    def unprocessable(pointer: str, detail: str) -> tuple[int, Json]:
        return error(
            422,
            "ENTITY_UNPROCESSABLE",
            "The request entity is not structurally correct",
            detail,
            source={"pointer": pointer},
        )

    @staticmethod
    def attribute_invalid(pointer: str, detail: str) -> tuple[int, Json]:
        return error(
            409,
            "ENTITY_ERROR.ATTRIBUTE.INVALID",
            "An attribute value is invalid.",
            detail,
            source={"pointer": pointer},
        )

    @staticmethod
    def unknown_attribute(name: str, type_: str, pointer: str) -> tuple[int, Json]:
        return error(
            409,
            "ENTITY_ERROR.ATTRIBUTE.UNKNOWN",
            "The provided entity includes an unknown attribute",
            f"'{name}' is not an attribute on the resource '{type_}'",
            source={"pointer": pointer},
        )

    @staticmethod
    def unknown_relationship(name: str, type_: str, pointer: str) -> tuple[int, Json]:
        return error(
            409,
            "ENTITY_ERROR.RELATIONSHIP.UNKNOWN",
            "The provided entity includes an unknown relationship",
            f"'{name}' is not a relationship on the resource '{type_}'",
            source={"pointer": pointer},
        )

    @staticmethod
    def attribute_required(attribute: str) -> tuple[int, Json]:
        return error(
            409,
            "ENTITY_ERROR.ATTRIBUTE.REQUIRED",
            "The provided entity is missing a required attribute",
            f"You must provide a value for the attribute '{attribute}' with this request",
            source={"pointer": f"/data/attributes/{attribute}"},
        )

    @staticmethod
    def relationship_required(relationship: str) -> tuple[int, Json]:
        return error(
            409,
            "ENTITY_ERROR.RELATIONSHIP.REQUIRED",
            "The provided entity is missing a required relationship",
            f"You must provide a value for the relationship '{relationship}' with this request",
            source={"pointer": f"/data/relationships/{relationship}"},
        )

    @staticmethod
    def entity_error(detail: str, pointer: str | None = None) -> tuple[int, Json]:
        extra = {"source": {"pointer": pointer}} if pointer else {}
        return error(409, "ENTITY_ERROR", "There is a problem with the request entity", detail, **extra)

    @staticmethod
    def relationship_invalid(detail: str, relationship: str) -> tuple[int, Json]:
        return error(
            409,
            "ENTITY_ERROR.RELATIONSHIP.INVALID",
            "The provided entity includes a relationship with an invalid value",
            detail,
            source={"pointer": f"/data/relationships/{relationship}"},
        )

    @staticmethod
    def state_invalid(detail: str, associated: dict[str, list[Json]]) -> tuple[int, Json]:
        return error(
            409,
            "STATE_ERROR.ENTITY_STATE_INVALID",
            detail,
            "This resource cannot be reviewed, please check associated errors to see why.",
            meta={"associatedErrors": associated},
        )

    @staticmethod
    def build_not_processed() -> tuple[int, Json]:
        return error(
            422,
            "ENTITY_UNPROCESSABLE",
            "The request entity is not processable",
            "The build is not in a valid processing state for this operation.",
            source={"pointer": "/data/relationships/build"},
        )
