"""Screenshot sets of a version localization and their screenshots (reference first-release.md §8).

A screenshot is an uploadable asset: `reserve` answers its upload operations, the parts go through
`ascflow.connect.actions.uploads`, and `commit` sends `uploaded` with the MD5 of the whole file.
"""

from __future__ import annotations

from collections.abc import Sequence

from ascflow.connect.listing_models import AppScreenshot, AppScreenshotSet, parse_included
from ascflow.connect.models import parse_many, parse_one
from ascflow.connect.resources.base import ResourceGroup, linkage, request_document

# Apple refuses an 11th screenshot in a set (fastlane, asc CLI); the include limit's maximum is 50.
SCREENSHOTS_PER_SET = 10


class AppScreenshotSets(ResourceGroup):
    def find(
        self, localization_id: str, display_type: str
    ) -> tuple[AppScreenshotSet | None, list[AppScreenshot]]:
        """The localization's set of `display_type` with its screenshots (in the set's display order)."""
        params: dict[str, str | int] = {
            "filter[screenshotDisplayType]": display_type,
            "include": "appScreenshots",
            "limit[appScreenshots]": 50,
        }
        path = f"/v1/appStoreVersionLocalizations/{localization_id}/appScreenshotSets"
        pages = list(self._session.paginate(path, params))
        sets = [
            s
            for s in parse_many(AppScreenshotSet, pages)
            if s.attributes.screenshot_display_type == display_type
        ]
        if not sets:
            return None, []
        by_id = {shot.id: shot for shot in parse_included(AppScreenshot, pages)}
        return sets[0], [by_id[i] for i in sets[0].related_ids("appScreenshots") if i in by_id]

    def create(self, *, localization_id: str, display_type: str) -> AppScreenshotSet:
        body = request_document(
            "appScreenshotSets",
            attributes={"screenshotDisplayType": display_type},
            relationships={
                "appStoreVersionLocalization": linkage("appStoreVersionLocalizations", localization_id)
            },
        )
        return parse_one(AppScreenshotSet, self._session.post("/v1/appScreenshotSets", body))

    def screenshots(self, set_id: str) -> list[AppScreenshot]:
        """The set's screenshots in display order."""
        return parse_many(
            AppScreenshot, self._session.paginate(f"/v1/appScreenshotSets/{set_id}/appScreenshots")
        )

    def reorder(self, set_id: str, screenshot_ids: Sequence[str]) -> None:
        """Replace the display order; Apple wants every screenshot of the set listed once."""
        body = {"data": [linkage("appScreenshots", i) for i in screenshot_ids]}
        self._session.patch(f"/v1/appScreenshotSets/{set_id}/relationships/appScreenshots", body)


class AppScreenshots(ResourceGroup):
    def reserve(self, *, set_id: str, file_name: str, file_size: int) -> AppScreenshot:
        body = request_document(
            "appScreenshots",
            attributes={"fileName": file_name, "fileSize": file_size},
            relationships={"appScreenshotSet": linkage("appScreenshotSets", set_id)},
        )
        return parse_one(AppScreenshot, self._session.post("/v1/appScreenshots", body))

    def commit(self, screenshot_id: str, md5_hex: str) -> None:
        body = request_document(
            "appScreenshots",
            id_=screenshot_id,
            attributes={"uploaded": True, "sourceFileChecksum": md5_hex},
        )
        self._session.patch(f"/v1/appScreenshots/{screenshot_id}", body)

    def get(self, screenshot_id: str) -> AppScreenshot:
        return parse_one(AppScreenshot, self._session.get(f"/v1/appScreenshots/{screenshot_id}"))

    def delete(self, screenshot_id: str) -> None:
        self._session.delete(f"/v1/appScreenshots/{screenshot_id}")
