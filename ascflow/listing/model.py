"""The listing file: one app's App Store listing, as a pydantic model (YAML on disk, JSON schema generated).

Field names are snake_case, except the age-rating answers, which keep Apple's names so that
`age_rating.model_dump(by_alias=True, exclude_none=True)` is the body of the declaration's PATCH. The model
holds the per-field rules (types, enums, lengths, URL forms, counts); the rules that join fields or read files
are in `ascflow.listing.checks`, so that one check reports every problem of a file at once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, SecretStr, WithJsonSchema
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from ascflow.listing import apple


def problem(message: str, next_step: str) -> PydanticCustomError:
    """A validation error that carries the operator's next step (read back by `ascflow.listing.problems`)."""
    return PydanticCustomError("listing", message, {"next_step": next_step})


def _absolute_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise problem(
            "is not an absolute http(s) URL",
            "Write the whole address, starting with https://, e.g. https://example.com/support.",
        )
    return value


def _keywords_fit(value: str) -> str:
    size = len(value.encode("utf-8"))
    if size > apple.KEYWORDS_MAX_BYTES:
        raise problem(
            f"is {size} bytes of UTF-8; Apple allows {apple.KEYWORDS_MAX_BYTES} bytes "
            "(a letter outside ASCII takes 2 to 4 bytes)",
            "Drop or shorten keywords until the comma-separated list fits in 100 bytes.",
        )
    return value


def _screenshot_location(value: str) -> str:
    if value.startswith("s3://"):
        bucket, _, key = value.removeprefix("s3://").partition("/")
        if not bucket or not key or key.endswith("/"):
            raise problem(
                "is not an s3://bucket/key address of one file", "Write it as s3://bucket/path/shot.png."
            )
    elif "://" in value or not value.strip():
        raise problem(
            "is neither a file path nor an s3:// URL",
            "Give the image's path relative to the listing file, or its s3://bucket/key.",
        )
    return value


def _known_territory(value: str) -> str:
    if value not in apple.territory_codes():
        raise problem(
            "is not one of Apple's territory codes",
            "Use an ISO 3166-1 alpha-3 code from Apple's TerritoryCode list, e.g. USA, GBR, JPN, DEU.",
        )
    return value


HttpUrl = Annotated[
    str,
    AfterValidator(_absolute_http_url),
    Field(max_length=2048, json_schema_extra={"format": "uri", "pattern": "^https?://"}),
]
Keywords = Annotated[
    str,
    Field(
        min_length=1,
        description="Comma-separated; at most 100 bytes of UTF-8 (not characters).",
        json_schema_extra={"x-max-utf8-bytes": apple.KEYWORDS_MAX_BYTES},
    ),
    AfterValidator(_keywords_fit),
]
ScreenshotLocation = Annotated[
    str,
    AfterValidator(_screenshot_location),
    Field(description="Path relative to the listing file, or s3://bucket/key. PNG or JPEG, RGB, no alpha."),
]
Territory = Annotated[
    str,
    Field(pattern=r"^[A-Z]{3}$", description="Apple's territory code (ISO 3166-1 alpha-3), e.g. USA."),
    AfterValidator(_known_territory),
]
Screenshots = Annotated[
    list[ScreenshotLocation],
    Field(min_length=apple.SCREENSHOTS_PER_SET_MIN, max_length=apple.SCREENSHOTS_PER_SET_MAX),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Localization(_Strict):
    """One locale's texts and images: the app info localization and the version localization in one place."""

    name: str = Field(min_length=apple.NAME_MIN, max_length=apple.NAME_MAX, description="The app's name.")
    subtitle: str | None = Field(default=None, min_length=1, max_length=apple.SUBTITLE_MAX)
    description: str = Field(
        min_length=1, max_length=apple.DESCRIPTION_MAX, description="Plain text, no HTML."
    )
    keywords: Keywords
    support_url: HttpUrl
    marketing_url: HttpUrl | None = None
    privacy_policy_url: HttpUrl = Field(description="Required for every iOS app.")
    promotional_text: str | None = Field(default=None, min_length=1, max_length=apple.PROMOTIONAL_TEXT_MAX)
    whats_new: str | None = Field(
        default=None,
        min_length=1,
        max_length=apple.WHATS_NEW_MAX,
        description="What's New, for updates only: never sent on the app's first version (Apple refuses it).",
    )
    screenshots: dict[apple.ScreenshotDisplayType, Screenshots] = Field(
        default_factory=dict,
        description="Per display type, 1 to 10 images in display order. Other locales fall back to the primary's.",
    )


class Categories(_Strict):
    primary: apple.Category
    primary_subcategories: list[apple.Subcategory] = Field(
        default_factory=list, max_length=2, description="Only under GAMES or STICKERS."
    )
    secondary: apple.Category | None = None
    secondary_subcategories: list[apple.Subcategory] = Field(default_factory=list, max_length=2)


class AgeRating(_Strict):
    """Every answer of Apple's age-rating declaration (AgeRatingDeclarationUpdateRequest, spec 4.4.1).

    The content questions are all required: Apple refuses a submission with unanswered ones. The overrides,
    the Kids band (absent = not Made for Kids) and the info URL are optional. `ageRatingOverride` is deprecated
    in the spec and kept only so that the model covers the whole declaration.
    """

    # Apple's names are the only spelling the file takes; titles stay readable in editors.
    model_config = ConfigDict(
        alias_generator=to_camel,
        field_title_generator=lambda name, _: name.replace("_", " ").capitalize(),
    )

    alcohol_tobacco_or_drug_use_or_references: apple.Frequency
    contests: apple.Frequency
    gambling_simulated: apple.Frequency
    guns_or_other_weapons: apple.Frequency
    medical_or_treatment_information: apple.Frequency
    profanity_or_crude_humor: apple.Frequency
    sexual_content_graphic_and_nudity: apple.Frequency
    sexual_content_or_nudity: apple.Frequency
    horror_or_fear_themes: apple.Frequency
    mature_or_suggestive_themes: apple.Frequency
    violence_cartoon_or_fantasy: apple.Frequency
    violence_realistic_prolonged_graphic_or_sadistic: apple.Frequency
    violence_realistic: apple.Frequency
    advertising: bool
    gambling: bool
    health_or_wellness_topics: bool
    loot_box: bool
    messaging_and_chat: bool
    parental_controls: bool
    age_assurance: bool
    social_media: bool
    social_media_age_restricted: bool
    unrestricted_web_access: bool
    user_generated_content: bool
    kids_age_band: apple.KidsAgeBand | None = None
    age_rating_override: apple.AgeRatingOverride | None = Field(default=None, deprecated=True)
    age_rating_override_v2: apple.AgeRatingOverrideV2 | None = None
    korea_age_rating_override: apple.KoreaAgeRatingOverride | None = None
    developer_age_rating_info_url: HttpUrl | None = None


class Price(_Strict):
    """The price in the base territory; Apple derives the other territories' prices from it."""

    base_territory: Territory = "USA"
    customer_price: Decimal = Field(
        ge=0, decimal_places=3, description="In the base territory's currency; 0 for a free app."
    )

    @property
    def free(self) -> bool:
        return self.customer_price == 0


def _territories(value: object) -> Literal["all"] | tuple[str, ...]:
    # One validator for "all" or a list, so that a bad code gets one error rather than one per union member.
    if value == "all":
        return "all"
    if not isinstance(value, list | tuple) or not value or not all(isinstance(v, str) for v in value):
        raise problem(
            'is neither "all" nor a list of territory codes',
            "Write territories: all, or a list such as [USA, GBR, DEU].",
        )
    codes = apple.territory_codes()
    unknown = [str(index) for index, code in enumerate(value) if code not in codes]
    if unknown:
        raise problem(
            f"has codes that are not Apple's territory codes (item {', '.join(unknown)})",
            "Use ISO 3166-1 alpha-3 codes from Apple's TerritoryCode list, e.g. USA, GBR, JPN, DEU.",
        )
    if len(set(value)) != len(value):
        raise problem("names a territory twice", "List each territory once.")
    return tuple(value)


Territories = Annotated[
    Literal["all"] | tuple[str, ...],
    PlainValidator(_territories),
    WithJsonSchema(
        {
            "anyOf": [
                {"const": "all"},
                {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]{3}$"}, "minItems": 1},
            ]
        }
    ),
]


class Availability(_Strict):
    territories: Territories = Field(
        description='"all", or the list of territory codes where the app is sold.'
    )
    available_in_new_territories: bool = Field(description="Also sell in territories Apple adds later.")


class ReviewContact(_Strict):
    first_name: str = Field(min_length=1, max_length=64)
    last_name: str = Field(min_length=1, max_length=64)
    # GUESS: Apple's web form demanded '+' and the country code; whether the API does is unverified (§12).
    phone: str = Field(
        pattern=r"^\+[0-9][0-9 ()-]{5,30}$", description="With + and country code: +44 844 209 0611."
    )
    email: str = Field(pattern=r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,63}$")


class DemoAccount(_Strict):
    """The sign-in Apple's reviewer uses. The file names the account, never the password.

    The password lives where the worker keeps its secrets (its environment, filled from the secrets manager)
    under the variable named here; `password()` reads it as a `SecretStr` at the moment of the Apple call.
    Neither the file, a Prefect parameter nor an error ever holds it.
    """

    name: str = Field(min_length=1, max_length=255, description="The demo account's user name.")
    password_env: str = Field(
        pattern=r"^[A-Z_][A-Z0-9_]{0,127}$",
        description="Name of the worker's environment variable that holds the password, e.g. ACME_DEMO_PASSWORD.",
    )

    def password(self, environ: Mapping[str, str] | None = None) -> SecretStr | None:
        """The password, masked in repr and str; None when the variable is unset or empty."""
        value = (os.environ if environ is None else environ).get(self.password_env)
        return SecretStr(value) if value else None


class ReviewInformation(_Strict):
    contact: ReviewContact
    demo_account: DemoAccount | None = Field(
        default=None, description="Only when the app needs a sign-in; its presence sets demoAccountRequired."
    )
    notes: str | None = Field(default=None, min_length=1, max_length=apple.REVIEW_NOTES_MAX)


class Release(_Strict):
    type: apple.ReleaseType = Field(
        default="AFTER_APPROVAL",
        description="MANUAL, AFTER_APPROVAL, or SCHEDULED (with earliest_release_date).",
    )
    earliest_release_date: datetime | None = Field(
        default=None,
        description="With SCHEDULED only: a future time with its UTC offset, e.g. 2027-03-01T09:00Z.",
    )


class Listing(_Strict):
    """One app's listing file."""

    model_config = ConfigDict(title="ascflow listing file")

    primary_locale: apple.Locale = Field(
        description="The app's primary language; its localization is required."
    )
    localizations: dict[apple.Locale, Localization] = Field(min_length=1)
    categories: Categories
    content_rights: apple.ContentRights
    copyright: str = Field(min_length=1, description="Conventionally the year and the owner: 2026 Acme Inc.")
    age_rating: AgeRating
    price: Price
    availability: Availability
    review: ReviewInformation
    release: Release = Field(default_factory=Release)
    replace_screenshots: bool = Field(
        default=False,
        description="Delete the screenshots App Store Connect holds that this file no longer lists (otherwise "
        "they stay, after the listed ones).",
    )


def listing_json_schema() -> str:
    """The JSON schema of the listing file, as committed in examples/listing.schema.json."""
    return json.dumps(Listing.model_json_schema(), indent=2, ensure_ascii=False) + "\n"
