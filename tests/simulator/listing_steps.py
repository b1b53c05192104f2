"""The first release of a new app, step by step as reference §16a lists them, written by hand against the spec.

`prepare_first_release` does every step except those named in `skip`, so a test can leave out exactly one item
and see Apple refuse the submission naming it.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import httpx
from PIL import Image

from ascflow.simulator.scenario import AppSpec
from tests.fixtures.openapi import SPEC
from tests.fixtures.simulator import DEFAULT_APP_ID, DEFAULT_BUNDLE_ID, RunningSimulator
from tests.simulator.helpers import body
from tests.simulator.publishing import put_parts, upload_build, wait_for

IPHONE_69 = (1320, 2868)  # APP_IPHONE_67 accepts it
CONTACT = {
    "contactFirstName": "Rae",
    "contactLastName": "Lee",
    "contactPhone": "+1 555 0100",
    "contactEmail": "review@example.com",
}
# Every age-rating question of Apple's schema answered "no": the frequency ones NONE, the yes/no ones false.
_QUESTIONS: dict[str, Any] = SPEC.schema("AgeRatingDeclaration")["properties"]["attributes"]["properties"]
AGE_RATING: dict[str, Any] = {
    name: "NONE" for name, kind in _QUESTIONS.items() if "INFREQUENT_OR_MILD" in kind.get("enum", [])
} | {name: False for name, kind in _QUESTIONS.items() if kind.get("type") == "boolean"}


def new_app(start_simulator, **fields: Any) -> RunningSimulator:
    """A simulator whose app (the fixture's IDs) has never been released: no versions."""
    app = AppSpec(id=DEFAULT_APP_ID, name="Demo App", bundle_id=DEFAULT_BUNDLE_ID, sku="DEMO-001")
    return start_simulator(apps=[app], **fields)


def create_version(api: httpx.Client, app_id: str) -> str:
    """Version 1.0 of the app, without a build."""
    created = api.post(
        "/v1/appStoreVersions",
        json=body("appStoreVersions", {"platform": "IOS", "versionString": "1.0"}, app=("apps", app_id)),
    )
    assert created.status_code == 201, created.text
    return str(created.json()["data"]["id"])


def image(size: tuple[int, int] = IPHONE_69, *, mode: str = "RGB", kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    color = (30, 120, 200, 128) if mode == "RGBA" else (30, 120, 200)
    Image.new(mode, size, color).save(out, format=kind)
    return out.getvalue()


def patch(api: httpx.Client, type_: str, id_: str, attributes: dict[str, Any] | None = None, **rels: Any):
    return api.patch(f"/v1/{type_}/{id_}", json=body(type_, attributes, id_=id_, **rels))


def editable_app_info(api: httpx.Client, app_id: str) -> dict:
    infos = api.get(
        f"/v1/apps/{app_id}/appInfos", params={"include": "ageRatingDeclaration,appInfoLocalizations"}
    ).json()
    info = next(i for i in infos["data"] if i["attributes"]["state"] == "PREPARE_FOR_SUBMISSION")
    included = {(r["type"], r["id"]): r for r in infos.get("included", [])}
    info["ageRating"] = info["relationships"]["ageRatingDeclaration"]["data"]["id"]
    info["localizations"] = [
        included[("appInfoLocalizations", ref["id"])]
        for ref in info["relationships"]["appInfoLocalizations"]["data"]
    ]
    return info


def version_localization(api: httpx.Client, version_id: str, locale: str = "en-US") -> dict:
    found = api.get(
        f"/v1/appStoreVersions/{version_id}/appStoreVersionLocalizations", params={"filter[locale]": locale}
    ).json()["data"]
    return found[0]


def screenshot_set(
    api: httpx.Client, localization_id: str, display_type: str = "APP_IPHONE_67"
) -> httpx.Response:
    return api.post(
        "/v1/appScreenshotSets",
        json=body(
            "appScreenshotSets",
            {"screenshotDisplayType": display_type},
            appStoreVersionLocalization=("appStoreVersionLocalizations", localization_id),
        ),
    )


def reserve_screenshot(api: httpx.Client, set_id: str, size: int, name: str = "shot.png") -> httpx.Response:
    return api.post(
        "/v1/appScreenshots",
        json=body(
            "appScreenshots",
            {"fileName": name, "fileSize": size},
            appScreenshotSet=("appScreenshotSets", set_id),
        ),
    )


def commit_screenshot(api: httpx.Client, shot_id: str, checksum: str) -> httpx.Response:
    return patch(api, "appScreenshots", shot_id, {"uploaded": True, "sourceFileChecksum": checksum})


def delivered(api: httpx.Client, shot_id: str) -> dict:
    return wait_for(
        lambda: api.get(f"/v1/appScreenshots/{shot_id}").json()["data"],
        lambda shot: shot["attributes"]["assetDeliveryState"]["state"] in {"COMPLETE", "FAILED"},
    )


def upload_screenshot(api: httpx.Client, set_id: str, content: bytes, name: str = "shot.png") -> dict:
    """Reserve, PUT every part, commit with the MD5, and wait for processing; returns the screenshot."""
    shot = reserve_screenshot(api, set_id, len(content), name).json()["data"]
    assert set(put_parts(shot, content)) == {200}
    committed = commit_screenshot(api, shot["id"], hashlib.md5(content).hexdigest())
    assert committed.status_code == 200, committed.text
    return delivered(api, shot["id"])


def free_price_point(api: httpx.Client, app_id: str, territory: str = "USA") -> str:
    url: str | None = f"/v1/apps/{app_id}/appPricePoints?filter[territory]={territory}&limit=200"
    while url:
        page = api.get(url).json()
        for point in page["data"]:
            if float(point["attributes"]["customerPrice"]) == 0:
                return str(point["id"])
        url = page["links"].get("next")
    raise AssertionError("no free price point")


def price_schedule(api: httpx.Client, app_id: str, point_id: str, territory: str = "USA") -> httpx.Response:
    return api.post(
        "/v1/appPriceSchedules",
        json={
            "data": {
                "type": "appPriceSchedules",
                "relationships": {
                    "app": {"data": {"type": "apps", "id": app_id}},
                    "baseTerritory": {"data": {"type": "territories", "id": territory}},
                    "manualPrices": {"data": [{"type": "appPrices", "id": "${price1}"}]},
                },
            },
            "included": [
                {
                    "type": "appPrices",
                    "id": "${price1}",
                    "attributes": {"startDate": None, "endDate": None},
                    "relationships": {"appPricePoint": {"data": {"type": "appPricePoints", "id": point_id}}},
                }
            ],
        },
    )


def availability(api: httpx.Client, app_id: str, territories: list[str]) -> httpx.Response:
    return api.post(
        "/v2/appAvailabilities",
        json={
            "data": {
                "type": "appAvailabilities",
                "attributes": {"availableInNewTerritories": True},
                "relationships": {
                    "app": {"data": {"type": "apps", "id": app_id}},
                    "territoryAvailabilities": {
                        "data": [
                            {"type": "territoryAvailabilities", "id": f"${{ta-{t}}}"} for t in territories
                        ]
                    },
                },
            },
            "included": [
                {
                    "type": "territoryAvailabilities",
                    "id": f"${{ta-{t}}}",
                    "attributes": {"available": True, "releaseDate": None, "preOrderEnabled": False},
                    "relationships": {"territory": {"data": {"type": "territories", "id": t}}},
                }
                for t in territories
            ],
        },
    )


def prepare_first_release(sim: RunningSimulator, skip: frozenset[str] = frozenset()) -> str:
    """Version 1.0 of the new app with its whole listing, leaving out the items in `skip`; returns its ID."""
    api = sim.client()
    app_id = sim.app_id
    build = upload_build(api, app_id, "1.0", "1")
    if "usesNonExemptEncryption" not in skip:
        assert patch(api, "builds", build["id"], {"usesNonExemptEncryption": False}).status_code == 200
    version_rels: dict[str, Any] = {"app": ("apps", app_id)}
    if "build" not in skip:
        version_rels["build"] = ("builds", build["id"])
    created = api.post(
        "/v1/appStoreVersions",
        json=body("appStoreVersions", {"platform": "IOS", "versionString": "1.0"}, **version_rels),
    )
    assert created.status_code == 201, created.text
    version_id: str = created.json()["data"]["id"]
    if "contentRightsDeclaration" not in skip:
        response = patch(
            api, "apps", app_id, {"contentRightsDeclaration": "DOES_NOT_USE_THIRD_PARTY_CONTENT"}
        )
        assert response.status_code == 200, response.text
    info = editable_app_info(api, app_id)
    if "primaryCategory" not in skip:
        response = patch(api, "appInfos", info["id"], primaryCategory=("appCategories", "PRODUCTIVITY"))
        assert response.status_code == 200, response.text
    info_attributes = {"name": "Demo App", "subtitle": "Lists that finish themselves"}
    if "privacyPolicyUrl" not in skip:
        info_attributes["privacyPolicyUrl"] = "https://example.com/privacy"
    response = patch(api, "appInfoLocalizations", info["localizations"][0]["id"], info_attributes)
    assert response.status_code == 200, response.text
    if "ageRating" not in skip:
        assert patch(api, "ageRatingDeclarations", info["ageRating"], AGE_RATING).status_code == 200
    version_attributes = {"releaseType": "AFTER_APPROVAL"}
    if "copyright" not in skip:
        version_attributes["copyright"] = "2026 Example Ltd"
    assert patch(api, "appStoreVersions", version_id, version_attributes).status_code == 200
    localization = version_localization(api, version_id)
    text = {"description": "Lists that finish themselves.", "keywords": "todo,lists,tasks",
            "supportUrl": "https://example.com/support"}  # fmt: skip
    response = patch(
        api,
        "appStoreVersionLocalizations",
        localization["id"],
        {k: v for k, v in text.items() if k not in skip},
    )
    assert response.status_code == 200, response.text
    if "reviewContact" not in skip:
        detail = api.post(
            "/v1/appStoreReviewDetails",
            json=body("appStoreReviewDetails", CONTACT, appStoreVersion=("appStoreVersions", version_id)),
        )
        assert detail.status_code == 201, detail.text
    if "screenshots" not in skip:
        set_id = screenshot_set(api, localization["id"]).json()["data"]["id"]
        for number in range(3):
            shot = upload_screenshot(api, set_id, image(), f"{number}.png")
            assert shot["attributes"]["assetDeliveryState"]["state"] == "COMPLETE", shot
    if "price" not in skip:
        assert price_schedule(api, app_id, free_price_point(api, app_id)).status_code == 201
    if "availability" not in skip:
        territories = [t["id"] for t in api.get("/v1/territories", params={"limit": "200"}).json()["data"]]
        assert availability(api, app_id, territories).status_code == 201
    if "appPrivacy" not in skip:
        sim.control.publish_app_privacy(app_id)
    return version_id


def submit_for_review(api: httpx.Client, app_id: str, version_id: str) -> tuple[str, httpx.Response]:
    """Open a submission and add the version (where Apple checks the listing); returns its ID and the answer."""
    submission = api.post(
        "/v1/reviewSubmissions", json=body("reviewSubmissions", {"platform": "IOS"}, app=("apps", app_id))
    ).json()["data"]
    item = api.post(
        "/v1/reviewSubmissionItems",
        json=body(
            "reviewSubmissionItems",
            reviewSubmission=("reviewSubmissions", submission["id"]),
            appStoreVersion=("appStoreVersions", version_id),
        ),
    )
    return submission["id"], item


def associated(response: httpx.Response) -> dict[str, list[dict]]:
    assert response.status_code == 409, response.text
    error = response.json()["errors"][0]
    assert error["code"] == "STATE_ERROR.ENTITY_STATE_INVALID"
    assert error["detail"] == "This resource cannot be reviewed, please check associated errors to see why."
    found: dict[str, list[dict]] = error["meta"]["associatedErrors"]
    return found


def prepare_update(api: httpx.Client, version_id: str, whats_new: str = "Faster.") -> None:
    """What an update of a released app still needs: What's New in every locale and the App Review contact."""
    for loc in api.get(f"/v1/appStoreVersions/{version_id}/appStoreVersionLocalizations").json()["data"]:
        assert (
            patch(api, "appStoreVersionLocalizations", loc["id"], {"whatsNew": whats_new}).status_code == 200
        )
    detail = api.post(
        "/v1/appStoreReviewDetails",
        json=body("appStoreReviewDetails", CONTACT, appStoreVersion=("appStoreVersions", version_id)),
    )
    assert detail.status_code == 201, detail.text
