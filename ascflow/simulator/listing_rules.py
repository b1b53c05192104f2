"""Apple's per-request rules for the store listing: unknown attributes, text limits, URL form, locales, state locks.

Sources (reference `first-release.md` §16b, request-level): the unknown-attribute text is Apple's (fastlane#16928);
the lock text `Attribute 'whatsNew' cannot be edited at this time` is Apple's (fastlane#16626, cmux#7977); the limits
are Apple's documented ones (name 2-30 and subtitle 30 characters, description 4000, keywords 100 bytes,
promotional text 170, What's New 4000). GUESS: the status and code of a limit or URL breach (409
ENTITY_ERROR.ATTRIBUTE.INVALID at write time, OPEN in §16c) and its wording, the code of the unknown attribute
and of the lock (ENTITY_ERROR.ATTRIBUTE.UNKNOWN, STATE_ERROR), and that the privacy URLs (plain strings in the
spec) must also be absolute http(s) URLs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from ascflow.simulator.documents import ApiError, Errors, Json, error
from ascflow.simulator.listing_catalog import LOCALES
from ascflow.simulator.routing import Call
from ascflow.simulator.spec import load_spec

# attribute -> (minimum, maximum, unit); keywords count UTF-8 bytes, the rest characters.
LIMITS: dict[str, tuple[int, int, str]] = {
    "name": (2, 30, "characters"),
    "subtitle": (0, 30, "characters"),
    "description": (0, 4000, "characters"),
    "keywords": (0, 100, "bytes"),
    "promotionalText": (0, 170, "characters"),
    "whatsNew": (0, 4000, "characters"),
}
URL_ATTRIBUTES = {
    "supportUrl", "marketingUrl", "privacyPolicyUrl", "privacyChoicesUrl", "accessibilityUrl",
    "subscriptionStatusUrl", "subscriptionStatusUrlForSandbox", "developerAgeRatingInfoUrl",
}  # fmt: skip


def unknown_attribute(name: str, type_: str) -> tuple[int, Json]:
    return error(
        409,
        "ENTITY_ERROR.ATTRIBUTE.UNKNOWN",
        "The provided entity includes an unknown attribute",
        f"'{name}' is not an attribute on the resource '{type_}'",
        source={"pointer": f"/data/attributes/{name}"},
    )


def attribute_locked(name: str) -> tuple[int, Json]:
    return error(
        409,
        "STATE_ERROR",
        "The request cannot be fulfilled because of the state of another resource.",
        f"Attribute '{name}' cannot be edited at this time",
        source={"pointer": f"/data/attributes/{name}"},
    )


def check_attributes(call: Call) -> None:
    """Every attribute the body sets is one the operation's request schema declares, within Apple's limits."""
    matched = load_spec().match(call.path)
    if matched is None:
        return
    operation = matched[0].methods[call.method]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    data = load_spec().schemas[ref.rsplit("/", 1)[-1]]["properties"]["data"]["properties"]
    declared = data.get("attributes", {}).get("properties", {})
    type_ = data["type"]["enum"][0]
    for name in call.attributes:
        if name not in declared:
            raise ApiError(unknown_attribute(name, type_))
    check_values(call.attributes.items())


def check_values(values: Iterable[tuple[str, object]]) -> None:
    for name, value in values:
        if not isinstance(value, str):
            continue
        if name in LIMITS:
            low, high, unit = LIMITS[name]
            size = len(value.encode()) if unit == "bytes" else len(value)
            if not low <= size <= high:
                span = f"between {low} and {high}" if low else f"at most {high}"
                raise ApiError(
                    Errors.attribute_invalid(
                        f"/data/attributes/{name}",
                        f"The value of '{name}' must be {span} {unit} long; it is {size} {unit}.",
                    )
                )
        if name == "earliestReleaseDate" and not _date_time(value):
            raise ApiError(
                Errors.attribute_invalid(
                    "/data/attributes/earliestReleaseDate",
                    f"'{value}' is not a date-time: give it as 2026-06-17T12:00:00-07:00",
                )
            )
        if name in URL_ATTRIBUTES and value and not absolute_url(value):
            raise ApiError(
                Errors.attribute_invalid(
                    f"/data/attributes/{name}",
                    f"'{value}' is not a valid URL for '{name}': give the entire URL, starting with https://",
                )
            )


def _date_time(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value


def absolute_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc) and " " not in value


def check_locale(locale: str) -> None:
    if locale not in LOCALES:
        raise ApiError(
            Errors.attribute_invalid(
                "/data/attributes/locale",
                f"'{locale}' is not a valid locale for the App Store; use one of {', '.join(sorted(LOCALES))}",
            )
        )


def check_update(call: Call) -> None:
    """A PATCH names the resource of its path (JSON:API), and sets only declared attributes within limits."""
    given = call.data.get("id")
    if given != call.ids[0]:
        raise ApiError(
            Errors.entity_error(
                f"The id '{given}' in the request body does not match the id '{call.ids[0]}' in the path.",
                "/data/id",
            )
        )
    check_attributes(call)
