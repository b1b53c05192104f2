"""One screenshot set of a version localization, made to hold exactly the listing's files in its order.

Screenshots are matched by the MD5 checksum Apple keeps (`sourceFileChecksum`, the one the commit sent), so a
rerun uploads nothing it uploaded before, and a renamed file is not sent again. A screenshot Apple holds that the
listing no longer lists is deleted only when `replace` is true; reservations that were never committed and
screenshots Apple FAILED to process are ours to clean up and always deleted (they never show on the store).

Display order: Apple keeps creation order for new screenshots (GUESS, reference §8.5 OPEN), so the order after
this call is computed rather than read again; the reorder PATCH is sent only when that order differs from the
listing's. Were the GUESS wrong, the next run reads the real order and fixes it.
"""

from __future__ import annotations

import functools
import hashlib
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ascflow.connect.actions.common import ActionFailed, Ensured, Sleep, create_once, update_once
from ascflow.connect.actions.uploads import ReservedAsset, deliver, wait_for_delivery
from ascflow.connect.client import AppStoreConnect
from ascflow.connect.errors import NotFound
from ascflow.connect.listing_models import AppScreenshot, AppScreenshotSet
from ascflow.connect.models import AssetDeliveryStateValue
from ascflow.connect.resources.screenshots import SCREENSHOTS_PER_SET

# Apple's screenshot processing takes seconds (fastlane polls every 2 s).
POLL_INTERVAL = 2.0
TIMEOUT = 300.0
_UNFINISHED = frozenset({AssetDeliveryStateValue.AWAITING_UPLOAD, AssetDeliveryStateValue.FAILED})


@dataclass(frozen=True)
class ScreenshotSet:
    """The set and its screenshot ids in the order the listing gives (the order now at Apple)."""

    screenshot_set: AppScreenshotSet
    screenshot_ids: tuple[str, ...]


def _state(shot: AppScreenshot) -> AssetDeliveryStateValue | None:
    delivery = shot.attributes.asset_delivery_state
    return delivery.state if delivery is not None else None


def _md5(content: bytes) -> str:
    return hashlib.md5(content, usedforsecurity=False).hexdigest()


def ensure_screenshots(
    client: AppStoreConnect,
    localization_id: str,
    display_type: str,
    files: Sequence[tuple[str, bytes]],
    replace: bool,
    *,
    poll_interval: float = POLL_INTERVAL,
    timeout: float = TIMEOUT,
    sleep: Sleep = time.sleep,
) -> Ensured[ScreenshotSet]:
    """The localization's `display_type` set holding `files` ((file name, bytes), in display order)."""
    checksums = [_md5(content) for _, content in files]
    if len(set(checksums)) != len(checksums):
        raise ActionFailed(
            f"{display_type}: the same image is listed twice.",
            next_step="List each screenshot once per display type.",
        )
    if len(files) > SCREENSHOTS_PER_SET:
        raise ActionFailed(
            f"{display_type}: {len(files)} screenshots listed; Apple takes at most {SCREENSHOTS_PER_SET} per set.",
            next_step=f"List at most {SCREENSHOTS_PER_SET} screenshots for {display_type}.",
        )

    screenshot_set, held = client.screenshot_sets.find(localization_id, display_type)
    created = screenshot_set is None
    changes: list[str] = []
    if screenshot_set is None:
        screenshot_set = create_once(
            lambda: client.screenshot_sets.create(localization_id=localization_id, display_type=display_type),
            lambda: client.screenshot_sets.find(localization_id, display_type)[0],
        )
        changes.append(f"{display_type}: created the screenshot set")
    set_id = screenshot_set.id

    finished = [s for s in held if _state(s) not in _UNFINISHED]
    kept = {
        s.attributes.source_file_checksum: s.id
        for s in finished
        if s.attributes.source_file_checksum in checksums
    }
    stale = [s.id for s in finished if s.id not in kept.values()]
    if stale and not replace and len(stale) + len(files) > SCREENSHOTS_PER_SET:
        raise ActionFailed(
            f"{display_type}: Apple holds {len(stale)} screenshot(s) the listing does not list; with the listing's "
            f"{len(files)} the set would pass Apple's limit of {SCREENSHOTS_PER_SET}.",
            next_step="Let the listing replace this set's screenshots, or list the ones Apple holds.",
        )
    # A reservation never committed cannot be matched to bytes (Apple has no checksum for it yet).
    unfinished = [s.id for s in held if _state(s) in _UNFINISHED]
    for shot_id in unfinished + (stale if replace else []):
        _delete(client, shot_id)
    if unfinished:
        changes.append(f"{display_type}: removed {len(unfinished)} unfinished or failed upload(s)")
    if stale and replace:
        changes.append(f"{display_type}: deleted {len(stale)} screenshot(s) no longer listed")

    missing = [
        (name, content, md5) for (name, content), md5 in zip(files, checksums, strict=True) if md5 not in kept
    ]
    new: dict[str, str] = {}
    # Committed in an earlier run but still processing: wait for Apple's verdict like for a new upload.
    processing = [
        s.id
        for s in finished
        if s.id in kept.values() and _state(s) is AssetDeliveryStateValue.UPLOAD_COMPLETE
    ]
    if missing:
        with tempfile.TemporaryDirectory(prefix="ascflow-screenshots-") as scratch:
            for name, content, md5 in missing:
                new[md5] = _upload(
                    client, set_id, Path(scratch) / Path(name).name, content, md5, set(new.values())
                )
        changes.append(f"{display_type}: uploaded {', '.join(name for name, _, _ in missing)}")
    for shot_id in processing + list(new.values()):
        wait_for_delivery(
            functools.partial(_read, client, shot_id),
            what=f"screenshot {shot_id} ({display_type})",
            poll_interval=poll_interval,
            timeout=timeout,
            sleep=sleep,
        )

    listed = [kept.get(md5) or new[md5] for md5 in checksums]
    extra = [] if replace else stale  # kept after the listing's, in Apple's order
    now = [s.id for s in finished if s.id in kept.values() or s.id in extra] + list(new.values())
    if now != listed + extra:
        client.screenshot_sets.reorder(set_id, listed + extra)
        changes.append(f"{display_type}: set the display order")
    return Ensured(ScreenshotSet(screenshot_set, tuple(listed)), created=created, changes=tuple(changes))


def _reserved(shot: AppScreenshot) -> ReservedAsset:
    return ReservedAsset(shot.attributes.upload_operations, shot.attributes.asset_delivery_state)


def _read(client: AppStoreConnect, screenshot_id: str) -> ReservedAsset:
    return _reserved(client.screenshots.get(screenshot_id))


def _upload(
    client: AppStoreConnect, set_id: str, file: Path, content: bytes, md5: str, taken: set[str]
) -> str:
    """Reserve, send the parts with the shared upload helper, commit once; the screenshot's id."""
    file.write_bytes(content)

    def find() -> AppScreenshot | None:
        # A reservation whose answer was lost: the one of this name and size awaiting its upload.
        return next(
            (
                s
                for s in client.screenshot_sets.screenshots(set_id)
                if s.id not in taken
                and s.attributes.file_name == file.name
                and s.attributes.file_size == len(content)
                and _state(s) is AssetDeliveryStateValue.AWAITING_UPLOAD
            ),
            None,
        )

    shot = create_once(
        lambda: client.screenshots.reserve(set_id=set_id, file_name=file.name, file_size=len(content)), find
    )
    shot_id = shot.id
    deliver(
        client.session,
        file,
        reserved=_reserved(shot),
        read=functools.partial(_read, client, shot_id),
        commit=lambda: client.screenshots.commit(shot_id, md5),
    )
    return shot_id


def _delete(client: AppStoreConnect, screenshot_id: str) -> None:
    def gone() -> bool:
        try:
            client.screenshots.get(screenshot_id)
        except NotFound:
            return True
        return False

    update_once(lambda: client.screenshots.delete(screenshot_id), gone)
