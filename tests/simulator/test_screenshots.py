"""Screenshots over real HTTP: sets per localization, reservation, presigned parts, MD5 commit, processing, order."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from tests.simulator.helpers import body
from tests.simulator.listing_steps import (
    commit_screenshot,
    create_version,
    delivered,
    image,
    new_app,
    reserve_screenshot,
    screenshot_set,
    upload_screenshot,
    version_localization,
)
from tests.simulator.publishing import put_parts


@pytest.fixture
def localization_id(start_simulator) -> tuple[httpx.Client, str]:
    sim = new_app(start_simulator, upload_part_size=4096)
    api = sim.client()
    return api, version_localization(api, create_version(api, sim.app_id))["id"]


def test_parts_sum_to_the_file_and_a_valid_image_completes(localization_id) -> None:
    api, loc_id = localization_id
    set_id = screenshot_set(api, loc_id).json()["data"]["id"]
    content = image(kind="JPEG")
    reserved = reserve_screenshot(api, set_id, len(content), "a.jpg").json()["data"]
    operations = reserved["attributes"]["uploadOperations"]
    assert len(operations) > 1  # 4 KB parts
    assert sum(op["length"] for op in operations) == len(content)
    assert reserved["attributes"]["assetDeliveryState"]["state"] == "AWAITING_UPLOAD"
    assert set(put_parts(reserved, content)) == {200}
    committed = commit_screenshot(api, reserved["id"], hashlib.md5(content).hexdigest())
    assert committed.json()["data"]["attributes"]["assetDeliveryState"]["state"] == "UPLOAD_COMPLETE"
    done = delivered(api, reserved["id"])
    assert done["attributes"]["assetDeliveryState"] == {"state": "COMPLETE", "errors": [], "warnings": []}
    assert (done["attributes"]["imageAsset"]["width"], done["attributes"]["imageAsset"]["height"]) == (
        1320,
        2868,
    )


def test_a_wrong_pixel_size_ends_failed_with_the_accepted_sizes(localization_id) -> None:
    api, loc_id = localization_id
    set_id = screenshot_set(api, loc_id).json()["data"]["id"]
    # Named as if right: the size is read from the image, not the name.
    shot = upload_screenshot(api, set_id, image((1242, 2688)), "iphone67_1320x2868.png")
    state = shot["attributes"]["assetDeliveryState"]
    assert state["state"] == "FAILED"
    [problem] = state["errors"]
    assert problem["code"] == "IMG_BAD_DIMENSIONS"
    assert "1242x2688" in problem["description"]
    assert "1320x2868" in problem["description"]


def test_an_alpha_channel_ends_failed(localization_id) -> None:
    api, loc_id = localization_id
    set_id = screenshot_set(api, loc_id).json()["data"]["id"]
    shot = upload_screenshot(api, set_id, image(mode="RGBA"))
    state = shot["attributes"]["assetDeliveryState"]
    assert state["state"] == "FAILED"
    assert [e["code"] for e in state["errors"]] == ["IMG_ALPHA_NOT_ALLOWED"]
    landscape = upload_screenshot(api, set_id, image((2868, 1320)))
    assert landscape["attributes"]["assetDeliveryState"]["state"] == "COMPLETE"


def test_a_checksum_that_does_not_match_is_refused_and_the_right_one_commits(localization_id) -> None:
    api, loc_id = localization_id
    set_id = screenshot_set(api, loc_id).json()["data"]["id"]
    content = image()
    shot = reserve_screenshot(api, set_id, len(content)).json()["data"]
    put_parts(shot, content)
    wrong = commit_screenshot(api, shot["id"], hashlib.md5(b"other bytes").hexdigest())
    assert wrong.status_code == 409
    assert wrong.json()["errors"][0]["source"] == {"pointer": "/data/attributes/sourceFileChecksum"}
    right = commit_screenshot(api, shot["id"], hashlib.md5(content).hexdigest())
    assert right.status_code == 200
    assert delivered(api, shot["id"])["attributes"]["sourceFileChecksum"] == hashlib.md5(content).hexdigest()


def test_commit_before_every_part_is_refused(localization_id) -> None:
    api, loc_id = localization_id
    set_id = screenshot_set(api, loc_id).json()["data"]["id"]
    content = image()
    shot = reserve_screenshot(api, set_id, len(content) + 5000).json()["data"]
    response = commit_screenshot(api, shot["id"], hashlib.md5(content).hexdigest())
    assert response.status_code == 409
    assert "were not uploaded" in response.json()["errors"][0]["detail"]


def test_one_set_per_display_type_and_ten_screenshots_per_set(localization_id) -> None:
    api, loc_id = localization_id
    first = screenshot_set(api, loc_id)
    assert first.status_code == 201
    duplicate = screenshot_set(api, loc_id)
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["source"] == {"pointer": "/data/attributes/screenshotDisplayType"}
    assert screenshot_set(api, loc_id, "APP_IPAD_PRO_3GEN_129").status_code == 201
    assert screenshot_set(api, loc_id, "APP_IPHONE_69").status_code == 409  # not in the 4.4.1 enum
    set_id = first.json()["data"]["id"]
    for n in range(10):
        assert reserve_screenshot(api, set_id, 100, f"{n}.png").status_code == 201
    eleventh = reserve_screenshot(api, set_id, 100, "10.png")
    assert eleventh.status_code == 409
    assert "at most 10 screenshots" in eleventh.json()["errors"][0]["detail"]
    found = api.get(
        f"/v1/appStoreVersionLocalizations/{loc_id}/appScreenshotSets",
        params={"filter[screenshotDisplayType]": "APP_IPHONE_67"},
    ).json()["data"]
    assert [s["id"] for s in found] == [set_id]


def test_screenshots_keep_creation_order_until_reordered(localization_id) -> None:
    api, loc_id = localization_id
    set_id = screenshot_set(api, loc_id).json()["data"]["id"]
    ids = [reserve_screenshot(api, set_id, 100, f"{n}.png").json()["data"]["id"] for n in range(3)]
    linkage = f"/v1/appScreenshotSets/{set_id}/relationships/appScreenshots"
    assert [r["id"] for r in api.get(linkage).json()["data"]] == ids
    new_order = [ids[2], ids[0], ids[1]]
    reordered = api.patch(linkage, json={"data": [{"type": "appScreenshots", "id": i} for i in new_order]})
    assert reordered.status_code == 204
    assert [
        s["id"] for s in api.get(f"/v1/appScreenshotSets/{set_id}/appScreenshots").json()["data"]
    ] == new_order
    partial = api.patch(linkage, json={"data": [{"type": "appScreenshots", "id": ids[0]}]})
    assert partial.status_code == 409
    assert api.delete(f"/v1/appScreenshots/{ids[0]}").status_code == 204
    assert [r["id"] for r in api.get(linkage).json()["data"]] == [ids[2], ids[1]]


def test_deleting_a_localization_deletes_its_screenshots(start_simulator) -> None:
    sim = new_app(start_simulator)
    api = sim.client()
    version_id = create_version(api, sim.app_id)
    french = api.post(
        "/v1/appStoreVersionLocalizations",
        json=body(
            "appStoreVersionLocalizations",
            {"locale": "fr-FR"},
            appStoreVersion=("appStoreVersions", version_id),
        ),
    ).json()["data"]
    set_id = screenshot_set(api, french["id"]).json()["data"]["id"]
    shot_id = reserve_screenshot(api, set_id, 100).json()["data"]["id"]
    assert api.delete(f"/v1/appStoreVersionLocalizations/{french['id']}").status_code == 204
    assert api.get(f"/v1/appScreenshotSets/{set_id}").status_code == 404
    assert api.get(f"/v1/appScreenshots/{shot_id}").status_code == 404
