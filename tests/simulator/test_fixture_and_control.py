"""The pytest fixture others build on, and the control API's own checks."""

from __future__ import annotations

import httpx
import pytest

from ascflow.simulator.signing import authority
from ascflow.simulator.spec import load_spec
from tests.fixtures.simulator import DEFAULT_APP_ID, DEFAULT_BUNDLE_ID, RunningSimulator, SpecChecks
from tests.simulator.helpers import body


def test_the_default_team(simulator: RunningSimulator) -> None:
    api = simulator.client()
    apps = api.get("/v1/apps").json()["data"]
    assert [(a["id"], a["attributes"]["bundleId"]) for a in apps] == [(DEFAULT_APP_ID, DEFAULT_BUNDLE_ID)]
    bundles = api.get("/v1/bundleIds").json()["data"]
    assert [b["attributes"]["identifier"] for b in bundles] == [DEFAULT_BUNDLE_ID]
    assert api.get(f"/v1/bundleIds/{bundles[0]['id']}/app").json()["data"]["id"] == DEFAULT_APP_ID
    assert simulator.admin_key.issuer_id == simulator.issuer_id
    assert api.get("/v1/users").status_code == 200


def test_the_spec_and_the_ca_load_once_per_process(start_simulator) -> None:
    # What makes a second simulator start in milliseconds (its time is a benchmark's, never a test's).
    start_simulator()
    loads = (load_spec.cache_info().misses, authority.cache_info().misses)
    sim = start_simulator()
    assert sim.client().get("/v1/apps").status_code == 200
    assert (load_spec.cache_info().misses, authority.cache_info().misses) == loads
    assert loads[0] == 1  # the CA is made on the first certificate, then kept the same way


def test_state_lists_resources_by_type(simulator: RunningSimulator) -> None:
    api = simulator.client()
    api.post(
        "/v1/bundleIds",
        json=body("bundleIds", {"name": "n", "identifier": "com.example.s", "platform": "IOS"}),
    )
    state = simulator.control.state()
    assert sorted(b["attributes"]["identifier"] for b in state["bundleIds"]) == [
        DEFAULT_BUNDLE_ID,
        "com.example.s",
    ]
    assert [a["id"] for a in state["apps"]] == [DEFAULT_APP_ID]


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "named"),
    [
        ("POST", "/keys", {"key_id": "SHORT", "public_key_pem": "x"}, 400, "key_id"),
        ("POST", "/keys", {"key_id": "ABCDEFGHIJ", "public_key_pem": "not a key"}, 400, "PEM"),
        ("POST", "/keys/NOSUCHKEY0/activate", None, 404, "NOSUCHKEY0"),
        ("PUT", "/faults", {"rules": [{"kind": "meteor"}]}, 400, "kind"),
        ("POST", "/invitations/nope/accept", None, 404, "nope"),
        ("PATCH", "/settings", {"colour": "blue"}, 400, "colour"),
        ("GET", "/nothing", None, 404, "/_simulator/nothing"),
    ],
)
def test_control_api_names_what_is_wrong(
    simulator: RunningSimulator, method: str, path: str, payload: object, status: int, named: str
) -> None:
    response = httpx.request(method, f"{simulator.base_url}/_simulator{path}", json=payload)
    assert response.status_code == status
    assert named in response.json()["error"]


def test_settings_change_the_team_until_reset(simulator: RunningSimulator) -> None:
    simulator.control.update_settings(rate_limit_per_hour=1)
    api = simulator.client()
    assert api.get("/v1/apps").status_code == 200
    assert api.get("/v1/apps").status_code == 429
    simulator.control.reset()
    assert api.get("/v1/apps").headers["x-rate-limit"] == "user-hour-lim:3600;user-hour-rem:3599;"


def test_missing_agreements_forbid_every_write(simulator: RunningSimulator) -> None:
    simulator.control.set_agreements(False)
    api = simulator.client()
    response = api.post(
        "/v1/appStoreVersions",
        json=body(
            "appStoreVersions", {"platform": "IOS", "versionString": "1.0"}, app=("apps", simulator.app_id)
        ),
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED"
    assert api.get(f"/v1/apps/{simulator.app_id}/appStoreVersions").status_code == 200


def test_the_spec_check_catches_a_response_that_breaks_the_schema() -> None:
    checks = SpecChecks()
    request = httpx.Request("GET", "http://127.0.0.1/v1/apps")
    checks(httpx.Response(200, json={"data": [{"type": "apps"}]}, request=request))  # no id, no links
    checks(
        httpx.Response(404, json={"errors": [{"code": "PATH_ERROR"}]}, request=request)
    )  # no status, title
    checks(httpx.Response(200, json={"data": [], "links": {"self": "http://x/v1/apps"}}, request=request))
    assert checks.count == 3
    assert len(checks.failures) == 2
