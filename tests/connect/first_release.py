"""A new app's first release on the simulator, and a complete listing applied with the listing actions.

Shared by the listing, screenshot and pricing client tests: the app has version 1.0 in PREPARE_FOR_SUBMISSION
and only what Apple makes with the app record (appInfo, primary-locale localizations, an unanswered age rating).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from PIL import Image

from ascflow.connect.actions.common import Ensured
from ascflow.connect.actions.listing import (
    AppCategories,
    AppInfoText,
    VersionText,
    ensure_app_details,
    ensure_app_info,
    ensure_version_listing,
)
from ascflow.connect.actions.pricing import ensure_availability, ensure_price
from ascflow.connect.actions.release import is_first_version
from ascflow.connect.actions.screenshots import ensure_screenshots
from ascflow.connect.models import Platform
from ascflow.simulator.scenario import AppSpec, VersionSpec
from tests.connect.conftest import POLL, Apple
from tests.fixtures.openapi import SPEC

NEW_APP_ID = "6400000042"
NEW_BUNDLE = "com.example.firstrelease"
IPHONE_67 = "APP_IPHONE_67"
IPHONE_67_SIZE = (1320, 2868)
# Parts of 64 KB: a generated screenshot goes in one or two parts (the part logic is tested in test_uploads).
PART_SIZE = 64 * 1024

# Reference §4.3: every non-deprecated answer explicitly, "no" throughout; the questions are Apple's schema's.
_QUESTIONS: dict[str, Any] = SPEC.schema("AgeRatingDeclaration")["properties"]["attributes"]["properties"]
AGE_RATING: dict[str, object] = (
    {name: "NONE" for name, kind in _QUESTIONS.items() if "INFREQUENT_OR_MILD" in kind.get("enum", [])}
    | {name: False for name, kind in _QUESTIONS.items() if kind.get("type") == "boolean"}
    | {"kidsAgeBand": None}
)
CATEGORIES = AppCategories(primary="PRODUCTIVITY", secondary="UTILITIES")
APP_INFO_TEXT = AppInfoText(
    name="Tally Counter", subtitle="Count anything", privacy_policy_url="https://example.com/privacy"
)
VERSION_TEXT = VersionText(
    description="Count anything with one tap.",
    keywords="counter,tally,clicker",
    support_url="https://example.com/support",
    marketing_url="https://example.com",
    promotional_text="Now with widgets.",
    whats_new="Widgets for the home screen.",
)
COPYRIGHT = "2026 Example Ltd"


def png(shade: int, size: tuple[int, int] = IPHONE_67_SIZE) -> bytes:
    """An RGB PNG without alpha; each shade gives other bytes (another MD5)."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (shade, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


SCREENSHOTS = [("1-home.png", png(10)), ("2-count.png", png(20)), ("3-share.png", png(30))]


@dataclass
class FirstRelease:
    apple: Apple
    app_id: str
    version_id: str

    def api_calls(self, since: int = 0) -> list[httpx.Request]:
        """App Store Connect API requests the client sent after the first `since` (upload parts excluded)."""
        return [
            r for r in self.apple.transport.requests[since:] if r.url.path.split("/")[1] in {"v1", "v2", "v3"}
        ]

    def writes(self, since: int = 0) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.api_calls(since) if r.method != "GET"]

    def part_uploads(self, since: int = 0) -> int:
        return sum(1 for r in self.apple.transport.requests[since:] if r.method == "PUT")


def start_first_release(make_apple: Callable[..., Apple], **fields: object) -> FirstRelease:
    app = AppSpec(
        id=NEW_APP_ID,
        name="Tally",
        bundle_id=NEW_BUNDLE,
        sku="TALLY-1",
        versions=[VersionSpec(version_string="1.0", state="PREPARE_FOR_SUBMISSION")],
    )
    apple = make_apple(apps=[app], upload_part_size=PART_SIZE, **fields)
    versions = apple.client.versions.list_for_app(app_id=NEW_APP_ID, platform=Platform.IOS)
    apple.transport.requests.clear()
    return FirstRelease(apple, NEW_APP_ID, versions[0].id)


def apply_listing(
    release: FirstRelease,
    *,
    version_text: VersionText = VERSION_TEXT,
    screenshots: list[tuple[str, bytes]] = SCREENSHOTS,
    replace: bool = False,
    customer_price: Decimal = Decimal(0),
) -> list[Ensured[Any]]:
    """The listing steps in the reference's order (§16a): app, app info, version, screenshots, price, availability."""
    client, app_id = release.apple.client, release.app_id
    results: list[Ensured[Any]] = [
        ensure_app_details(client, app_id, "DOES_NOT_USE_THIRD_PARTY_CONTENT"),
        ensure_app_info(client, app_id, CATEGORIES, {"en-US": APP_INFO_TEXT}, AGE_RATING),
    ]
    first = is_first_version(client, app_id=app_id)
    listed = ensure_version_listing(
        client, release.version_id, COPYRIGHT, "AFTER_APPROVAL", None, {"en-US": version_text}, first
    )
    results.append(listed)
    localization_id = listed.resource.localizations["en-US"].id
    results.append(
        ensure_screenshots(client, localization_id, IPHONE_67, screenshots, replace, poll_interval=POLL)
    )
    results.append(ensure_price(client, app_id, "USA", customer_price))
    results.append(ensure_availability(client, app_id, None, True))
    return results


def changes(results: list[Ensured[Any]]) -> list[str]:
    return [change for result in results for change in result.changes]
