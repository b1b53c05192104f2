"""Screenshot sets per version localization and screenshots: reserve, PUT the parts, commit, processing, order.

Apple's protocol (reference `first-release.md` §8.4, spec `AppScreenshot*`): the reservation answers
`uploadOperations` covering `fileSize`; the parts go through the same presigned-part storage as builds; the commit
sends `uploaded: true` with the MD5 of the whole file; processing moves `UPLOAD_COMPLETE` to `COMPLETE`, or to
`FAILED` with `errors[]` when the image is not a PNG or JPEG, its pixel size is not one its display type accepts
(§8.2, read from the image itself with Pillow), or it has an alpha channel. At most 10 per set (fastlane, asc CLI).
GUESS (README "The store listing"): the error codes and texts of a failed image (after Apple's legacy
IMG_BAD_DIMENSIONS), the 409s for a duplicate set, an 11th screenshot and a checksum mismatch, that a set belongs to
a version localization only, that edits stop once the version left its editable states, and processing time.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

from PIL import Image, UnidentifiedImageError

from ascflow.simulator.documents import ApiError, Errors, Json
from ascflow.simulator.listing_catalog import MAX_SCREENSHOTS_PER_SET, accepted_sizes
from ascflow.simulator.listing_rules import check_attributes, check_update
from ascflow.simulator.listing_state import (
    SCREENSHOT_PROCESSING_SECONDS,
    add_screenshot,
    add_screenshot_set,
)
from ascflow.simulator.routes.builds import upload_operations
from ascflow.simulator.routes.reads import one
from ascflow.simulator.routes.review import editable
from ascflow.simulator.routing import Call, Reply, created, handles, no_content, ok
from ascflow.simulator.state import PROCESSES, Resource, Team


def _version_of_set(team: Team, screenshot_set: Resource) -> Resource:
    localization = team.related(screenshot_set, "appStoreVersionLocalization")[0]
    return team.related(localization, "appStoreVersion")[0]


@handles("POST", "/v1/appScreenshotSets")
def create_set(call: Call) -> Reply:
    team = call.team
    check_attributes(call)
    if call.relationship("appStoreVersionLocalization") is None:
        raise ApiError(Errors.relationship_required("appStoreVersionLocalization"))
    localization = call.require_related("appStoreVersionLocalization", "appStoreVersionLocalizations")
    editable(team.related(localization, "appStoreVersion")[0])
    display_type = call.attributes["screenshotDisplayType"]
    for existing in team.related(localization, "appScreenshotSets"):
        if existing.attributes["screenshotDisplayType"] == display_type:
            raise ApiError(
                Errors.entity_error(
                    f"The localization already has a screenshot set of type '{display_type}' "
                    f"(appScreenshotSets/{existing.id}). Add screenshots to it instead.",
                    "/data/attributes/screenshotDisplayType",
                )
            )
    return created(call, add_screenshot_set(team, localization, display_type))


@handles("DELETE", "/v1/appScreenshotSets/{id}")
def delete_set(call: Call) -> Reply:
    team = call.team
    screenshot_set = one(call, "appScreenshotSets")
    editable(_version_of_set(team, screenshot_set))
    for shot in team.related(screenshot_set, "appScreenshots"):
        team.remove("appScreenshots", shot.id)
    team.remove("appScreenshotSets", screenshot_set.id)
    return no_content()


@handles("PATCH", "/v1/appScreenshotSets/{id}/relationships/appScreenshots")
def reorder(call: Call) -> Reply:
    screenshot_set = one(call, "appScreenshotSets")
    editable(_version_of_set(call.team, screenshot_set))
    current = screenshot_set.relationships["appScreenshots"]
    wanted = [("appScreenshots", linkage["id"]) for linkage in call.body["data"]]
    if not isinstance(current, list) or sorted(wanted) != sorted(current):
        raise ApiError(
            Errors.entity_error(
                "The new order must list every screenshot of the set exactly once "
                f"(the set holds {len(current) if isinstance(current, list) else 0}).",
                "/data",
            )
        )
    screenshot_set.relationships["appScreenshots"] = wanted
    return no_content()


@handles("POST", "/v1/appScreenshots")
def reserve(call: Call) -> Reply:
    team = call.team
    check_attributes(call)
    screenshot_set = call.require_related("appScreenshotSet", "appScreenshotSets")
    editable(_version_of_set(team, screenshot_set))
    if len(team.related(screenshot_set, "appScreenshots")) >= MAX_SCREENSHOTS_PER_SET:
        raise ApiError(
            Errors.entity_error(
                f"A screenshot set holds at most {MAX_SCREENSHOTS_PER_SET} screenshots; delete one first.",
                "/data/relationships/appScreenshotSet",
            )
        )
    size = call.attributes["fileSize"]
    if size <= 0:
        raise ApiError(
            Errors.attribute_invalid(
                "/data/attributes/fileSize", "The file size must be a positive byte count."
            )
        )
    shot_id = team.new_id("appScreenshots")
    operations = upload_operations(team, call.base_url, shot_id, size)
    shot = add_screenshot(team, screenshot_set, call.attributes["fileName"], size, operations, shot_id)
    return created(call, shot)


@handles("PATCH", "/v1/appScreenshots/{id}")
def commit(call: Call) -> Reply:
    team = call.team
    shot = one(call, "appScreenshots")
    check_update(call)
    if (
        not call.attributes.get("uploaded")
        or shot.attributes["assetDeliveryState"]["state"] != "AWAITING_UPLOAD"
    ):
        return ok(call, shot)  # nothing to commit, or a repeated commit: no change
    parts: dict[int, bytes] = shot.hidden["parts"]
    missing = [
        op["partNumber"] for op in shot.attributes["uploadOperations"] if op["partNumber"] not in parts
    ]
    if missing:
        raise ApiError(
            Errors.entity_error(
                f"The screenshot cannot be committed: parts {missing} were not uploaded. Upload every operation "
                "first.",
                "/data/attributes/uploaded",
            )
        )
    content = b"".join(parts[n] for n in sorted(parts))
    checksum = call.attributes.get("sourceFileChecksum")
    if not checksum:
        raise ApiError(Errors.attribute_required("sourceFileChecksum"))
    if hashlib.md5(content, usedforsecurity=False).hexdigest() != str(checksum).lower():
        raise ApiError(
            Errors.attribute_invalid(
                "/data/attributes/sourceFileChecksum",
                "The checksum does not match the uploaded file: send the MD5 (hex) of the whole file.",
            )
        )
    shot.attributes["sourceFileChecksum"] = checksum
    shot.attributes["assetDeliveryState"]["state"] = "UPLOAD_COMPLETE"
    shot.hidden.update(parts={}, content=content, due=team.now() + SCREENSHOT_PROCESSING_SECONDS)
    return ok(call, shot)


@handles("DELETE", "/v1/appScreenshots/{id}")
def delete(call: Call) -> Reply:
    team = call.team
    shot = one(call, "appScreenshots")
    screenshot_set = team.related(shot, "appScreenshotSet")[0]
    editable(_version_of_set(team, screenshot_set))
    order = screenshot_set.relationships["appScreenshots"]
    if isinstance(order, list):
        order.remove(("appScreenshots", shot.id))
    team.remove("appScreenshots", shot.id)
    return no_content()


def image_problems(content: bytes, display_type: str) -> tuple[list[Json], tuple[int, int] | None]:
    """What Apple's processing finds wrong with an image for `display_type`, and its pixel size."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            kind, size, mode, info = image.format, image.size, image.mode, dict(image.info)
    except (UnidentifiedImageError, OSError):
        kind, size, mode, info = None, None, "", {}
    if kind not in {"PNG", "JPEG"} or size is None:
        return [
            {
                "code": "IMG_INVALID_FORMAT",
                "description": "The file is not an image App Store Connect accepts: upload a .jpeg, .jpg, or .png "
                "file.",
            }
        ], None
    problems: list[Json] = []
    allowed = accepted_sizes(display_type)
    if allowed is not None and size not in allowed:
        listed = ", ".join(f"{w}x{h}" for w, h in sorted(allowed))
        problems.append(
            {
                "code": "IMG_BAD_DIMENSIONS",
                "description": f"The image dimensions are not supported for {display_type}: the image is "
                f"{size[0]}x{size[1]} pixels. It must be a .jpeg, .jpg, or .png file that is {listed} pixels, "
                "at least 72 DPI, and in the RGB color space.",
            }
        )
    if mode in {"RGBA", "LA", "PA", "La"} or "transparency" in info:
        problems.append(
            {
                "code": "IMG_ALPHA_NOT_ALLOWED",
                "description": "The image has an alpha channel or transparency. Export it without transparency "
                "(RGB, no alpha).",
            }
        )
    return problems, size


def process_screenshots(team: Team, now: float) -> None:
    """Apple's processing of committed screenshots whose time has come."""
    for shot in team.all("appScreenshots"):
        due = shot.hidden.get("due")
        if shot.attributes["assetDeliveryState"]["state"] != "UPLOAD_COMPLETE" or due is None or due > now:
            continue
        screenshot_set = team.related(shot, "appScreenshotSet")
        display_type = screenshot_set[0].attributes["screenshotDisplayType"] if screenshot_set else ""
        problems, size = image_problems(shot.hidden.pop("content", b""), display_type)
        shot.hidden.pop("due")
        state: dict[str, Any] = shot.attributes["assetDeliveryState"]
        if problems:
            state.update(state="FAILED", errors=problems)
            continue
        state["state"] = "COMPLETE"
        if size is not None:
            shot.attributes["imageAsset"] = {
                "templateUrl": f"https://is1-ssl.mzstatic.com/image/thumb/{shot.id}/{{w}}x{{h}}bb.{{f}}",
                "width": size[0],
                "height": size[1],
            }


PROCESSES.append(process_screenshots)
