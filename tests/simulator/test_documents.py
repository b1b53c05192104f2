"""Apple's JSON:API conventions: paging, cursors, filters, sort, fields, include, and the request errors."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.simulator import RunningSimulator
from tests.simulator.helpers import body


def seed_bundle_ids(api: httpx.Client, count: int) -> None:
    for n in range(count):
        identifier = f"com.example.paged{n:03d}"
        response = api.post(
            "/v1/bundleIds",
            json=body("bundleIds", {"name": f"n{n:03d}", "identifier": identifier, "platform": "IOS"}),
        )
        assert response.status_code == 201


def test_links_next_pages_through_everything_on_the_simulators_host(simulator: RunningSimulator) -> None:
    api = simulator.client()
    seed_bundle_ids(api, 7)
    seen: list[str] = []
    url: str | None = f"{simulator.base_url}/v1/bundleIds?limit=3&filter[identifier]=paged"
    pages = 0
    while url:
        page = api.get(url).json()
        assert page["meta"]["paging"]["total"] == 7
        assert page["meta"]["paging"]["limit"] == 3
        seen += [r["attributes"]["identifier"] for r in page["data"]]
        url = page["links"].get("next")
        if url:
            assert url.startswith(f"{simulator.base_url}/v1/bundleIds?")
            assert page["meta"]["paging"]["nextCursor"] in url
        pages += 1
    assert pages == 3
    assert seen == [f"com.example.paged{n:03d}" for n in range(7)]


def test_limit_over_200_is_parameter_invalid(simulator: RunningSimulator) -> None:
    response = simulator.client().get("/v1/apps", params={"limit": "201"})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "PARAMETER_ERROR.INVALID"
    assert error["source"] == {"parameter": "limit"}
    assert simulator.client().get("/v1/apps", params={"limit": "200"}).status_code == 200


def test_a_forged_cursor_is_parameter_invalid(simulator: RunningSimulator) -> None:
    response = simulator.client().get("/v1/apps", params={"cursor": "garbage!"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "PARAMETER_ERROR.INVALID"


@pytest.mark.parametrize("name", ["filter[colour]", "bogus", "fields[nothing]"])
def test_unknown_query_parameter_is_parameter_illegal(simulator: RunningSimulator, name: str) -> None:
    response = simulator.client().get("/v1/apps", params={name: "x"})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "PARAMETER_ERROR.ILLEGAL"
    assert error["source"] == {"parameter": name}


def test_enum_values_of_filters_fields_include_and_sort_are_checked(simulator: RunningSimulator) -> None:
    api = simulator.client()
    for name, value in [
        ("filter[platform]", "ANDROID"),
        ("fields[bundleIds]", "colour"),
        ("include", "nothing"),
        ("sort", "colour"),
    ]:
        response = api.get("/v1/bundleIds", params={name: value})
        assert response.status_code == 400, name
        assert response.json()["errors"][0]["code"] == "PARAMETER_ERROR.INVALID"


def test_sort_and_sparse_fieldsets(simulator: RunningSimulator) -> None:
    api = simulator.client()
    seed_bundle_ids(api, 3)
    response = api.get(
        "/v1/bundleIds", params={"filter[identifier]": "paged", "sort": "-name", "fields[bundleIds]": "name"}
    )
    data = response.json()["data"]
    assert [r["attributes"] for r in data] == [{"name": "n002"}, {"name": "n001"}, {"name": "n000"}]
    assert all("relationships" not in r for r in data)


def test_apps_filter_by_bundle_id_and_related_reads(simulator: RunningSimulator) -> None:
    api = simulator.client()
    apps = api.get("/v1/apps", params={"filter[bundleId]": simulator.bundle_id}).json()["data"]
    assert [a["id"] for a in apps] == [simulator.app_id]
    assert apps[0]["attributes"]["bundleId"] == simulator.bundle_id
    assert api.get("/v1/apps", params={"filter[bundleId]": "com.nope"}).json()["data"] == []
    assert api.get(f"/v1/apps/{simulator.app_id}").json()["data"]["attributes"]["sku"] == "DEMO-001"
    assert api.get(f"/v1/apps/{simulator.app_id}/builds").json()["data"] == []


def test_required_filter_is_parameter_required(simulator: RunningSimulator) -> None:
    response = simulator.client().get("/v1/reviewSubmissions")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "PARAMETER_ERROR.REQUIRED"
    assert error["source"] == {"parameter": "filter[app]"}


def test_unknown_resource_is_not_found_and_unknown_path_is_path_error(simulator: RunningSimulator) -> None:
    api = simulator.client()
    missing = api.get("/v1/apps/999")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "NOT_FOUND"
    bogus = api.get("/v1/nothingHere")
    assert bogus.status_code == 404
    assert bogus.json()["errors"][0]["code"] == "PATH_ERROR"


def test_wrong_method_is_405(simulator: RunningSimulator) -> None:
    response = simulator.client().delete("/v1/apps")
    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "METHOD_NOT_ALLOWED"


def test_body_that_is_not_json_is_400_entity_invalid(simulator: RunningSimulator) -> None:
    response = simulator.client().post(
        "/v1/bundleIds", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "ENTITY_INVALID"


def test_body_without_json_content_type_is_415(simulator: RunningSimulator) -> None:
    response = simulator.client().post("/v1/bundleIds", content=b"{}", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_misspelt_envelope_is_422_unprocessable(simulator: RunningSimulator) -> None:
    response = simulator.client().post(
        "/v1/bundleIds", json={"date": {"type": "bundleIds", "attributes": {"name": "x", "identifier": "y"}}}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "ENTITY_UNPROCESSABLE"


def test_missing_required_attribute_is_422(simulator: RunningSimulator) -> None:
    response = simulator.client().post(
        "/v1/bundleIds", json=body("bundleIds", {"name": "x", "platform": "IOS"})
    )
    assert response.status_code == 422
    assert "identifier" in response.json()["errors"][0]["detail"]


def test_attribute_outside_its_enum_is_409_attribute_invalid(simulator: RunningSimulator) -> None:
    response = simulator.client().post(
        "/v1/bundleIds", json=body("bundleIds", {"name": "x", "identifier": "com.x", "platform": "ANDROID"})
    )
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["code"] == "ENTITY_ERROR.ATTRIBUTE.INVALID"
    assert error["source"] == {"pointer": "/data/attributes/platform"}


def test_control_api_is_not_under_v1(simulator: RunningSimulator) -> None:
    response = simulator.client().get("/v1/_simulator/requests")
    assert response.status_code == 404
    assert httpx.get(f"{simulator.base_url}/_simulator/requests").status_code == 200


def test_a_dotted_filter_looks_at_related_resources(simulator: RunningSimulator) -> None:
    api = simulator.client()
    params = {"filter[appStoreVersions.platform]": "TV_OS"}
    assert api.get("/v1/apps", params=params).json()["data"] == []
    api.post(
        "/v1/appStoreVersions",
        json=body(
            "appStoreVersions", {"platform": "TV_OS", "versionString": "1.0"}, app=("apps", simulator.app_id)
        ),
    )
    assert [a["id"] for a in api.get("/v1/apps", params=params).json()["data"]] == [simulator.app_id]
    assert api.get("/v1/apps", params={"filter[appStoreVersions.platform]": "VISION_OS"}).json()["data"] == []


def test_nullable_attributes_accept_null(simulator: RunningSimulator) -> None:
    api = simulator.client()
    version = api.post(
        "/v1/appStoreVersions",
        json=body(
            "appStoreVersions",
            {"platform": "IOS", "versionString": "1.0", "copyright": None},
            app=("apps", simulator.app_id),
        ),
    )
    assert version.status_code == 201
    assert version.json()["data"]["attributes"]["copyright"] is None
    not_nullable = api.post(
        "/v1/appStoreVersions",
        json=body(
            "appStoreVersions", {"platform": None, "versionString": "2.0"}, app=("apps", simulator.app_id)
        ),
    )
    assert not_nullable.status_code == 409
    assert not_nullable.json()["errors"][0]["source"] == {"pointer": "/data/attributes/platform"}


def test_linkage_comes_only_with_include_and_data_only_relationships_only_when_included(
    simulator: RunningSimulator,
) -> None:
    """Recorded (rorkai/App-Store-Connect-CLI#2045): no linkage without `include`, even if `fields` names it."""
    api = simulator.client()
    created = api.post(
        "/v1/appStoreVersions",
        json=body(
            "appStoreVersions", {"platform": "IOS", "versionString": "1.0"}, app=("apps", simulator.app_id)
        ),
    ).json()["data"]
    path = f"/v1/appStoreVersions/{created['id']}"
    plain = api.get(path).json()["data"]["relationships"]
    assert plain["appStoreVersionLocalizations"] == {
        "links": {
            "self": f"{simulator.base_url}{path}/relationships/appStoreVersionLocalizations",
            "related": f"{simulator.base_url}{path}/appStoreVersionLocalizations",
        }
    }
    assert "app" not in plain  # the spec gives appStoreVersions.app linkage only, and no endpoint
    named = api.get(path, params={"fields[appStoreVersions]": "app,appStoreVersionLocalizations"}).json()[
        "data"
    ]
    assert set(named["relationships"]) == {"appStoreVersionLocalizations"}
    assert "attributes" not in named
    document = api.get(path, params={"include": "app,appStoreVersionLocalizations"}).json()
    included = document["data"]["relationships"]
    assert included["app"] == {"data": {"type": "apps", "id": simulator.app_id}}
    localizations = included["appStoreVersionLocalizations"]["data"]
    assert len(localizations) == 1
    assert {(r["type"], r["id"]) for r in document["included"]} == {
        ("apps", simulator.app_id),
        ("appStoreVersionLocalizations", localizations[0]["id"]),
    }
