"""Price points, price schedules with inline prices, territories and availability (v2) over real HTTP."""

from __future__ import annotations

import pytest

from tests.simulator.listing_steps import availability, free_price_point, new_app, price_schedule


@pytest.fixture
def fresh(start_simulator):
    return new_app(start_simulator)


def test_price_points_page_per_territory_with_the_free_point_first(fresh) -> None:
    api = fresh.client()
    url = f"/v1/apps/{fresh.app_id}/appPricePoints"
    first = api.get(url, params={"filter[territory]": "USA", "limit": "200", "include": "territory"}).json()
    assert len(first["data"]) == 200
    assert first["data"][0]["attributes"] == {"customerPrice": "0.0", "proceeds": "0.0"}
    assert first["data"][1]["attributes"]["customerPrice"] == "0.29"
    assert first["included"] == [
        {"type": "territories", "id": "USA", "attributes": {"currency": "USD"},
         "links": {"self": f"{fresh.base_url}/v1/territories/USA"}}
    ]  # fmt: skip
    seen, page = len(first["data"]), first
    while "next" in page["links"]:
        page = api.get(page["links"]["next"]).json()
        seen += len(page["data"])
    assert seen == first["meta"]["paging"]["total"] > 600
    japan = api.get(url, params={"filter[territory]": "JPN", "limit": "2"}).json()["data"]
    assert japan[1]["attributes"]["customerPrice"] != "0.29"  # priced in yen
    point = api.get(f"/v3/appPricePoints/{japan[1]['id']}").json()["data"]
    assert point["attributes"] == japan[1]["attributes"]
    assert api.get(url, params={"limit": "201"}).status_code == 400


def test_a_free_price_schedule_with_an_inline_price(fresh) -> None:
    api = fresh.client()
    assert api.get(f"/v1/apps/{fresh.app_id}/appPriceSchedule").json()["data"] is None
    created = price_schedule(api, fresh.app_id, free_price_point(api, fresh.app_id))
    assert created.status_code == 201, created.text
    schedule_id = created.json()["data"]["id"]
    manual = api.get(
        f"/v1/appPriceSchedules/{schedule_id}/manualPrices", params={"include": "appPricePoint"}
    ).json()
    assert [p["attributes"]["manual"] for p in manual["data"]] == [True]
    assert manual["included"][0]["attributes"]["customerPrice"] == "0.0"
    assert api.get(f"/v1/appPriceSchedules/{schedule_id}/baseTerritory").json()["data"]["id"] == "USA"
    automatic = api.get(
        f"/v1/appPriceSchedules/{schedule_id}/automaticPrices", params={"limit": "200"}
    ).json()
    assert (
        automatic["meta"]["paging"]["total"]
        == len(api.get("/v1/territories", params={"limit": "200"}).json()["data"]) - 1
    )


def test_a_price_schedule_with_a_foreign_or_missing_price_is_refused(fresh) -> None:
    api = fresh.client()
    made_up = price_schedule(api, fresh.app_id, "not-a-price-point")
    assert made_up.status_code == 409
    assert "take an ID from GET /v1/apps/" in made_up.json()["errors"][0]["detail"]
    other_territory = free_price_point(api, fresh.app_id, "GBR")
    no_base_price = price_schedule(api, fresh.app_id, other_territory, territory="USA")
    assert no_base_price.status_code == 409
    assert "manual price in its base territory USA" in no_base_price.json()["errors"][0]["detail"]
    body = {
        "data": {
            "type": "appPriceSchedules",
            "relationships": {
                "app": {"data": {"type": "apps", "id": fresh.app_id}},
                "baseTerritory": {"data": {"type": "territories", "id": "USA"}},
                "manualPrices": {"data": [{"type": "appPrices", "id": "${missing}"}]},
            },
        }
    }
    unlinked = api.post("/v1/appPriceSchedules", json=body)
    assert unlinked.status_code == 409
    assert "'${missing}' is not among the included resources" in unlinked.json()["errors"][0]["detail"]


def test_availability_with_inline_territories(fresh) -> None:
    api = fresh.client()
    territories = api.get("/v1/territories", params={"limit": "200"}).json()
    assert {"USA", "GBR", "JPN"} <= {t["id"] for t in territories["data"]}
    created = availability(api, fresh.app_id, ["USA", "GBR"])
    assert created.status_code == 201, created.text
    assert created.headers["Location"].endswith(f"/v2/appAvailabilities/{fresh.app_id}")
    read = api.get(f"/v1/apps/{fresh.app_id}/appAvailabilityV2").json()["data"]
    assert read["attributes"] == {"availableInNewTerritories": True}
    listed = api.get(
        f"/v2/appAvailabilities/{read['id']}/territoryAvailabilities",
        params={"limit": "200", "include": "territory"},
    ).json()
    available = {
        ta["relationships"]["territory"]["data"]["id"]
        for ta in listed["data"]
        if ta["attributes"]["available"]
    }
    assert available == {"USA", "GBR"}
    again = availability(api, fresh.app_id, ["USA"])
    assert again.status_code == 409
    assert "PATCH /v1/territoryAvailabilities/{id}" in again.json()["errors"][0]["detail"]


def test_availability_naming_an_unknown_territory_is_refused(fresh) -> None:
    response = availability(fresh.client(), fresh.app_id, ["USA", "ATLANTIS"])
    assert response.status_code == 409
    assert "territory with id 'ATLANTIS' cannot be found" in response.json()["errors"][0]["detail"]
