"""Apple's catalogs behind the store listing: categories, territories, price points, locales, screenshot sizes, and
the age-rating questions (read off the spec's AgeRatingDeclaration schema, so they follow the spec).

Sources (reference `first-release.md`): category IDs from fastlane's AppCategory map (§2.2; Apple's spec does not
enumerate them), pixel sizes from fastlane's DEVICE_RESOLUTIONS which cites Apple's screenshot specifications
(§8.2). GUESS, marked in README "The store listing": the sticker subcategories and every category's platforms, the
territory list (a subset of Apple's 175, with their currencies), the price ladder and its order (free first),
the zero price spelt "0.0", proceeds at 70 %, and the locale list (the 39 App Store locales of fastlane's
languages list).
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

from ascflow.simulator.spec import load_spec

ALL_PLATFORMS = ["IOS", "MAC_OS", "TV_OS", "VISION_OS"]
TOP_CATEGORIES = [
    "BOOKS", "BUSINESS", "DEVELOPER_TOOLS", "EDUCATION", "ENTERTAINMENT", "FINANCE", "FOOD_AND_DRINK",
    "GAMES", "GRAPHICS_AND_DESIGN", "HEALTH_AND_FITNESS", "LIFESTYLE", "MAGAZINES_AND_NEWSPAPERS",
    "MEDICAL", "MUSIC", "NAVIGATION", "NEWS", "PHOTO_AND_VIDEO", "PRODUCTIVITY", "REFERENCE", "SHOPPING",
    "SOCIAL_NETWORKING", "SPORTS", "STICKERS", "TRAVEL", "UTILITIES", "WEATHER"
]  # fmt: skip
GAME_SUBCATEGORIES = [
    "ACTION", "ADVENTURE", "BOARD", "CARD", "CASINO", "CASUAL", "FAMILY", "MUSIC", "PUZZLE", "RACING",
    "ROLE_PLAYING", "SIMULATION", "SPORTS", "STRATEGY", "TRIVIA", "WORD",
]  # fmt: skip
STICKER_SUBCATEGORIES = [
    "ANIMALS", "ART", "BIRTHDAYS", "CELEBRATIONS", "CELEBRITIES", "EMOJI_AND_EXPRESSIONS", "FASHION",
    "FOOD_AND_DRINK", "GAMING", "KIDS_AND_FAMILY", "MOVIES_AND_TV", "MUSIC", "PEOPLE", "PLACES_AND_OBJECTS",
    "SPORTS_AND_ACTIVITIES",
]  # fmt: skip
SUBCATEGORIES = {"GAMES": GAME_SUBCATEGORIES, "STICKERS": STICKER_SUBCATEGORIES}
IOS_ONLY_CATEGORIES = {"STICKERS"}

# (territory, currency, units of the currency per US dollar for the price ladder)
TERRITORIES = [
    ("USA", "USD", "1"), ("CAN", "CAD", "1.4"), ("MEX", "MXN", "20"), ("BRA", "BRL", "5"), ("ARG", "USD", "1"),
    ("CHL", "CLP", "900"), ("COL", "COP", "4000"), ("PER", "PEN", "3.8"), ("GBR", "GBP", "0.8"),
    ("IRL", "EUR", "1"), ("FRA", "EUR", "1"), ("DEU", "EUR", "1"), ("ITA", "EUR", "1"), ("ESP", "EUR", "1"),
    ("PRT", "EUR", "1"), ("NLD", "EUR", "1"), ("BEL", "EUR", "1"), ("AUT", "EUR", "1"), ("FIN", "EUR", "1"),
    ("GRC", "EUR", "1"), ("CHE", "CHF", "0.9"), ("SWE", "SEK", "10"), ("NOR", "NOK", "10"),
    ("DNK", "DKK", "7"), ("POL", "PLN", "4"), ("CZE", "CZK", "23"), ("HUN", "HUF", "360"),
    ("ROU", "RON", "4.6"), ("BGR", "BGN", "1.8"), ("HRV", "EUR", "1"), ("TUR", "TRY", "35"),
    ("ISR", "ILS", "3.7"), ("SAU", "SAR", "3.75"), ("ARE", "AED", "3.7"), ("EGY", "EGP", "50"),
    ("ZAF", "ZAR", "18"), ("NGA", "NGN", "1500"), ("KEN", "KES", "130"), ("IND", "INR", "85"),
    ("PAK", "PKR", "280"), ("CHN", "CNY", "7"), ("HKG", "HKD", "7.8"), ("TWN", "TWD", "32"),
    ("JPN", "JPY", "150"), ("KOR", "KRW", "1400"), ("SGP", "SGD", "1.35"), ("MYS", "MYR", "4.5"),
    ("THA", "THB", "35"), ("IDN", "IDR", "16000"), ("PHL", "PHP", "56"), ("VNM", "VND", "25000"),
    ("AUS", "AUD", "1.5"), ("NZL", "NZD", "1.7"),
]  # fmt: skip
TERRITORY_IDS = [t[0] for t in TERRITORIES]


# The US dollar ladder in Apple's kind of steps (0.10 to 10, 0.50 to 50, 1 to 200, 5 to 1000, 10 to 2000,
# 50 to 3000, 100 to 10000): 679 points, so a territory's points span four pages of 200 (GUESS values).
def _ladder() -> list[Decimal]:
    steps = [("0.29", "10", "0.10"), ("10.49", "50", "0.50"), ("51", "200", "1"), ("205", "1000", "5"),
             ("1010", "2000", "10"), ("2050", "3000", "50"), ("3100", "10000", "100")]  # fmt: skip
    prices = [Decimal(0)]
    for start, stop, step in steps:
        value = Decimal(start)
        while value <= Decimal(stop):
            prices.append(value)
            value += Decimal(step)
    return prices


PRICE_LADDER = _ladder()
FREE_POINT_NUMBER = 10000  # the "p" of the free point's ID; tiers count up from it


def price_point_id(app_id: str, territory: str, index: int) -> str:
    """Apple's opaque price-point ID: base64 of {"s": app, "t": territory, "p": point} (as observed)."""
    raw = json.dumps(
        {"s": app_id, "t": territory, "p": str(FREE_POINT_NUMBER + index)}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def parse_price_point_id(point_id: str) -> tuple[str, str, int] | None:
    """(app ID, territory, ladder index) of a price point ID this simulator issued, else None."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(point_id + "=" * (-len(point_id) % 4)))
        index = int(raw["p"]) - FREE_POINT_NUMBER
        app_id, territory = str(raw["s"]), str(raw["t"])
    except (ValueError, KeyError, TypeError):
        return None
    if territory not in TERRITORY_IDS or not 0 <= index < len(PRICE_LADDER):
        return None
    return app_id, territory, index


def customer_price(territory: str, index: int) -> tuple[str, str]:
    """(customerPrice, proceeds) as Apple's strings; the free point reads "0.0" (GUESS)."""
    rate = Decimal(next(t[2] for t in TERRITORIES if t[0] == territory))
    price = (PRICE_LADDER[index] * rate).quantize(Decimal("0.01"))
    if price == 0:
        return "0.0", "0.0"
    return str(price), str((price * Decimal("0.7")).quantize(Decimal("0.01")))


LOCALES = {
    "ar-SA", "ca", "cs", "da", "de-DE", "el", "en-AU", "en-CA", "en-GB", "en-US", "es-ES", "es-MX", "fi",
    "fr-CA", "fr-FR", "he", "hi", "hr", "hu", "id", "it", "ja", "ko", "ms", "nl-NL", "no", "pl", "pt-BR",
    "pt-PT", "ro", "ru", "sk", "sv", "th", "tr", "uk", "vi", "zh-Hans", "zh-Hant"
}  # fmt: skip

# Accepted portrait sizes per display type (landscape is the transpose), reference §8.2.
SCREENSHOT_SIZES: dict[str, list[tuple[int, int]]] = {
    "APP_IPHONE_67": [(1260, 2736), (1290, 2796), (1320, 2868)],
    "APP_IPHONE_65": [(1242, 2688), (1284, 2778)],
    "APP_IPHONE_61": [(1179, 2556), (1206, 2622)],
    "APP_IPHONE_58": [(1170, 2532), (1125, 2436), (1080, 2340)],
    "APP_IPHONE_55": [(1242, 2208)],
    "APP_IPHONE_47": [(750, 1334)],
    "APP_IPHONE_40": [(640, 1096), (640, 1136), (600, 1136)],
    "APP_IPHONE_35": [(640, 920), (640, 960), (600, 960)],
    "APP_IPAD_PRO_3GEN_129": [(2048, 2732), (2064, 2752)],
    "APP_IPAD_PRO_129": [(2048, 2732)],
    "APP_IPAD_PRO_3GEN_11": [(1488, 2266), (1668, 2420), (1668, 2388), (1640, 2360)],
    "APP_IPAD_105": [(1668, 2224)],
    "APP_IPAD_97": [(748, 1024), (768, 1024), (1496, 2048), (1536, 2048), (768, 1004), (1536, 2008)],
}
# The iPhone sets that satisfy the requirement: 6.9" (APP_IPHONE_67), or 6.5" when no 6.9" set is given (§8.3).
IPHONE_REQUIRED = ("APP_IPHONE_67", "APP_IPHONE_65")
MAX_SCREENSHOTS_PER_SET = 10


def accepted_sizes(display_type: str) -> set[tuple[int, int]] | None:
    """Every accepted (width, height) of a display type, both orientations; None when not checked here."""
    sizes = SCREENSHOT_SIZES.get(display_type.removeprefix("IMESSAGE_"))
    if sizes is None:
        return None
    return set(sizes) | {(h, w) for w, h in sizes}


def age_rating_questions() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The ageRatingDeclaration's attributes in the spec's order: the frequency questions (an enum with
    INFREQUENT_OR_MILD), the yes/no questions (booleans), and the rest, which may stay null (Made for Kids band,
    overrides, the info URL)."""
    spec = load_spec()
    schema = spec.schemas[spec.resource_schemas["ageRatingDeclarations"]]
    attributes: dict[str, dict[str, Any]] = schema["properties"]["attributes"]["properties"]
    frequency = tuple(
        name for name, kind in attributes.items() if "INFREQUENT_OR_MILD" in kind.get("enum", ())
    )
    boolean = tuple(name for name, kind in attributes.items() if kind.get("type") == "boolean")
    optional = tuple(name for name in attributes if name not in frequency + boolean)
    return frequency, boolean, optional
