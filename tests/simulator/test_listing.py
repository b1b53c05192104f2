"""The app-level listing over real HTTP: what Apple creates with the app, limits, enums, uniqueness and locks."""

from __future__ import annotations

import pytest

from ascflow.simulator.scenario import AppSpec
from tests.simulator.helpers import body
from tests.simulator.listing_steps import (
    create_version,
    editable_app_info,
    new_app,
    patch,
    version_localization,
)
from tests.simulator.publishing import upload_build


@pytest.fixture
def fresh(start_simulator):
    return new_app(start_simulator)


def test_apple_creates_the_app_info_its_localization_and_an_unanswered_age_rating(fresh) -> None:
    api = fresh.client()
    app = api.get(f"/v1/apps/{fresh.app_id}").json()["data"]
    assert app["attributes"]["contentRightsDeclaration"] is None
    info = editable_app_info(api, fresh.app_id)
    assert info["attributes"]["state"] == "PREPARE_FOR_SUBMISSION"
    [localization] = info["localizations"]
    assert localization["attributes"]["locale"] == "en-US"
    assert localization["attributes"]["name"] == "Demo App"
    declaration = api.get(f"/v1/appInfos/{info['id']}/ageRatingDeclaration").json()["data"]
    assert declaration["id"] == info["ageRating"]
    assert set(declaration["attributes"].values()) == {None}
    assert api.get(f"/v1/appInfos/{info['id']}/primaryCategory").json()["data"] is None


def test_a_released_app_has_a_complete_live_listing(simulator) -> None:
    api = simulator.client()
    [info] = api.get(f"/v1/apps/{simulator.app_id}/appInfos").json()["data"]
    assert info["attributes"]["state"] == "READY_FOR_DISTRIBUTION"
    assert api.get(f"/v1/appInfos/{info['id']}/primaryCategory").json()["data"]["id"] == "UTILITIES"
    schedule = api.get(f"/v1/apps/{simulator.app_id}/appPriceSchedule").json()["data"]
    assert schedule["id"] == simulator.app_id
    # A new version opens an editable copy of the live appInfo.
    create_version(api, simulator.app_id)
    states = sorted(
        i["attributes"]["state"] for i in api.get(f"/v1/apps/{simulator.app_id}/appInfos").json()["data"]
    )
    assert states == ["PREPARE_FOR_SUBMISSION", "READY_FOR_DISTRIBUTION"]
    copy = editable_app_info(api, simulator.app_id)
    assert api.get(f"/v1/appInfos/{copy['id']}/primaryCategory").json()["data"]["id"] == "UTILITIES"


def test_categories_are_served_with_subcategories_and_set_on_the_app_info(fresh) -> None:
    api = fresh.client()
    top = api.get("/v1/appCategories", params={"exists[parent]": "false", "limit": "200"}).json()["data"]
    assert {"GAMES", "PRODUCTIVITY", "UTILITIES"} <= {c["id"] for c in top}
    assert all("IOS" in c["attributes"]["platforms"] for c in top)
    puzzles = api.get("/v1/appCategories/GAMES/subcategories", params={"limit": "50"}).json()["data"]
    assert "GAMES_PUZZLE" in {c["id"] for c in puzzles}
    info = editable_app_info(api, fresh.app_id)
    ok = patch(
        api,
        "appInfos",
        info["id"],
        primaryCategory=("appCategories", "GAMES"),
        primarySubcategoryOne=("appCategories", "GAMES_PUZZLE"),
        secondaryCategory=("appCategories", "UTILITIES"),
    )
    assert ok.status_code == 200, ok.text
    assert api.get(f"/v1/appInfos/{info['id']}/secondaryCategory").json()["data"]["id"] == "UTILITIES"
    unknown = patch(api, "appInfos", info["id"], primaryCategory=("appCategories", "GAMES_AND_MORE"))
    assert unknown.status_code == 409
    assert unknown.json()["errors"][0]["source"] == {"pointer": "/data/relationships/primaryCategory"}
    wrong_parent = patch(api, "appInfos", info["id"], secondarySubcategoryOne=("appCategories", "GAMES_CARD"))
    assert wrong_parent.status_code == 409
    assert (
        "not a subcategory of the secondaryCategory (UTILITIES)" in wrong_parent.json()["errors"][0]["detail"]
    )


@pytest.mark.parametrize(
    ("attributes", "pointer", "detail"),
    [
        ({"name": "A"}, "/data/attributes/name", "'name' must be between 2 and 30 characters long; it is 1"),
        ({"name": "N" * 31}, "/data/attributes/name", "it is 31 characters"),
        ({"subtitle": "S" * 31}, "/data/attributes/subtitle", "'subtitle' must be at most 30 characters"),
        ({"privacyPolicyUrl": "example.com/privacy"}, "/data/attributes/privacyPolicyUrl", "not a valid URL"),
    ],
)
def test_app_info_localization_limits(fresh, attributes: dict, pointer: str, detail: str) -> None:
    api = fresh.client()
    localization = editable_app_info(api, fresh.app_id)["localizations"][0]
    response = patch(api, "appInfoLocalizations", localization["id"], attributes)
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["code"] == "ENTITY_ERROR.ATTRIBUTE.INVALID"
    assert error["source"] == {"pointer": pointer}
    assert detail in error["detail"]


@pytest.mark.parametrize(
    ("attributes", "detail"),
    [
        ({"description": "d" * 4001}, "'description' must be at most 4000 characters long; it is 4001"),
        ({"keywords": "é" * 51}, "'keywords' must be at most 100 bytes long; it is 102 bytes"),
        ({"promotionalText": "p" * 171}, "'promotionalText' must be at most 170 characters"),
        ({"supportUrl": "support page"}, "'support page' is not a valid URL for 'supportUrl'"),
    ],
)
def test_version_localization_limits(fresh, attributes: dict, detail: str) -> None:
    api = fresh.client()
    localization = version_localization(api, create_version(api, fresh.app_id))
    response = patch(api, "appStoreVersionLocalizations", localization["id"], attributes)
    assert response.status_code == 409
    assert detail in response.json()["errors"][0]["detail"]
    fits = patch(api, "appStoreVersionLocalizations", localization["id"], {"keywords": "é" * 50})
    assert fits.status_code == 200  # 100 bytes exactly


def test_whats_new_is_refused_on_the_first_version(fresh) -> None:
    api = fresh.client()
    version_id = create_version(api, fresh.app_id)
    localization = version_localization(api, version_id)
    response = patch(api, "appStoreVersionLocalizations", localization["id"], {"whatsNew": "Everything."})
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["detail"] == "Attribute 'whatsNew' cannot be edited at this time"
    assert error["title"] == "The request cannot be fulfilled because of the state of another resource."
    created = api.post(
        "/v1/appStoreVersionLocalizations",
        json=body(
            "appStoreVersionLocalizations",
            {"locale": "de-DE", "whatsNew": "Alles."},
            appStoreVersion=("appStoreVersions", version_id),
        ),
    )
    assert created.status_code == 409
    assert created.json()["errors"][0]["detail"] == "Attribute 'whatsNew' cannot be edited at this time"


def test_unknown_attributes_get_apples_text(fresh) -> None:
    api = fresh.client()
    version_id = create_version(api, fresh.app_id)
    response = api.post(
        "/v1/appStoreReviewDetails",
        json=body(
            "appStoreReviewDetails",
            {"demo_account_required": False},
            appStoreVersion=("appStoreVersions", version_id),
        ),
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["detail"] == (
        "'demo_account_required' is not an attribute on the resource 'appStoreReviewDetails'"
    )
    declaration = editable_app_info(api, fresh.app_id)["ageRating"]
    retired = patch(api, "ageRatingDeclarations", declaration, {"gamblingAndContests": False})
    assert retired.json()["errors"][0]["detail"] == (
        "'gamblingAndContests' is not an attribute on the resource 'ageRatingDeclarations'"
    )


def test_enums_come_from_the_spec(fresh) -> None:
    api = fresh.client()
    declaration = editable_app_info(api, fresh.app_id)["ageRating"]
    wrong = patch(api, "ageRatingDeclarations", declaration, {"violenceRealistic": "SOMETIMES"})
    assert wrong.status_code == 409
    assert wrong.json()["errors"][0]["source"] == {"pointer": "/data/attributes/violenceRealistic"}
    both_pairs = patch(
        api,
        "ageRatingDeclarations",
        declaration,
        {"violenceRealistic": "INFREQUENT", "contests": "FREQUENT_OR_INTENSE"},
    )
    assert both_pairs.status_code == 200, both_pairs.text
    rights = patch(api, "apps", fresh.app_id, {"contentRightsDeclaration": "MAYBE"})
    assert rights.status_code == 409
    release = patch(api, "appStoreVersions", create_version(api, fresh.app_id), {"releaseType": "SOON"})
    assert release.status_code == 409


def test_one_app_info_localization_per_locale(fresh) -> None:
    api = fresh.client()
    info = editable_app_info(api, fresh.app_id)

    def create(locale: str):
        return api.post(
            "/v1/appInfoLocalizations",
            json=body(
                "appInfoLocalizations", {"locale": locale, "name": "Demo"}, appInfo=("appInfos", info["id"])
            ),
        )

    assert create("en-US").status_code == 409
    french = create("fr-FR")
    assert french.status_code == 201
    assert create("xx-YY").json()["errors"][0]["source"] == {"pointer": "/data/attributes/locale"}
    listed = api.get(f"/v1/appInfos/{info['id']}/appInfoLocalizations", params={"filter[locale]": "fr-FR"})
    assert [loc["id"] for loc in listed.json()["data"]] == [french.json()["data"]["id"]]
    primary = info["localizations"][0]["id"]
    assert api.delete(f"/v1/appInfoLocalizations/{primary}").status_code == 409
    assert api.delete(f"/v1/appInfoLocalizations/{french.json()['data']['id']}").status_code == 204


def test_app_patch_sets_content_rights_and_a_primary_locale_that_has_a_localization(fresh) -> None:
    api = fresh.client()
    done = patch(api, "apps", fresh.app_id, {"contentRightsDeclaration": "USES_THIRD_PARTY_CONTENT"})
    assert done.json()["data"]["attributes"]["contentRightsDeclaration"] == "USES_THIRD_PARTY_CONTENT"
    refused = patch(api, "apps", fresh.app_id, {"primaryLocale": "de-DE"})
    assert refused.status_code == 409
    assert "no appInfoLocalization for 'de-DE'" in refused.json()["errors"][0]["detail"]
    mismatch = api.patch(f"/v1/apps/{fresh.app_id}", json=body("apps", {"primaryLocale": "en-US"}, id_="1"))
    assert mismatch.json()["errors"][0]["source"] == {"pointer": "/data/id"}


def test_an_encryption_declaration_links_to_a_build(start_simulator) -> None:
    sim = new_app(start_simulator, upload_part_size=4096)
    api = sim.client()
    build = upload_build(api, sim.app_id)
    declaration = api.post(
        "/v1/appEncryptionDeclarations",
        json=body(
            "appEncryptionDeclarations",
            {"appDescription": "Encrypts notes.", "containsProprietaryCryptography": False,
             "containsThirdPartyCryptography": True, "availableOnFrenchStore": True},
            app=("apps", sim.app_id),
        ),
    )  # fmt: skip
    assert declaration.status_code == 201, declaration.text
    assert declaration.json()["data"]["attributes"]["appEncryptionDeclarationState"] == "CREATED"
    declaration_id = declaration.json()["data"]["id"]
    linked = api.patch(
        f"/v1/builds/{build['id']}/relationships/appEncryptionDeclaration",
        json={"data": {"type": "appEncryptionDeclarations", "id": declaration_id}},
    )
    assert linked.status_code == 204
    assert (
        api.get(f"/v1/builds/{build['id']}/appEncryptionDeclaration").json()["data"]["id"] == declaration_id
    )
    listed = api.get("/v1/appEncryptionDeclarations", params={"filter[app]": sim.app_id}).json()["data"]
    assert [d["id"] for d in listed] == [declaration_id]


def test_an_app_seeded_through_the_control_api_has_its_listing(fresh) -> None:
    app_id = fresh.control.add_app(
        AppSpec(
            id="6400000099",
            name="Second",
            bundle_id="com.example.second",
            sku="S-2",
            app_privacy_published=True,
        )
    )
    api = fresh.client()
    info = editable_app_info(api, app_id)
    assert info["localizations"][0]["attributes"]["name"] == "Second"
    assert len(api.get("/v1/appCategories", params={"limit": "200"}).json()["data"]) > 26  # not seeded twice
