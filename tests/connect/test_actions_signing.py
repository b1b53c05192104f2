"""find_app, bundle ID, distribution certificate, .p12 and App Store profile against the simulator."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ascflow.connect.actions import (
    AppRecordMissing,
    CertificateLimitReached,
    ensure_app_store_profile,
    ensure_bundle_id,
    ensure_distribution_certificate,
    export_p12,
    find_app,
)
from ascflow.connect.models import CertificateType
from ascflow.connect.signing import new_signing_request
from ascflow.simulator.faults import FaultPlan, FaultRule
from ascflow.simulator.scenario import AppSpec, BundleIdSpec, CertificateSpec
from tests.connect.conftest import BUNDLE, Apple

# The app record comes with its bundle ID; this one is new to the team.
NEW_BUNDLE = "com.example.newapp"


def test_find_app_matches_the_bundle_id_exactly(make_apple: Callable[..., Apple]) -> None:
    apple = make_apple(
        apps=[
            AppSpec(name="Widget", bundle_id=f"{BUNDLE}.widget", sku="W1"),
            AppSpec(name="Example", bundle_id=BUNDLE, sku="EX1"),
        ]
    )
    assert find_app(apple.client, BUNDLE).attributes.name == "Example"


def test_find_app_tells_the_customer_to_create_the_app_record(make_apple: Callable[..., Apple]) -> None:
    apple = make_apple(apps=[AppSpec(name="Widget", bundle_id=f"{BUNDLE}.widget", sku="W1")])
    with pytest.raises(AppRecordMissing, match=BUNDLE) as caught:
        find_app(apple.client, BUNDLE)
    assert "create the app in App Store Connect" in caught.value.next_step


def test_bundle_id_is_created_once_and_a_substring_match_is_not_taken_for_it(
    make_apple: Callable[..., Apple],
) -> None:
    apple = make_apple(bundle_ids=[BundleIdSpec(identifier=f"{NEW_BUNDLE}.extension", name="Extension")])
    first = ensure_bundle_id(apple.client, NEW_BUNDLE, name="New")
    second = ensure_bundle_id(apple.client, NEW_BUNDLE, name="New")
    assert first.created
    assert not second.created
    assert first.resource.id == second.resource.id
    assert first.resource.attributes.identifier == NEW_BUNDLE
    assert apple.writes("POST", "/v1/bundleIds") == 1
    assert sorted(b["attributes"]["identifier"] for b in apple.control.state()["bundleIds"]) == [
        BUNDLE,
        NEW_BUNDLE,
        f"{NEW_BUNDLE}.extension",
    ]


def test_bundle_id_write_dropped_after_apple_applied_it_is_read_back(
    make_apple: Callable[..., Apple],
) -> None:
    apple = make_apple(
        faults=FaultPlan(
            rules=[FaultRule(kind="drop_after_write", path="/v1/bundleIds", methods=["POST"], count=1)]
        )
    )
    ensured = ensure_bundle_id(apple.client, NEW_BUNDLE, name="New")
    assert ensured.created
    identifiers = [b["attributes"]["identifier"] for b in apple.control.state()["bundleIds"]]
    assert sorted(identifiers) == [BUNDLE, NEW_BUNDLE]


def test_certificate_is_created_once_then_reused_by_its_key(apple: Apple) -> None:
    first = ensure_distribution_certificate(apple.client, held_keys=[])
    assert first.created
    assert first.resource.certificate.attributes.certificate_type is CertificateType.DISTRIBUTION
    unrelated = new_signing_request().private_key_pem
    second = ensure_distribution_certificate(
        apple.client, held_keys=[unrelated, first.resource.private_key_pem]
    )
    assert not second.created
    assert second.resource.certificate.id == first.resource.certificate.id
    assert second.resource.private_key_pem == first.resource.private_key_pem
    assert apple.writes("POST", "/v1/certificates") == 1
    assert "PRIVATE KEY" not in repr(second)


def test_the_new_key_is_handed_over_before_apple_sees_its_csr(apple: Apple) -> None:
    handed: list[tuple[bytes, int]] = []

    def keep(private_key_pem: bytes) -> None:
        handed.append((private_key_pem, apple.writes("POST", "/v1/certificates")))

    made = ensure_distribution_certificate(apple.client, held_keys=[], before_create=keep)
    assert handed == [(made.resource.private_key_pem, 0)]
    reused = ensure_distribution_certificate(
        apple.client, held_keys=[made.resource.private_key_pem], before_create=keep
    )
    assert not reused.created
    assert len(handed) == 1


def test_certificate_write_dropped_after_apple_applied_it_creates_nothing_twice(
    make_apple: Callable[..., Apple],
) -> None:
    apple = make_apple(
        faults=FaultPlan(
            rules=[FaultRule(kind="drop_after_write", path="/v1/certificates", methods=["POST"], count=1)]
        )
    )
    made = ensure_distribution_certificate(apple.client, held_keys=[])
    assert made.created
    certificates = apple.control.state()["certificates"]
    assert [c["id"] for c in certificates] == [made.resource.certificate.id]
    # The key returned is the one the certificate was made for: the .p12 opens and pairs them.
    p12 = export_p12(made.resource.certificate, made.resource.private_key_pem, "pw")
    key, certificate, _ = pkcs12.load_key_and_certificates(p12, b"pw")
    assert key is not None
    assert certificate is not None
    assert key.public_key() == certificate.public_key()


def test_at_the_certificate_limit_it_stops_names_the_blockers_and_revokes_nothing(
    make_apple: Callable[..., Apple],
) -> None:
    apple = make_apple(
        certificates=[
            CertificateSpec(certificate_type="DISTRIBUTION", name="Other CI"),
            CertificateSpec(certificate_type="DISTRIBUTION", name="Agency"),
            CertificateSpec(certificate_type="DISTRIBUTION", name="In-house"),
        ]
    )
    before = apple.control.state()["certificates"]
    with pytest.raises(CertificateLimitReached) as caught:
        ensure_distribution_certificate(apple.client, held_keys=[new_signing_request().private_key_pem])
    error = caught.value
    assert {c.id for c in error.blocking} == {c["id"] for c in before}
    for certificate in error.blocking:
        assert certificate.attributes.serial_number in str(error)
    assert "ask the customer which" in error.next_step.lower()
    assert "never revokes" in error.next_step
    assert apple.control.state()["certificates"] == before
    assert not [r for r in apple.log() if r.method == "DELETE"]


def test_p12_from_a_real_certificate_opens_with_its_password(apple: Apple) -> None:
    made = ensure_distribution_certificate(apple.client, held_keys=[])
    p12 = export_p12(made.resource.certificate, made.resource.private_key_pem, "s3cret")
    _, certificate, _ = pkcs12.load_key_and_certificates(p12, b"s3cret")
    assert certificate is not None
    der = certificate.public_bytes(serialization.Encoding.DER)
    assert der == base64.b64decode(made.resource.certificate.attributes.certificate_content)


def test_profile_is_created_once_bound_to_our_bundle_id_and_certificate(apple: Apple) -> None:
    bundle_id = ensure_bundle_id(apple.client, BUNDLE, name="Example").resource
    certificate = ensure_distribution_certificate(apple.client, held_keys=[]).resource.certificate
    first = ensure_app_store_profile(apple.client, bundle_id, certificate)
    second = ensure_app_store_profile(apple.client, bundle_id, certificate)
    assert first.created
    assert not second.created
    assert first.resource.id == second.resource.id
    assert first.resource.related_id("bundleId") == bundle_id.id
    assert first.resource.related_ids("certificates") == [certificate.id]
    assert first.resource.attributes.profile_type == "IOS_APP_STORE"
    assert first.resource.attributes.profile_content
    assert apple.writes("POST", "/v1/profiles") == 1


def test_a_new_certificate_gets_its_own_profile(apple: Apple) -> None:
    bundle_id = ensure_bundle_id(apple.client, BUNDLE, name="Example").resource
    old = ensure_distribution_certificate(apple.client, held_keys=[]).resource.certificate
    new = ensure_distribution_certificate(apple.client, held_keys=[]).resource.certificate
    assert old.id != new.id
    first = ensure_app_store_profile(apple.client, bundle_id, old)
    second = ensure_app_store_profile(apple.client, bundle_id, new)
    assert second.created
    assert first.resource.attributes.name != second.resource.attributes.name


def test_a_certificate_expiring_within_30_days_is_replaced_not_reused(apple: Apple) -> None:
    made = ensure_distribution_certificate(apple.client, held_keys=[])
    expires = made.resource.certificate.attributes.expiration_date
    later = ensure_distribution_certificate(
        apple.client, held_keys=[made.resource.private_key_pem], now=expires - timedelta(days=10)
    )
    assert later.created
    assert later.resource.id != made.resource.id
    (why,) = later.changes
    assert f"expires {expires:%Y-%m-%d}, within 30 days" in why
    still = ensure_distribution_certificate(
        apple.client, held_keys=[made.resource.private_key_pem], now=expires - timedelta(days=31)
    )
    assert (still.created, still.resource.id) == (False, made.resource.id)
