"""A first release reaches review only with its whole listing; Apple's 409 names each missing item."""

from __future__ import annotations

import pytest

from tests.simulator.helpers import body
from tests.simulator.listing_steps import (
    associated,
    new_app,
    patch,
    prepare_first_release,
    prepare_update,
    submit_for_review,
    version_localization,
)
from tests.simulator.publishing import upload_build, wait_for

MISSING_ATTRIBUTE = "You must provide a value for the attribute '{}' with this request"

# item left out -> (type of the resource Apple names, detail Apple gives, or the start of it)
MISSING = {
    "description": ("appStoreVersionLocalizations", MISSING_ATTRIBUTE.format("description")),
    "keywords": ("appStoreVersionLocalizations", MISSING_ATTRIBUTE.format("keywords")),
    "supportUrl": ("appStoreVersionLocalizations", MISSING_ATTRIBUTE.format("supportUrl")),
    "privacyPolicyUrl": ("appInfoLocalizations", MISSING_ATTRIBUTE.format("privacyPolicyUrl")),
    "copyright": ("appStoreVersions", MISSING_ATTRIBUTE.format("copyright")),
    "contentRightsDeclaration": ("apps", MISSING_ATTRIBUTE.format("contentRightsDeclaration")),
    "primaryCategory": ("appInfos", "You must provide a value for the relationship 'primaryCategory'"),
    "ageRating": ("ageRatingDeclarations", MISSING_ATTRIBUTE.format("violenceRealistic")),
    "price": ("apps", "You must provide a value for the relationship 'appPriceSchedule'"),
    "availability": ("apps", "You must provide a value for the relationship 'appAvailabilityV2'"),
    "screenshots": (
        "appStoreVersionLocalizations",
        "A screenshot with type iphone67 is required but was not provided",
    ),
    "appPrivacy": ("apps", "You must have published answers to your app's data usages."),
    "reviewContact": (
        "appStoreVersions",
        "You must provide a value for the relationship 'appStoreReviewDetail'",
    ),
    "usesNonExemptEncryption": ("builds", MISSING_ATTRIBUTE.format("usesNonExemptEncryption")),
    "build": ("appStoreVersions", "You must provide a value for the relationship 'build'"),
}


@pytest.mark.parametrize("item", sorted(MISSING))
def test_each_missing_item_is_named_in_apples_409(start_simulator, item: str) -> None:
    sim = new_app(start_simulator, upload_part_size=4096)
    version_id = prepare_first_release(sim, skip=frozenset({item}))
    _, response = submit_for_review(sim.client(), sim.app_id, version_id)
    errors = associated(response)
    found = [(key.split("/")[2], e["detail"]) for key, listed in errors.items() for e in listed]
    type_, detail = MISSING[item]
    assert any(t == type_ and d.startswith(detail) for t, d in found), found
    # Only the item left out is missing (the age rating counts each unanswered question).
    assert {d for _, d in found if not d.startswith(detail)} <= {
        d for _, d in found if item == "ageRating" and "attribute '" in d
    }, found


def test_the_app_privacy_error_is_apples_text(start_simulator) -> None:
    sim = new_app(start_simulator, upload_part_size=4096)
    version_id = prepare_first_release(sim, skip=frozenset({"appPrivacy"}))
    _, response = submit_for_review(sim.client(), sim.app_id, version_id)
    [problem] = associated(response)[f"/v1/apps/{sim.app_id}"]
    assert problem["title"] == "Answers to what data your app collects and how it's used are needed."
    assert problem["detail"] == "You must have published answers to your app's data usages."


def test_a_complete_first_release_reaches_waiting_for_review(start_simulator) -> None:
    waiting = {
        "upload_processing_seconds": 120,
        "build_processing_seconds": 600,
        "review_wait_seconds": 10**9,
    }
    sim = new_app(start_simulator, upload_part_size=4096, delays=waiting)
    api = sim.client()
    version_id = prepare_first_release(sim)
    submission_id, item = submit_for_review(api, sim.app_id, version_id)
    assert item.status_code == 201, item.text
    submitted = patch(api, "reviewSubmissions", submission_id, {"submitted": True})
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["data"]["attributes"]["state"] == "WAITING_FOR_REVIEW"
    version = api.get(f"/v1/appStoreVersions/{version_id}").json()["data"]
    assert version["attributes"]["appVersionState"] == "WAITING_FOR_REVIEW"
    [info] = api.get(f"/v1/apps/{sim.app_id}/appInfos").json()["data"]
    assert info["attributes"]["state"] == "WAITING_FOR_REVIEW"
    # Under review the listing is locked, except the promotional text.
    localization = version_localization(api, version_id)
    locked = patch(api, "appStoreVersionLocalizations", localization["id"], {"description": "Changed."})
    assert locked.status_code == 409
    assert locked.json()["errors"][0]["detail"] == "Attribute 'description' cannot be edited at this time"
    promo = patch(api, "appStoreVersionLocalizations", localization["id"], {"promotionalText": "Now free."})
    assert promo.status_code == 200


def test_submitting_checks_the_listing_again(start_simulator) -> None:
    """Apple checks at the item and again at `submitted: true`: what changed in between is caught."""
    sim = new_app(start_simulator, upload_part_size=4096)
    api = sim.client()
    version_id = prepare_first_release(sim)
    submission_id, item = submit_for_review(api, sim.app_id, version_id)
    assert item.status_code == 201
    sim.control.publish_app_privacy(sim.app_id, published=False)
    refused = patch(api, "reviewSubmissions", submission_id, {"submitted": True})
    problems = associated(refused)[f"/v1/apps/{sim.app_id}"]
    assert [p["detail"] for p in problems] == ["You must have published answers to your app's data usages."]
    assert api.get(f"/v1/reviewSubmissions/{submission_id}").json()["data"]["attributes"]["state"] == (
        "READY_FOR_REVIEW"
    )
    sim.control.publish_app_privacy(sim.app_id)
    assert patch(api, "reviewSubmissions", submission_id, {"submitted": True}).status_code == 200


def test_app_privacy_cannot_be_set_through_apples_api(start_simulator) -> None:
    sim = new_app(start_simulator)
    api = sim.client()
    response = patch(api, "apps", sim.app_id, {"appPrivacyPublished": True})
    assert response.status_code == 409
    assert response.json()["errors"][0]["detail"] == (
        "'appPrivacyPublished' is not an attribute on the resource 'apps'"
    )


def test_an_update_needs_whats_new_in_every_locale(start_simulator) -> None:
    sim = start_simulator(upload_part_size=4096)  # the fixture's app was released once
    api = sim.client()
    build = upload_build(api, sim.app_id, "1.0", "1")
    patch(api, "builds", build["id"], {"usesNonExemptEncryption": False})
    version_id = api.post(
        "/v1/appStoreVersions",
        json=body("appStoreVersions", {"platform": "IOS", "versionString": "1.0"}, app=("apps", sim.app_id),
                  build=("builds", build["id"])),
    ).json()["data"]["id"]  # fmt: skip
    french = api.post(
        "/v1/appStoreVersionLocalizations",
        json=body(
            "appStoreVersionLocalizations",
            {"locale": "fr-FR"},
            appStoreVersion=("appStoreVersions", version_id),
        ),
    ).json()["data"]
    prepare_update(api, version_id)  # What's New in both locales
    patch(api, "appStoreVersionLocalizations", french["id"], {"whatsNew": None})
    _, response = submit_for_review(api, sim.app_id, version_id)
    errors = associated(response)
    assert errors == {
        f"/v1/appStoreVersionLocalizations/{french['id']}": [
            errors[f"/v1/appStoreVersionLocalizations/{french['id']}"][0]
        ]
    }
    assert errors[f"/v1/appStoreVersionLocalizations/{french['id']}"][0][
        "detail"
    ] == MISSING_ATTRIBUTE.format("whatsNew")
    english = version_localization(api, version_id)
    assert english["attributes"]["keywords"]  # carried over from the released version


def test_after_approval_the_next_version_is_an_update_with_a_new_app_info(start_simulator) -> None:
    sim = new_app(start_simulator, upload_part_size=4096)
    api = sim.client()
    version_id = prepare_first_release(sim)
    submission_id, _ = submit_for_review(api, sim.app_id, version_id)
    patch(api, "reviewSubmissions", submission_id, {"submitted": True})
    wait_for(
        lambda: api.get(f"/v1/appStoreVersions/{version_id}").json()["data"]["attributes"]["appVersionState"],
        lambda state: state == "READY_FOR_DISTRIBUTION",
    )
    [info] = api.get(f"/v1/apps/{sim.app_id}/appInfos").json()["data"]
    assert info["attributes"]["state"] == "READY_FOR_DISTRIBUTION"
    update = api.post(
        "/v1/appStoreVersions",
        json=body("appStoreVersions", {"platform": "IOS", "versionString": "1.1"}, app=("apps", sim.app_id)),
    ).json()["data"]
    states = sorted(
        i["attributes"]["state"] for i in api.get(f"/v1/apps/{sim.app_id}/appInfos").json()["data"]
    )
    assert states == ["PREPARE_FOR_SUBMISSION", "READY_FOR_DISTRIBUTION"]
    localization = version_localization(api, update["id"])
    assert localization["attributes"]["keywords"] == "todo,lists,tasks"  # carried over
    assert (
        patch(api, "appStoreVersionLocalizations", localization["id"], {"whatsNew": "More."}).status_code
        == 200
    )
    shots = api.get(f"/v1/appStoreVersionLocalizations/{localization['id']}/appScreenshotSets").json()["data"]
    assert [s["attributes"]["screenshotDisplayType"] for s in shots] == ["APP_IPHONE_67"]
