"""The model's Apple names and enums are the spec's (4.4.1), read from the spec itself."""

from __future__ import annotations

import json
from functools import cache
from typing import Any, get_args

from ascflow.listing import apple
from ascflow.listing.model import AgeRating, Listing
from ascflow.spec import APPLE_OPENAPI


@cache
def schemas() -> dict[str, Any]:
    return json.loads(APPLE_OPENAPI.read_text())["components"]["schemas"]


def attributes(request: str) -> dict[str, Any]:
    return schemas()[request]["properties"]["data"]["properties"]["attributes"]["properties"]


def enum_of(prop: dict[str, Any]) -> list[str] | None:
    if "$ref" in prop:
        prop = schemas()[prop["$ref"].rsplit("/", 1)[1]]
    return prop.get("enum")


def test_the_age_rating_covers_every_attribute_of_the_declaration_with_its_enum() -> None:
    spec = attributes("AgeRatingDeclarationUpdateRequest")
    model = AgeRating.model_json_schema()["properties"]
    assert sorted(model) == sorted(spec)
    for name, prop in spec.items():
        ours = model[name]
        choices = ours.get("enum") or next((o["enum"] for o in ours.get("anyOf", []) if "enum" in o), None)
        assert choices == enum_of(prop), name
        if prop.get("type") == "boolean":
            assert ours["type"] == "boolean", name
        if prop.get("format") == "uri":
            assert ours["anyOf"][0]["format"] == "uri", name


def test_the_age_rating_dumps_as_the_patch_body() -> None:
    spec = attributes("AgeRatingDeclarationUpdateRequest")
    answers = {
        name: (False if prop.get("type") == "boolean" else "NONE")
        for name, prop in spec.items()
        if name in AgeRating.model_json_schema()["required"]
    }
    declaration = AgeRating.model_validate(answers)
    assert declaration.model_dump(by_alias=True, exclude_none=True) == answers


def test_display_types_content_rights_release_types_and_kids_bands_are_the_specs() -> None:
    assert list(get_args(apple.ScreenshotDisplayType)) == schemas()["ScreenshotDisplayType"]["enum"]
    assert list(get_args(apple.ContentRights)) == enum_of(
        attributes("AppUpdateRequest")["contentRightsDeclaration"]
    )
    assert list(get_args(apple.ReleaseType)) == enum_of(
        attributes("AppStoreVersionUpdateRequest")["releaseType"]
    )
    assert list(get_args(apple.KidsAgeBand)) == schemas()["KidsAgeBand"]["enum"]


def test_the_localization_fields_are_ones_apple_takes() -> None:
    """Each text field maps to an attribute of Apple's localization requests (snake_case to camelCase)."""
    apple_names = set(attributes("AppInfoLocalizationUpdateRequest")) | set(
        attributes("AppStoreVersionLocalizationUpdateRequest")
    )
    ours = Listing.model_json_schema()["$defs"]["Localization"]["properties"]
    camel = {"".join([w if i == 0 else w.capitalize() for i, w in enumerate(f.split("_"))]) for f in ours}
    assert camel - {"screenshots"} <= apple_names


def test_every_display_type_with_known_sizes_is_an_iphone_or_ipad() -> None:
    known = [t for t in get_args(apple.ScreenshotDisplayType) if apple.accepted_sizes(t)]
    assert all("IPHONE" in t or "IPAD" in t for t in known)
    assert len(known) == 25  # 13 APP_ types and 12 IMESSAGE_ ones (the spec has no IMESSAGE_APP_IPHONE_35)
    assert (2868, 1320) in apple.accepted_sizes("APP_IPHONE_67")  # landscape
    assert apple.accepted_sizes("IMESSAGE_APP_IPAD_97") == apple.accepted_sizes("APP_IPAD_97")
