"""Apple's facts the listing is checked against, each with its source (see ../shared/reference/first-release.md).

Names and enums copied from Apple's OpenAPI spec 4.4.1 are checked against the spec by tests/listing; the
lists the spec does not hold (locales, categories, screenshot sizes) come from the sources named here.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Literal

from ascflow.spec import APPLE_OPENAPI

# Text limits: Apple's "Platform version information" and "App information" pages (reference §3, §7).
NAME_MIN, NAME_MAX = 2, 30
SUBTITLE_MAX = 30
DESCRIPTION_MAX = 4000
KEYWORDS_MAX_BYTES = 100  # bytes of UTF-8, not characters
PROMOTIONAL_TEXT_MAX = 170
WHATS_NEW_MAX = 4000
# GUESS: App Store Connect's review-notes box stops at 4000 characters (reference §12); Apple states no limit.
REVIEW_NOTES_MAX = 4000
SCREENSHOTS_PER_SET_MIN, SCREENSHOTS_PER_SET_MAX = 1, 10

# The spec does not enumerate locales. This is App Store Connect's list of 39 metadata languages as fastlane's
# deliver prints it when a folder name is not one of them (and Apple's help page dev997f9cf7c). GUESS: Apple
# may add languages; a locale Apple accepts but this list lacks is a one-line addition here.
Locale = Literal[
    "ar-SA", "ca", "cs", "da", "de-DE", "el", "en-AU", "en-CA", "en-GB", "en-US", "es-ES", "es-MX", "fi",
    "fr-CA", "fr-FR", "he", "hi", "hr", "hu", "id", "it", "ja", "ko", "ms", "nl-NL", "no", "pl", "pt-BR",
    "pt-PT", "ro", "ru", "sk", "sv", "th", "tr", "uk", "vi", "zh-Hans", "zh-Hant",
]  # fmt: skip

# The spec does not enumerate category IDs: fastlane's Spaceship::ConnectAPI::AppCategory map (reference §2.2).
# Apple's live list is GET /v1/appCategories; the step that applies the listing reads it.
Category = Literal[
    "BOOKS", "BUSINESS", "DEVELOPER_TOOLS", "EDUCATION", "ENTERTAINMENT", "FINANCE", "FOOD_AND_DRINK", "GAMES",
    "GRAPHICS_AND_DESIGN", "HEALTH_AND_FITNESS", "LIFESTYLE", "MAGAZINES_AND_NEWSPAPERS", "MEDICAL", "MUSIC",
    "NAVIGATION", "NEWS", "PHOTO_AND_VIDEO", "PRODUCTIVITY", "REFERENCE", "SHOPPING", "SOCIAL_NETWORKING",
    "SPORTS", "STICKERS", "TRAVEL", "UTILITIES", "WEATHER",
]  # fmt: skip
# GUESS (from the same map): subcategories exist only under GAMES and STICKERS, and their IDs carry the
# parent's ID as prefix; a subcategory under another parent is refused here.
Subcategory = Literal[
    "GAMES_ACTION", "GAMES_ADVENTURE", "GAMES_BOARD", "GAMES_CARD", "GAMES_CASINO", "GAMES_CASUAL",
    "GAMES_FAMILY", "GAMES_MUSIC", "GAMES_PUZZLE", "GAMES_RACING", "GAMES_ROLE_PLAYING", "GAMES_SIMULATION",
    "GAMES_SPORTS", "GAMES_STRATEGY", "GAMES_TRIVIA", "GAMES_WORD",
    "STICKERS_ANIMALS", "STICKERS_ART", "STICKERS_CELEBRATIONS", "STICKERS_CELEBRITIES", "STICKERS_CHARACTERS",
    "STICKERS_EATING_AND_DRINKING", "STICKERS_EMOJI_AND_EXPRESSIONS", "STICKERS_FASHION", "STICKERS_GAMING",
    "STICKERS_KIDS_AND_FAMILY", "STICKERS_MOVIES_AND_TV", "STICKERS_MUSIC", "STICKERS_PEOPLE",
    "STICKERS_PLACES_AND_OBJECTS", "STICKERS_SPORTS_AND_ACTIVITIES",
]  # fmt: skip

# Spec enums (tests/listing/test_spec_coverage.py compares each with the spec).
ContentRights = Literal["DOES_NOT_USE_THIRD_PARTY_CONTENT", "USES_THIRD_PARTY_CONTENT"]
ReleaseType = Literal["MANUAL", "AFTER_APPROVAL", "SCHEDULED"]
# OPEN (reference §16c): which pair Apple accepts per attribute since the 2025 questionnaire; the spec allows all.
Frequency = Literal["NONE", "INFREQUENT_OR_MILD", "FREQUENT_OR_INTENSE", "INFREQUENT", "FREQUENT"]
KidsAgeBand = Literal["FIVE_AND_UNDER", "SIX_TO_EIGHT", "NINE_TO_ELEVEN"]
AgeRatingOverride = Literal["NONE", "NINE_PLUS", "THIRTEEN_PLUS", "SIXTEEN_PLUS", "SEVENTEEN_PLUS", "UNRATED"]
AgeRatingOverrideV2 = Literal[
    "NONE", "NINE_PLUS", "THIRTEEN_PLUS", "SIXTEEN_PLUS", "EIGHTEEN_PLUS", "UNRATED"
]
KoreaAgeRatingOverride = Literal["NONE", "FIFTEEN_PLUS", "NINETEEN_PLUS"]
ScreenshotDisplayType = Literal[
    "APP_IPHONE_67", "APP_IPHONE_61", "APP_IPHONE_65", "APP_IPHONE_58", "APP_IPHONE_55", "APP_IPHONE_47",
    "APP_IPHONE_40", "APP_IPHONE_35", "APP_IPAD_PRO_3GEN_129", "APP_IPAD_PRO_3GEN_11", "APP_IPAD_PRO_129",
    "APP_IPAD_105", "APP_IPAD_97", "APP_DESKTOP", "APP_WATCH_ULTRA", "APP_WATCH_SERIES_10", "APP_WATCH_SERIES_7",
    "APP_WATCH_SERIES_4", "APP_WATCH_SERIES_3", "APP_APPLE_TV", "APP_APPLE_VISION_PRO", "IMESSAGE_APP_IPHONE_67",
    "IMESSAGE_APP_IPHONE_61", "IMESSAGE_APP_IPHONE_65", "IMESSAGE_APP_IPHONE_58", "IMESSAGE_APP_IPHONE_55",
    "IMESSAGE_APP_IPHONE_47", "IMESSAGE_APP_IPHONE_40", "IMESSAGE_APP_IPAD_PRO_3GEN_129",
    "IMESSAGE_APP_IPAD_PRO_3GEN_11", "IMESSAGE_APP_IPAD_PRO_129", "IMESSAGE_APP_IPAD_105", "IMESSAGE_APP_IPAD_97",
]  # fmt: skip

# Accepted pixel sizes (width, height) in portrait; the landscape transposes are accepted too. From fastlane's
# deliver DEVICE_RESOLUTIONS, which cites Apple's screenshot specifications (reference §8.2). The iMessage types
# take the sizes of the device they name (fastlane). Watch, TV, desktop and Vision Pro sizes are not in the
# reference, so a set of those types is refused offline rather than passed unchecked.
_PORTRAIT_SIZES: dict[str, tuple[tuple[int, int], ...]] = {
    "IPHONE_67": ((1260, 2736), (1290, 2796), (1320, 2868)),
    "IPHONE_65": ((1242, 2688), (1284, 2778)),
    "IPHONE_61": ((1179, 2556), (1206, 2622)),
    "IPHONE_58": ((1170, 2532), (1125, 2436), (1080, 2340)),
    "IPHONE_55": ((1242, 2208),),
    "IPHONE_47": ((750, 1334),),
    "IPHONE_40": ((640, 1096), (640, 1136), (600, 1136)),
    "IPHONE_35": ((640, 920), (640, 960), (600, 960)),
    "IPAD_PRO_3GEN_129": ((2048, 2732), (2064, 2752)),
    "IPAD_PRO_129": ((2048, 2732),),
    "IPAD_PRO_3GEN_11": ((1488, 2266), (1668, 2420), (1668, 2388), (1640, 2360)),
    "IPAD_105": ((1668, 2224),),
    "IPAD_97": ((748, 1024), (768, 1024), (1496, 2048), (1536, 2048), (768, 1004), (1536, 2008)),
}


def accepted_sizes(display_type: str) -> frozenset[tuple[int, int]]:
    """Every (width, height) Apple accepts for the display type, both orientations; empty when unknown."""
    device = display_type.removeprefix("IMESSAGE_").removeprefix("APP_")
    portrait = _PORTRAIT_SIZES.get(device, ())
    return frozenset(portrait) | frozenset((h, w) for w, h in portrait)


# The sets a release needs in the primary locale (reference §8.3): a 6.9" set (APP_IPHONE_67), or a 6.5" set
# in its place; the 13" iPad set when the build runs on iPad. Other locales fall back to the primary's (GUESS).
IPHONE_REQUIRED_ANY_OF = ("APP_IPHONE_67", "APP_IPHONE_65")
IPAD_REQUIRED = "APP_IPAD_PRO_3GEN_129"


@cache
def territory_codes() -> frozenset[str]:
    """Apple's territory IDs: the spec's TerritoryCode enum (ISO 3166-1 alpha-3 codes, 233 of them)."""
    spec = json.loads(APPLE_OPENAPI.read_text())
    return frozenset(spec["components"]["schemas"]["TerritoryCode"]["enum"])
