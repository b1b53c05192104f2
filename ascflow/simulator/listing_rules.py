"""Apple's per-request rules for the store listing: text limits, URL form, locales, state locks.

Sources (reference `first-release.md` §16b, request-level): the lock text `Attribute 'whatsNew' cannot be edited at
this time` is Apple's (fastlane#16626, cmux#7977); the limits are Apple's documented ones (name 2-30 and subtitle 30
characters, description 4000, keywords 100 bytes, promotional text 170, What's New 4000). GUESS: the status and code
of a limit or URL breach (409 ENTITY_ERROR.ATTRIBUTE.INVALID at write time, OPEN in §16c) and its wording, the code
of the lock (STATE_ERROR), and that the privacy URLs (plain strings in the spec) must also be absolute http(s) URLs.
Unknown attribute and relationship names are refused for every operation by `spec.check_body`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from ascflow.simulator.documents import ApiError, Errors, Json, error
from ascflow.simulator.listing_catalog import LOCALES
from ascflow.simulator.routing import Call

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


def attribute_locked(name: str) -> tuple[int, Json]:
    return error(
        409,
        "STATE_ERROR",
        "The request cannot be fulfilled because of the state of another resource.",
        f"Attribute '{name}' cannot be edited at this time",
        source={"pointer": f"/data/attributes/{name}"},
    )


def check_attributes(call: Call) -> None:
    """The attributes the body sets are within Apple's limits (unknown names were refused by spec.check_body)."""
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
