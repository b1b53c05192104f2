"""`ensure_screenshots` against the simulator over real HTTP: matched by MD5, order kept, stale ones deleted only
with `replace`, failed images reported with Apple's errors, lost answers never making a second screenshot."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import pytest

from ascflow.connect.actions.common import ActionFailed, Ensured
from ascflow.connect.actions.screenshots import ScreenshotSet, ensure_screenshots
from ascflow.connect.actions.uploads import AssetDeliveryFailed
from ascflow.simulator.faults import FaultPlan, FaultRule
from tests.connect.conftest import POLL, Apple
from tests.connect.first_release import IPHONE_67, SCREENSHOTS, FirstRelease, png, start_first_release

A, B, C = SCREENSHOTS
D = ("4-settings.png", png(40))


def localization_id(release: FirstRelease) -> str:
    texts = release.apple.client.version_texts.list_for_version(release.version_id)
    return texts[0].id


def ensure(
    release: FirstRelease, files: list[tuple[str, bytes]], replace: bool = False
) -> Ensured[ScreenshotSet]:
    return ensure_screenshots(
        release.apple.client, localization_id(release), IPHONE_67, files, replace, poll_interval=POLL
    )


def held(release: FirstRelease) -> list[tuple[str | None, str | None]]:
    """(file name, state) of the set's screenshots at Apple, in display order."""
    screenshot_set, shots = release.apple.client.screenshot_sets.find(localization_id(release), IPHONE_67)
    assert screenshot_set is not None
    return [
        (
            s.attributes.file_name,
            s.attributes.asset_delivery_state.state.value if s.attributes.asset_delivery_state else None,
        )
        for s in shots
    ]


def md5(content: bytes) -> str:
    return hashlib.md5(content).hexdigest()


@pytest.fixture
def release(make_apple: Callable[..., Apple]) -> FirstRelease:
    return start_first_release(make_apple)


def test_screenshots_are_uploaded_in_order_and_a_rerun_uploads_none(release: FirstRelease) -> None:
    made = ensure(release, [A, B, C])
    assert made.created
    assert held(release) == [(A[0], "COMPLETE"), (B[0], "COMPLETE"), (C[0], "COMPLETE")]
    state = release.apple.control.state()["appScreenshots"]
    assert sorted(s["attributes"]["sourceFileChecksum"] for s in state) == sorted(
        md5(f[1]) for f in (A, B, C)
    )
    assert release.writes().count("POST /v1/appScreenshots") == 3

    mark = len(release.apple.transport.requests)
    again = ensure(release, [A, B, C])
    assert again.changes == ()
    assert not again.created
    assert again.resource.screenshot_ids == made.resource.screenshot_ids
    assert release.writes(mark) == []
    assert release.part_uploads(mark) == 0


def test_a_renamed_file_is_matched_by_checksum_not_name(release: FirstRelease) -> None:
    ensure(release, [A, B, C])
    mark = len(release.apple.transport.requests)
    assert ensure(release, [("home.png", A[1]), B, C]).changes == ()
    assert release.writes(mark) == []


def test_a_replaced_screenshot_is_deleted_only_with_replace(release: FirstRelease) -> None:
    ensure(release, [A, B, C])
    kept = ensure(release, [A, B, D], replace=False)
    # Not deleted without replace: Apple's extra screenshot stays, after the listing's.
    assert held(release) == [(A[0], "COMPLETE"), (B[0], "COMPLETE"), (D[0], "COMPLETE"), (C[0], "COMPLETE")]
    assert not any("deleted" in change for change in kept.changes)

    mark = len(release.apple.transport.requests)
    replaced = ensure(release, [A, B, D], replace=True)
    assert held(release) == [(A[0], "COMPLETE"), (B[0], "COMPLETE"), (D[0], "COMPLETE")]
    assert replaced.changes == (f"{IPHONE_67}: deleted 1 screenshot(s) no longer listed",)
    assert [w.split()[0] for w in release.writes(mark)] == ["DELETE"]  # the order left is the listing's
    assert release.part_uploads(mark) == 0


def test_replace_on_a_changed_image_uploads_it_and_deletes_the_old_without_reordering(
    release: FirstRelease,
) -> None:
    ensure(release, [A, B, C])
    mark = len(release.apple.transport.requests)
    ensure(release, [A, B, D], replace=True)
    assert held(release) == [(A[0], "COMPLETE"), (B[0], "COMPLETE"), (D[0], "COMPLETE")]
    writes = [re.sub(r"/[0-9a-f-]{36}", "/{id}", w) for w in release.writes(mark)]
    assert writes == [
        "DELETE /v1/appScreenshots/{id}",
        "POST /v1/appScreenshots",
        "PATCH /v1/appScreenshots/{id}",
    ]


def test_order_is_patched_only_when_it_differs(release: FirstRelease) -> None:
    made = ensure(release, [A, B, C])
    mark = len(release.apple.transport.requests)
    reordered = ensure(release, [B, A, C])
    assert reordered.changes == (f"{IPHONE_67}: set the display order",)
    assert release.writes(mark) == [
        f"PATCH /v1/appScreenshotSets/{made.resource.screenshot_set.id}/relationships/appScreenshots"
    ]
    assert held(release) == [(B[0], "COMPLETE"), (A[0], "COMPLETE"), (C[0], "COMPLETE")]


def test_a_wrong_size_fails_with_apples_error_and_a_fixed_file_replaces_it(release: FirstRelease) -> None:
    wrong = ("small.png", png(50, size=(600, 800)))
    with pytest.raises(AssetDeliveryFailed, match="IMG_BAD_DIMENSIONS"):
        ensure(release, [wrong])
    assert held(release) == [("small.png", "FAILED")]
    fixed = ensure(release, [A])
    assert held(release) == [(A[0], "COMPLETE")]
    assert f"{IPHONE_67}: removed 1 unfinished or failed upload(s)" in fixed.changes


def test_more_than_apple_holds_without_replace_is_refused_before_any_write(release: FirstRelease) -> None:
    ensure(release, [A, B, C])
    mark = len(release.apple.transport.requests)
    others = [(f"{n}.png", png(100 + n)) for n in range(8)]
    with pytest.raises(ActionFailed, match="limit of 10") as refused:
        ensure(release, others)
    assert "replace" in refused.value.next_step
    assert release.writes(mark) == []


def test_the_same_image_twice_is_refused(release: FirstRelease) -> None:
    with pytest.raises(ActionFailed, match="twice"):
        ensure(release, [A, ("copy.png", A[1])])
    assert release.writes() == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/appScreenshotSets"), ("POST", "/v1/appScreenshots"), ("PATCH", "/v1/appScreenshots/*")],
)
def test_a_lost_answer_makes_no_second_set_or_screenshot(
    make_apple: Callable[..., Apple], method: str, path: str
) -> None:
    rule = FaultRule(kind="drop_after_write", path=path, methods=[method], count=1)
    release = start_first_release(make_apple, faults=FaultPlan(rules=[rule]))
    ensure(release, [A, B, C])
    assert [r.fault for r in release.apple.log()].count("drop_after_write") == 1
    assert held(release) == [(A[0], "COMPLETE"), (B[0], "COMPLETE"), (C[0], "COMPLETE")]
    assert release.apple.count("appScreenshotSets") == 1
    assert release.apple.count("appScreenshots") == 3


def test_a_reservation_left_by_an_interrupted_run_is_removed_and_the_file_sent_again(
    release: FirstRelease,
) -> None:
    client = release.apple.client
    screenshot_set = client.screenshot_sets.create(
        localization_id=localization_id(release), display_type=IPHONE_67
    )
    client.screenshots.reserve(set_id=screenshot_set.id, file_name=A[0], file_size=len(A[1]))
    made = ensure(release, [A, B])
    assert not made.created
    assert made.changes[0] == f"{IPHONE_67}: removed 1 unfinished or failed upload(s)"
    assert held(release) == [(A[0], "COMPLETE"), (B[0], "COMPLETE")]


def test_more_than_ten_listed_is_refused_before_any_call(release: FirstRelease) -> None:
    with pytest.raises(ActionFailed, match="at most 10 per set"):
        ensure(release, [(f"{n}.png", png(n)) for n in range(11)])
    assert [r.url.path for r in release.api_calls()] == [
        f"/v1/appStoreVersions/{release.version_id}/appStoreVersionLocalizations"  # the test's own lookup
    ]
