"""Bundle IDs, certificates and profiles over HTTP, with Apple's rules and errors."""

from __future__ import annotations

import base64
import plistlib

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ascflow.signing.mobileprovision import signed_content
from ascflow.simulator.scenario import AppSpec
from ascflow.simulator.signing import authority
from tests.fixtures.simulator import RunningSimulator
from tests.simulator.helpers import body, make_csr, rsa_key


def create_certificate(api: httpx.Client, certificate_type: str = "DISTRIBUTION", **kwargs) -> httpx.Response:
    csr, _ = make_csr(**kwargs)
    return api.post(
        "/v1/certificates",
        json=body("certificates", {"csrContent": csr, "certificateType": certificate_type}),
    )


def create_bundle_id(api: httpx.Client, identifier: str, platform: str = "IOS") -> httpx.Response:
    return api.post(
        "/v1/bundleIds",
        json=body("bundleIds", {"name": identifier, "identifier": identifier, "platform": platform}),
    )


def test_bundle_id_filter_is_a_substring_match(simulator: RunningSimulator) -> None:
    api = simulator.client()
    assert create_bundle_id(api, "com.example.demoapp.widget").status_code == 201
    found = api.get(
        "/v1/bundleIds", params={"filter[identifier]": simulator.bundle_id, "filter[platform]": "IOS"}
    )
    assert found.status_code == 200
    assert sorted(r["attributes"]["identifier"] for r in found.json()["data"]) == [
        simulator.bundle_id,
        "com.example.demoapp.widget",
    ]
    none = api.get("/v1/bundleIds", params={"filter[identifier]": "org.other", "filter[platform]": "IOS"})
    assert none.json()["data"] == []


def test_app_bundle_id_filter_also_finds_longer_bundle_ids_as_apples_does(start_simulator) -> None:
    sim = start_simulator(
        apps=[
            AppSpec(name="Acme", bundle_id="com.acme.app", sku="A1"),
            AppSpec(name="Acme Widget", bundle_id="com.acme.app.widget", sku="A2"),
            AppSpec(name="Other", bundle_id="com.acme.application", sku="A3"),
            AppSpec(name="Elsewhere", bundle_id="org.acme.app", sku="A4"),
        ]
    )
    api = sim.client()

    def found(bundle_id: str) -> list[str]:
        data = api.get("/v1/apps", params={"filter[bundleId]": bundle_id}).json()["data"]
        return sorted(app["attributes"]["bundleId"] for app in data)

    # A prefix of the string, as Apple's: a client must still compare bundle IDs exactly.
    assert found("com.acme.app") == ["com.acme.app", "com.acme.app.widget", "com.acme.application"]
    assert found("com.acme.app.widget") == ["com.acme.app.widget"]
    assert found("acme.app") == []


def test_bundle_id_create_answers_201_with_location_and_seed_id(simulator: RunningSimulator) -> None:
    response = create_bundle_id(simulator.client(), "com.example.new")
    assert response.status_code == 201
    data = response.json()["data"]
    assert response.headers["location"] == f"{simulator.base_url}/v1/bundleIds/{data['id']}"
    assert data["attributes"]["seedId"] == "SIM0TEAM01"
    assert simulator.client().get(response.headers["location"]).json()["data"]["id"] == data["id"]


@pytest.mark.parametrize("identifier", ["com.example.demoapp", "com.other.team.app"])
def test_bundle_id_taken_here_or_elsewhere_is_409(start_simulator, identifier: str) -> None:
    sim = start_simulator(taken_identifiers=["com.other.team.app"])
    response = create_bundle_id(sim.client(), identifier)
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["code"].startswith("ENTITY_ERROR")
    assert error["detail"] == (
        f"An App ID with Identifier '{identifier}' is not available. Please enter a different string."
    )


@pytest.mark.parametrize("der_base64", [False, True])
def test_certificate_is_a_real_x509_for_the_csr_key(simulator: RunningSimulator, der_base64: bool) -> None:
    api = simulator.client()
    csr, key = make_csr(der_base64=der_base64, key=rsa_key())
    response = api.post(
        "/v1/certificates", json=body("certificates", {"csrContent": csr, "certificateType": "DISTRIBUTION"})
    )
    assert response.status_code == 201
    attributes = response.json()["data"]["attributes"]
    cert = x509.load_der_x509_certificate(base64.b64decode(attributes["certificateContent"]))
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    assert cert.public_key().public_bytes(serialization.Encoding.PEM, spki) == key.public_key().public_bytes(
        serialization.Encoding.PEM, spki
    )
    assert format(cert.serial_number, "X") == attributes["serialNumber"]
    cert.verify_directly_issued_by(authority()[1])
    assert attributes["expirationDate"].startswith(cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M"))
    listed = api.get("/v1/certificates", params={"filter[serialNumber]": attributes["serialNumber"]}).json()[
        "data"
    ]
    assert [c["id"] for c in listed] == [response.json()["data"]["id"]]


def test_a_csr_with_a_bad_signature_is_refused(simulator: RunningSimulator) -> None:
    csr, _ = make_csr()
    der = bytearray(x509.load_pem_x509_csr(csr.encode()).public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0xFF  # flip a byte of the signature
    response = simulator.client().post(
        "/v1/certificates",
        json=body(
            "certificates",
            {"csrContent": base64.b64encode(bytes(der)).decode(), "certificateType": "DISTRIBUTION"},
        ),
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["source"] == {"pointer": "/data/attributes/csrContent"}


def test_a_csr_that_is_not_a_csr_is_refused(simulator: RunningSimulator) -> None:
    response = simulator.client().post(
        "/v1/certificates",
        json=body("certificates", {"csrContent": "hello", "certificateType": "DISTRIBUTION"}),
    )
    assert response.status_code == 409
    assert "PKCS#10" in response.json()["errors"][0]["detail"]


def test_distribution_certificate_limit_is_apples_409(simulator: RunningSimulator) -> None:
    api = simulator.client()
    ids = [create_certificate(api).json()["data"]["id"] for _ in range(3)]
    response = create_certificate(api)
    assert response.status_code == 409
    assert response.json()["errors"][0] | {"id": "x"} == {
        "id": "x",
        "status": "409",
        "code": "ENTITY_ERROR",
        "title": "There is a problem with the request entity",
        "detail": "You already have a current Distribution certificate or a pending certificate request.",
    }
    # Another type has its own cap; revoking one frees a slot.
    assert create_certificate(api, "IOS_DISTRIBUTION").status_code == 201
    assert api.delete(f"/v1/certificates/{ids[0]}").status_code == 204
    assert create_certificate(api).status_code == 201
    assert api.get(f"/v1/certificates/{ids[0]}").status_code == 404


def test_certificate_limit_is_configurable_and_counts_scenario_certificates(start_simulator) -> None:
    sim = start_simulator(
        certificates=[{"certificate_type": "DISTRIBUTION"}], certificate_limits={"DISTRIBUTION": 2}
    )
    api = sim.client()
    assert create_certificate(api).status_code == 201
    assert create_certificate(api).status_code == 409
    listed = api.get("/v1/certificates", params={"filter[certificateType]": "DISTRIBUTION,IOS_DISTRIBUTION"})
    assert listed.json()["meta"]["paging"]["total"] == 2


def test_revoked_certificate_leaves_the_list_and_invalidates_profiles(simulator: RunningSimulator) -> None:
    api = simulator.client()
    cert_id = create_certificate(api).json()["data"]["id"]
    bundle = api.get("/v1/bundleIds", params={"filter[identifier]": simulator.bundle_id}).json()["data"][0]
    profile = create_profile(api, bundle["id"], [cert_id]).json()["data"]
    assert api.delete(f"/v1/certificates/{cert_id}").status_code == 204
    assert api.get("/v1/certificates").json()["data"] == []
    assert api.get(f"/v1/certificates/{cert_id}").status_code == 404
    assert api.get(f"/v1/profiles/{profile['id']}").json()["data"]["attributes"]["profileState"] == "INVALID"


def create_profile(
    api: httpx.Client, bundle_id: str, cert_ids: list[str], name: str = "ascflow App Store"
) -> httpx.Response:
    return api.post(
        "/v1/profiles",
        json=body(
            "profiles",
            {"name": name, "profileType": "IOS_APP_STORE"},
            bundleId=("bundleIds", bundle_id),
            certificates=[("certificates", c) for c in cert_ids],
        ),
    )


def test_profile_content_names_bundle_id_and_certificates(simulator: RunningSimulator) -> None:
    api = simulator.client()
    cert = create_certificate(api).json()["data"]
    bundle = api.get("/v1/bundleIds", params={"filter[identifier]": simulator.bundle_id}).json()["data"][0]
    response = create_profile(api, bundle["id"], [cert["id"]])
    assert response.status_code == 201
    profile = response.json()["data"]
    assert profile["attributes"]["profileState"] == "ACTIVE"
    # Apple's profileContent is the .mobileprovision: a CMS SignedData around the plist.
    plist = plistlib.loads(signed_content(base64.b64decode(profile["attributes"]["profileContent"])))
    assert plist["Entitlements"]["application-identifier"] == f"SIM0TEAM01.{simulator.bundle_id}"
    assert plist["DeveloperCertificates"] == [base64.b64decode(cert["attributes"]["certificateContent"])]
    assert plist["UUID"] == profile["attributes"]["uuid"]
    read = api.get(f"/v1/profiles/{profile['id']}", params={"include": "bundleId,certificates"}).json()
    assert read["data"]["relationships"]["bundleId"]["data"] == {"type": "bundleIds", "id": bundle["id"]}
    assert {(r["type"], r["id"]) for r in read["included"]} == {
        ("bundleIds", bundle["id"]),
        ("certificates", cert["id"]),
    }
    assert api.get(f"/v1/profiles/{profile['id']}/bundleId").json()["data"]["id"] == bundle["id"]
    assert [c["id"] for c in api.get(f"/v1/profiles/{profile['id']}/certificates").json()["data"]] == [
        cert["id"]
    ]
    linkage = api.get(f"/v1/profiles/{profile['id']}/relationships/certificates").json()
    assert linkage["data"] == [{"type": "certificates", "id": cert["id"]}]
    by_bundle = api.get(f"/v1/bundleIds/{bundle['id']}/profiles").json()["data"]
    assert [p["id"] for p in by_bundle] == [profile["id"]]
    assert api.delete(f"/v1/profiles/{profile['id']}").status_code == 204
    assert api.get(f"/v1/profiles/{profile['id']}").status_code == 404


def test_profile_name_taken_and_wrong_platform_are_409(simulator: RunningSimulator) -> None:
    api = simulator.client()
    cert = create_certificate(api).json()["data"]["id"]
    bundle = api.get("/v1/bundleIds", params={"filter[identifier]": simulator.bundle_id}).json()["data"][0][
        "id"
    ]
    assert create_profile(api, bundle, [cert]).status_code == 201
    again = create_profile(api, bundle, [cert])
    assert again.status_code == 409
    assert "Multiple profiles found with the name" in again.json()["errors"][0]["detail"]
    mac = create_bundle_id(api, "com.example.mac", "MAC_OS").json()["data"]["id"]
    wrong = create_profile(api, mac, [cert], name="other")
    assert wrong.status_code == 409
    assert (
        wrong.json()["errors"][0]["detail"]
        == "You are not allowed to create 'iOS' profile with App ID 'com.example.mac'."
    )
    missing = create_profile(api, "NOPE", [cert], name="third")
    assert missing.status_code == 409
    assert missing.json()["errors"][0]["code"] == "ENTITY_ERROR.RELATIONSHIP.INVALID"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/certificates"),
        ("GET", "/v1/users"),
        ("GET", "/v1/userInvitations"),
        ("POST", "/v1/certificates"),
    ],
)
def test_a_non_admin_key_is_forbidden_on_admin_resources(
    simulator: RunningSimulator, method: str, path: str
) -> None:
    api = simulator.client(simulator.add_key(role="DEVELOPER"))
    csr, _ = make_csr()
    payload = (
        body("certificates", {"csrContent": csr, "certificateType": "DISTRIBUTION"})
        if method == "POST"
        else None
    )
    response = api.request(method, path, json=payload)
    assert response.status_code == 403
    assert response.json()["errors"][0] | {"id": "x"} == {
        "id": "x",
        "status": "403",
        "code": "FORBIDDEN_ERROR",
        "title": "This request is forbidden for security reasons",
        "detail": "The API key in use does not allow this request",
    }
    assert api.get("/v1/apps").status_code == 200
    assert api.get("/v1/bundleIds").status_code == 200


@pytest.mark.parametrize("path", ["/v1/bundleIds", "/v1/certificates", "/v1/profiles"])
def test_missing_agreements_forbid_provisioning(start_simulator, path: str) -> None:
    sim = start_simulator(agreements_ok=False)
    api = sim.client()
    response = api.get(path)
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["code"] == "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED"
    assert error["title"] == "A required agreement is missing or has expired."
    assert (
        error["detail"]
        == "This request requires an in-effect agreement that has not been signed or has expired."
    )
    assert api.get("/v1/apps").status_code == 200
    assert create_bundle_id(api, "com.example.x").status_code == 403
    sim.control.set_agreements(True)
    assert api.get(path).status_code == 200
