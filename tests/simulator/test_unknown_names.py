"""A request body naming an attribute or relationship its operation's request schema lacks is refused, whatever the
operation, with Apple's 409 listing every unknown name (fastlane#16928, fastlane#21820, fastlane#21105)."""

from __future__ import annotations

from tests.fixtures.simulator import RunningSimulator
from tests.simulator.helpers import body


def test_every_unknown_attribute_and_relationship_is_listed_in_one_409(simulator: RunningSimulator) -> None:
    """fastlane#21820's request: PATCH an app with a retired attribute and two retired relationships."""
    api = simulator.client()
    before = api.get(f"/v1/apps/{simulator.app_id}").json()["data"]["attributes"]
    response = api.patch(
        f"/v1/apps/{simulator.app_id}",
        json=body(
            "apps",
            {"availableInNewTerritories": True, "contentRightsDeclaration": "USES_THIRD_PARTY_CONTENT"},
            id_=simulator.app_id,
            prices=[("appPrices", "p1")],
            availableTerritories=[("territories", "USA")],
        ),
    )
    assert response.status_code == 409
    errors = response.json()["errors"]
    assert [(e["status"], e["code"], e["title"], e["detail"], e["source"]) for e in errors] == [
        ("409", "ENTITY_ERROR.ATTRIBUTE.UNKNOWN", "The provided entity includes an unknown attribute",
         "'availableInNewTerritories' is not an attribute on the resource 'apps'",
         {"pointer": "/data/attributes/availableInNewTerritories"}),
        ("409", "ENTITY_ERROR.RELATIONSHIP.UNKNOWN", "The provided entity includes an unknown relationship",
         "'prices' is not a relationship on the resource 'apps'", {"pointer": "/data/relationships/prices"}),
        ("409", "ENTITY_ERROR.RELATIONSHIP.UNKNOWN", "The provided entity includes an unknown relationship",
         "'availableTerritories' is not a relationship on the resource 'apps'",
         {"pointer": "/data/relationships/availableTerritories"}),
    ]  # fmt: skip
    # Nothing of the request was applied, not even the known attribute.
    assert api.get(f"/v1/apps/{simulator.app_id}").json()["data"]["attributes"] == before


def test_operations_without_handler_rules_refuse_unknown_names_too(simulator: RunningSimulator) -> None:
    """Provisioning, release and pricing operations: the check is the spec's, not a handler's."""
    api = simulator.client()
    bundles = len(api.get("/v1/bundleIds").json()["data"])
    bundle = api.post(
        "/v1/bundleIds",
        json=body(
            "bundleIds",
            {"identifier": "com.example.other", "name": "Other", "platform": "IOS", "bundleIdName": "Other"},
        ),
    )
    assert bundle.status_code == 409
    assert bundle.json()["errors"][0]["code"] == "ENTITY_ERROR.ATTRIBUTE.UNKNOWN"
    assert (
        bundle.json()["errors"][0]["detail"]
        == "'bundleIdName' is not an attribute on the resource 'bundleIds'"
    )
    assert len(api.get("/v1/bundleIds").json()["data"]) == bundles
    # The release request's schema declares no attributes at all.
    release = api.post(
        "/v1/appStoreVersionReleaseRequests",
        json=body(
            "appStoreVersionReleaseRequests",
            {"releaseType": "MANUAL"},
            appStoreVersion=("appStoreVersions", "x"),
        ),
    )
    assert release.status_code == 409
    assert release.json()["errors"][0]["source"] == {"pointer": "/data/attributes/releaseType"}
    # An inline-created resource in `included` is held to its own inline schema (fastlane#21105's wording).
    prices = simulator.control.state().get("appPrices")
    schedule = api.post(
        "/v1/appPriceSchedules",
        json={
            "data": {
                "type": "appPriceSchedules",
                "relationships": {
                    "app": {"data": {"type": "apps", "id": simulator.app_id}},
                    "baseTerritory": {"data": {"type": "territories", "id": "USA"}},
                    "manualPrices": {"data": [{"type": "appPrices", "id": "${price1}"}]},
                },
            },
            "included": [
                {"type": "appPrices", "id": "${price1}", "attributes": {"startDate": None, "priceTier": "0"}}
            ],
        },
    )
    assert schedule.status_code == 409
    assert schedule.json()["errors"] == [
        {**schedule.json()["errors"][0], "code": "ENTITY_ERROR.ATTRIBUTE.UNKNOWN",
         "detail": "'priceTier' is not an attribute on the resource 'appPrices'",
         "source": {"pointer": "/included/0/attributes/priceTier"}}
    ]  # fmt: skip
    assert simulator.control.state().get("appPrices") == prices


def test_a_wrong_shape_is_answered_before_unknown_names(simulator: RunningSimulator) -> None:
    api = simulator.client()
    response = api.post(
        "/v1/bundleIds", json=body("bundleIds", {"identifier": "com.example.x", "bundleIdName": "X"})
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "ENTITY_UNPROCESSABLE"
