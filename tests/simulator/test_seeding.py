"""Apple-side state seeded from the scenario or the control API: builds, versions, review submissions, users,
other people's certificates; and a new version copying the previous version's metadata, as Apple's does."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from ascflow.simulator.scenario import (
    AppSpec,
    BuildSpec,
    CertificateSpec,
    Delays,
    LocalizationSpec,
    PersonSpec,
    SubmissionSpec,
    VersionSpec,
)
from ascflow.simulator.signing import authority
from tests.fixtures.simulator import DEFAULT_APP_ID, DEFAULT_BUNDLE_ID, RunningSimulator
from tests.simulator.helpers import body, make_csr
from tests.simulator.publishing import wait_for

RELEASED = VersionSpec(
    version_string="1.0",
    state="READY_FOR_DISTRIBUTION",
    copyright="2025 Acme Games Ltd",
    build_number="10",
    localizations=[
        LocalizationSpec(
            locale="en-US",
            description="Match three.",
            keywords="puzzle,match",
            marketing_url="https://acme.example",
            support_url="https://acme.example/help",
            promotional_text="Now with levels.",
            whats_new="First release.",
        ),
        LocalizationSpec(
            locale="de-DE", description="Drei gewinnt.", support_url="https://acme.example/hilfe"
        ),
    ],
)
APP = AppSpec(
    id=DEFAULT_APP_ID,
    name="Demo App",
    bundle_id=DEFAULT_BUNDLE_ID,
    sku="DEMO-001",
    builds=[
        BuildSpec(version="1.0", build_number="10", uses_non_exempt_encryption=False),
        BuildSpec(version="1.1", build_number="11", processing_state="PROCESSING"),
    ],
    versions=[RELEASED],
)


def localizations(api: httpx.Client, version_id: str) -> dict[str, dict]:
    data = api.get(f"/v1/appStoreVersions/{version_id}/appStoreVersionLocalizations").json()["data"]
    return {loc["attributes"]["locale"]: loc["attributes"] for loc in data}


def new_version(api: httpx.Client, version_string: str) -> httpx.Response:
    return api.post(
        "/v1/appStoreVersions",
        json=body(
            "appStoreVersions",
            {"platform": "IOS", "versionString": version_string},
            app=("apps", DEFAULT_APP_ID),
        ),
    )


def test_seeded_builds_are_processed_with_their_numbers_and_a_processing_one_turns_valid(
    start_simulator,
) -> None:
    sim = start_simulator(apps=[APP])
    api = sim.client()
    valid = api.get("/v1/builds", params={"filter[app]": sim.app_id, "filter[version]": "10"}).json()["data"]
    assert [b["attributes"]["processingState"] for b in valid] == ["VALID"]
    assert valid[0]["attributes"]["usesNonExemptEncryption"] is False
    by_pre_release = api.get(
        "/v1/builds", params={"filter[app]": sim.app_id, "filter[preReleaseVersion.version]": "1.1"}
    ).json()["data"]
    assert [b["attributes"]["version"] for b in by_pre_release] == ["11"]
    # 600 Apple seconds of processing at 36000x: a few hundredths of a wall second.
    wait_for(
        lambda: api.get(f"/v1/builds/{by_pre_release[0]['id']}").json()["data"]["attributes"],
        lambda attributes: attributes["processingState"] == "VALID",
    )


def test_a_seeded_version_has_its_state_copyright_localizations_and_build(start_simulator) -> None:
    sim = start_simulator(apps=[APP])
    api = sim.client()
    [version] = api.get(f"/v1/apps/{sim.app_id}/appStoreVersions").json()["data"]
    assert version["attributes"]["appVersionState"] == "READY_FOR_DISTRIBUTION"
    assert version["attributes"]["copyright"] == "2025 Acme Games Ltd"
    assert (
        api.get(f"/v1/appStoreVersions/{version['id']}/build").json()["data"]["attributes"]["version"] == "10"
    )
    locs = localizations(api, version["id"])
    assert set(locs) == {"en-US", "de-DE"}
    assert locs["en-US"]["keywords"] == "puzzle,match"
    assert locs["en-US"]["whatsNew"] == "First release."


def test_a_new_version_copies_the_previous_versions_copyright_and_localizations_but_not_whats_new(
    start_simulator,
) -> None:
    sim = start_simulator(apps=[APP])
    api = sim.client()
    created = new_version(api, "1.1")
    assert created.status_code == 201
    assert created.json()["data"]["attributes"]["copyright"] == "2025 Acme Games Ltd"
    locs = localizations(api, created.json()["data"]["id"])
    assert locs["en-US"] | {"whatsNew": "x"} == {
        "locale": "en-US",
        "description": "Match three.",
        "keywords": "puzzle,match",
        "marketingUrl": "https://acme.example",
        "supportUrl": "https://acme.example/help",
        "promotionalText": "Now with levels.",
        "whatsNew": "x",
    }
    assert locs["en-US"]["whatsNew"] is None
    assert locs["de-DE"]["description"] == "Drei gewinnt."
    assert locs["de-DE"]["whatsNew"] is None


def test_a_copyright_given_at_creation_wins_over_the_copied_one(start_simulator) -> None:
    sim = start_simulator(apps=[APP])
    created = sim.client().post(
        "/v1/appStoreVersions",
        json=body(
            "appStoreVersions",
            {"platform": "IOS", "versionString": "1.1", "copyright": "2026 Acme"},
            app=("apps", DEFAULT_APP_ID),
        ),
    )
    assert created.json()["data"]["attributes"]["copyright"] == "2026 Acme"


def test_an_open_seeded_submission_blocks_a_new_one_and_moves_on_over_apple_time(start_simulator) -> None:
    app = APP.model_copy(
        update={
            "versions": [
                RELEASED,
                VersionSpec(version_string="1.1", state="WAITING_FOR_REVIEW", build_number="11"),
            ],
            "review_submissions": [SubmissionSpec(state="WAITING_FOR_REVIEW", items=["1.1"])],
        }
    )
    # Half a wall second each for waiting and review at 36000x: long enough to look, short enough to wait.
    sim = start_simulator(apps=[app], delays=Delays(review_wait_seconds=18_000, review_seconds=18_000))
    api = sim.client()
    [submission] = api.get("/v1/reviewSubmissions", params={"filter[app]": sim.app_id}).json()["data"]
    items = api.get(f"/v1/reviewSubmissions/{submission['id']}/items").json()["data"]
    assert [i["attributes"]["state"] for i in items] == ["READY_FOR_REVIEW"]
    another = api.post(
        "/v1/reviewSubmissions",
        json=body("reviewSubmissions", {"platform": "IOS"}, app=("apps", sim.app_id)),
    )
    assert another.status_code == 409
    wait_for(
        lambda: api.get(f"/v1/reviewSubmissions/{submission['id']}").json()["data"]["attributes"]["state"],
        lambda state: state == "COMPLETE",
    )


def test_seeded_users_have_their_roles_and_cannot_be_invited_again(start_simulator) -> None:
    sim = start_simulator(
        users=[
            PersonSpec(email="owner@example.com", roles=["ADMIN"]),
            PersonSpec(
                email="dev@example.com", roles=["DEVELOPER", "APP_MANAGER"], provisioning_allowed=True
            ),
        ]
    )
    api = sim.client()
    users = {u["attributes"]["username"]: u["attributes"] for u in api.get("/v1/users").json()["data"]}
    assert users["dev@example.com"]["roles"] == ["DEVELOPER", "APP_MANAGER"]
    assert users["dev@example.com"]["provisioningAllowed"] is True
    assert users["owner@example.com"]["provisioningAllowed"] is True
    again = api.post(
        "/v1/userInvitations",
        json=body(
            "userInvitations",
            {"email": "dev@example.com", "firstName": "D", "lastName": "E", "roles": ["DEVELOPER"]},
        ),
    )
    assert again.status_code == 409


def someone_elses_certificate() -> tuple[str, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Apple Distribution: Other CI (SIM0TEAM01)")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0xC0FFEE)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=300))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), cert


def test_certificates_made_by_others_are_real_named_and_count_towards_the_limit(start_simulator) -> None:
    pem, given = someone_elses_certificate()
    sim = start_simulator(
        certificates=[
            CertificateSpec(certificate_type="DISTRIBUTION", certificate_pem=pem),
            CertificateSpec(certificate_type="DISTRIBUTION", name="Release CI"),
        ],
        certificate_limits={"DISTRIBUTION": 2},
    )
    api = sim.client()
    listed = api.get("/v1/certificates", params={"filter[certificateType]": "DISTRIBUTION"}).json()["data"]
    by_name = {c["attributes"]["name"]: c["attributes"] for c in listed}
    assert set(by_name) == {"Apple Distribution: Other CI (SIM0TEAM01)", "Release CI"}
    served = by_name["Apple Distribution: Other CI (SIM0TEAM01)"]
    assert base64.b64decode(served["certificateContent"]) == given.public_bytes(serialization.Encoding.DER)
    assert served["serialNumber"] == "C0FFEE"
    issued = x509.load_der_x509_certificate(base64.b64decode(by_name["Release CI"]["certificateContent"]))
    issued.verify_directly_issued_by(authority()[1])
    csr, _ = make_csr()
    over = api.post(
        "/v1/certificates", json=body("certificates", {"csrContent": csr, "certificateType": "DISTRIBUTION"})
    )
    assert over.status_code == 409
    assert over.json()["errors"][0]["code"] == "ENTITY_ERROR"


def test_the_control_api_seeds_the_same_things_mid_run(simulator: RunningSimulator) -> None:
    control = simulator.control
    build_id = control.add_build(simulator.app_id, BuildSpec(version="2.0", build_number="20"))
    version_id = control.add_version(
        simulator.app_id,
        VersionSpec(
            version_string="2.0", state="PREPARE_FOR_SUBMISSION", copyright="2026 X", build_number="20"
        ),
    )
    submission_id = control.add_review_submission(simulator.app_id, SubmissionSpec(items=["2.0"]))
    user_id = control.add_user(PersonSpec(email="seeded@example.com", roles=["MARKETING"]))
    certificate_id = control.add_certificate(CertificateSpec(name="Someone's"))
    app_id = control.add_app(AppSpec(name="Second", bundle_id="com.example.second", sku="S2"))
    api = simulator.client()
    assert api.get(f"/v1/appStoreVersions/{version_id}/build").json()["data"]["id"] == build_id
    assert api.get(f"/v1/appStoreVersions/{version_id}").json()["data"]["attributes"]["copyright"] == "2026 X"
    items = api.get(f"/v1/reviewSubmissions/{submission_id}/items").json()["data"]
    assert len(items) == 1
    assert api.get(f"/v1/users/{user_id}").json()["data"]["attributes"]["roles"] == ["MARKETING"]
    assert api.get(f"/v1/certificates/{certificate_id}").json()["data"]["attributes"]["name"] == "Someone's"
    found = api.get("/v1/apps", params={"filter[bundleId]": "com.example.second"}).json()["data"]
    assert [a["id"] for a in found] == [app_id]


def test_app_ids_are_unique_across_named_numbered_and_added_apps(start_simulator) -> None:
    """An app without an id gets a number no other app holds or the scenario names, whenever it is seeded."""
    sim = start_simulator(
        apps=[
            AppSpec(name="Unnamed", bundle_id="com.example.unnamed", sku="U"),
            AppSpec(id=DEFAULT_APP_ID, name="Demo App", bundle_id=DEFAULT_BUNDLE_ID, sku="DEMO-001"),
            AppSpec(id="6400000003", name="Third", bundle_id="com.example.third", sku="T"),
        ]
    )
    added = [
        sim.control.add_app(AppSpec(name=f"Added {n}", bundle_id=f"com.example.added{n}", sku=f"A{n}"))
        for n in (1, 2)
    ]
    apps = sim.client().get("/v1/apps").json()["data"]
    names = {app["id"]: app["attributes"]["name"] for app in apps}
    assert len(apps) == len(names) == 5
    assert names[DEFAULT_APP_ID] == "Demo App"
    assert names["6400000003"] == "Third"
    assert [names[id_] for id_ in added] == ["Added 1", "Added 2"]
    assert "Unnamed" in names.values()


@pytest.mark.parametrize(
    ("path", "payload", "status", "named"),
    [
        ("/apps/404/builds", {"version": "1.0", "build_number": "1"}, 404, "apps/404"),
        (f"/apps/{DEFAULT_APP_ID}/versions", {"version_string": "3.0", "build_number": "99"}, 400, "99"),
        (f"/apps/{DEFAULT_APP_ID}/reviewSubmissions", {"items": ["9.9"]}, 400, "9.9"),
        (
            f"/apps/{DEFAULT_APP_ID}/builds",
            {"version": "1.0", "build_number": "1", "colour": "red"},
            400,
            "colour",
        ),
        ("/certificates", {"certificate_pem": "not a certificate"}, 400, "certificate_pem"),
    ],
)
def test_seeding_through_the_control_api_names_what_is_wrong(
    simulator: RunningSimulator, path: str, payload: dict, status: int, named: str
) -> None:
    response = httpx.post(f"{simulator.base_url}/_simulator{path}", json=payload)
    assert response.status_code == status
    assert named in response.json()["error"]


def test_a_scenario_whose_version_names_a_missing_build_is_refused_with_the_field_named() -> None:
    with pytest.raises(ValidationError, match="build_number '7'"):
        AppSpec(
            name="A",
            bundle_id="com.a",
            sku="A",
            versions=[VersionSpec(version_string="1.0", build_number="7")],
        )
