"""Every request the resource groups can send, checked against Apple's OpenAPI spec.

Each operation runs through the real `Session` over an `httpx.MockTransport` that records the request and
answers with a document built from the spec's response schema (so the client's parsing runs too).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any

import httpx
import pytest

from ascflow.connect import ApiKey, AppStoreConnect, Session
from ascflow.connect.build_models import Checksum, Checksums
from ascflow.connect.models import BundleIdPlatform, CertificateType, Platform, UserRole
from ascflow.connect.resources.base import ResourceGroup
from ascflow.connect.testflight_models import PhasedReleaseState
from tests.fixtures.keys import CustomerKey
from tests.fixtures.openapi import SPEC

API = "https://api.appstoreconnect.apple.com"


@cache
def spec_example(schema_name: str) -> dict[str, Any]:
    example: dict[str, Any] = SPEC.example(schema_name)
    return example


def answer_from_spec(request: httpx.Request) -> httpx.Response:
    operation = SPEC.operation(request.method, request.url.path)
    responses = operation.spec["responses"]
    status = next(code for code in ("200", "201", "204") if code in responses)
    if status == "204":
        return httpx.Response(204)
    schema_name = responses[status]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    document = json.loads(json.dumps(spec_example(schema_name)))
    # The example's `links.next` is a placeholder URL: one page is enough here.
    if isinstance(document.get("links"), dict):
        document["links"].pop("next", None)
    return httpx.Response(int(status), json=document)


@pytest.fixture
def recorded(customer_key: CustomerKey) -> Iterator[tuple[AppStoreConnect, list[httpx.Request]]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return answer_from_spec(request)

    key = ApiKey.from_p8(customer_key.p8, key_id=customer_key.key_id, issuer_id=customer_key.issuer_id)
    with AppStoreConnect(Session(key, base_url=API, transport=httpx.MockTransport(handler))) as client:
        yield client, seen


CHECKSUMS = Checksums(file=Checksum(hash="ab" * 32, algorithm="SHA_256"))

# Every public operation of every resource group, with the arguments the actions pass.
OPERATIONS: dict[str, Callable[[AppStoreConnect], object]] = {
    "apps.list": lambda c: c.apps.list(bundle_id="com.example.app"),
    "certificates.probe": lambda c: c.certificates.probe(),
    "users.probe": lambda c: c.users.probe(),
    "apps.get": lambda c: c.apps.get("A1"),
    "bundle_ids.list": lambda c: c.bundle_ids.list(
        identifier="com.example.app", platform=BundleIdPlatform.IOS
    ),
    "bundle_ids.create": lambda c: c.bundle_ids.create(
        identifier="com.example.app", name="Example", platform=BundleIdPlatform.IOS
    ),
    "certificates.list": lambda c: c.certificates.list(
        certificate_types=[CertificateType.DISTRIBUTION, CertificateType.IOS_DISTRIBUTION]
    ),
    "certificates.get": lambda c: c.certificates.get("C1"),
    "certificates.create": lambda c: c.certificates.create(
        csr_pem="-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n",
        certificate_type=CertificateType.DISTRIBUTION,
    ),
    "profiles.list": lambda c: c.profiles.list(name="ascflow com.example.app", profile_type="IOS_APP_STORE"),
    "profiles.get": lambda c: c.profiles.get("P1"),
    "profiles.create": lambda c: c.profiles.create(
        name="ascflow com.example.app",
        profile_type="IOS_APP_STORE",
        bundle_id_id="B1",
        certificate_ids=["C1"],
    ),
    "profiles.delete": lambda c: c.profiles.delete("P1"),
    "users.list": lambda c: c.users.list(username="dev@example.com"),
    "users.set_roles": lambda c: c.users.set_roles("U1", [UserRole.APP_MANAGER, UserRole.DEVELOPER]),
    "invitations.list": lambda c: c.invitations.list(email="dev@example.com"),
    "invitations.create": lambda c: c.invitations.create(
        email="dev@example.com",
        first_name="Dev",
        last_name="Eloper",
        roles=[UserRole.APP_MANAGER, UserRole.DEVELOPER],
        all_apps_visible=True,
        provisioning_allowed=True,
    ),
    "builds.list": lambda c: c.builds.list(
        app_id="A1", version="42", short_version="1.2.0", platform=Platform.IOS
    ),
    "builds.get": lambda c: c.builds.get("BU1"),
    "builds.set_uses_non_exempt_encryption": lambda c: c.builds.set_uses_non_exempt_encryption("BU1", False),
    "build_uploads.list_for_app": lambda c: c.build_uploads.list_for_app(
        app_id="A1", short_version="1.2.0", version="42", platform=Platform.IOS
    ),
    "build_uploads.get": lambda c: c.build_uploads.get("U1"),
    "build_uploads.create": lambda c: c.build_uploads.create(
        app_id="A1", short_version="1.2.0", version="42", platform=Platform.IOS
    ),
    "build_uploads.files": lambda c: c.build_uploads.files("U1"),
    "build_uploads.create_file": lambda c: c.build_uploads.create_file(
        upload_id="U1", file_name="App.ipa", file_size=3, uti="com.apple.ipa", asset_type="ASSET"
    ),
    "build_uploads.get_file": lambda c: c.build_uploads.get_file("F1"),
    "build_uploads.commit_file": lambda c: c.build_uploads.commit_file("F1", CHECKSUMS),
    "versions.list_for_app": lambda c: c.versions.list_for_app(app_id="A1", platform=Platform.IOS),
    "versions.list_with_details": lambda c: c.versions.list_with_details(
        app_id="A1", platform=Platform.IOS, localizations=True
    ),
    "versions.get": lambda c: c.versions.get("V1"),
    "versions.create": lambda c: c.versions.create(
        app_id="A1",
        platform=Platform.IOS,
        version_string="1.2.0",
        release_type="AFTER_APPROVAL",
        build_id="B1",
    ),
    "versions.update": lambda c: c.versions.update("V1", version_string="1.2.1", release_type="MANUAL"),
    "versions.build_id": lambda c: c.versions.build_id("V1"),
    "versions.attach_build": lambda c: c.versions.attach_build("V1", "BU1"),
    "localizations.list_for_version": lambda c: c.localizations.list_for_version("V1"),
    "localizations.create": lambda c: c.localizations.create(
        version_id="V1", locale="en-US", whats_new="Fixes"
    ),
    "localizations.set_whats_new": lambda c: c.localizations.set_whats_new("L1", "Fixes"),
    "review_details.for_version": lambda c: c.review_details.for_version("V1"),
    "review_details.create": lambda c: c.review_details.create(
        version_id="V1",
        attributes={
            "contactFirstName": "A",
            "contactLastName": "B",
            "contactPhone": "+1 555 0100",
            "contactEmail": "a@example.com",
            "demoAccountRequired": False,
        },
    ),
    "review_details.update": lambda c: c.review_details.update("D1", attributes={"notes": "Thanks"}),
    "review_submissions.list": lambda c: c.review_submissions.list(app_id="A1", platform=Platform.IOS),
    "review_submissions.get": lambda c: c.review_submissions.get("S1"),
    "review_submissions.items": lambda c: c.review_submissions.items("S1"),
    "review_submissions.create": lambda c: c.review_submissions.create(app_id="A1", platform=Platform.IOS),
    "review_submissions.add_version": lambda c: c.review_submissions.add_version(
        submission_id="S1", version_id="V1"
    ),
    "review_submissions.submit": lambda c: c.review_submissions.submit("S1"),
    # The store listing.
    "app_listings.get": lambda c: c.app_listings.get("A1"),
    "app_listings.update": lambda c: c.app_listings.update(
        "A1", content_rights="DOES_NOT_USE_THIRD_PARTY_CONTENT", primary_locale="en-US"
    ),
    "app_infos.list_for_app": lambda c: c.app_infos.list_for_app("A1"),
    "app_infos.set_categories": lambda c: c.app_infos.set_categories(
        "I1",
        {
            "primaryCategory": "GAMES",
            "primarySubcategoryOne": "GAMES_PUZZLE",
            "secondaryCategory": "UTILITIES",
        },
    ),
    "app_info_localizations.list_for_info": lambda c: c.app_info_localizations.list_for_info(
        "I1", locale="en-US"
    ),
    "app_info_localizations.create": lambda c: c.app_info_localizations.create(
        info_id="I1",
        locale="de-DE",
        attributes={"name": "Zähler", "privacyPolicyUrl": "https://example.com/p"},
    ),
    "app_info_localizations.update": lambda c: c.app_info_localizations.update("IL1", {"subtitle": "Count"}),
    "age_ratings.for_info": lambda c: c.age_ratings.for_info("I1"),
    "age_ratings.update": lambda c: c.age_ratings.update(
        "AR1", {"violenceRealistic": "NONE", "gambling": False, "kidsAgeBand": "NINE_TO_ELEVEN"}
    ),
    "version_listings.get": lambda c: c.version_listings.get("V1"),
    "version_listings.update": lambda c: c.version_listings.update(
        "V1",
        copyright="2026 Example Ltd",
        release_type="SCHEDULED",
        earliest_release_date=datetime(2026, 12, 24, 9, 0, tzinfo=UTC),
    ),
    "version_texts.list_for_version": lambda c: c.version_texts.list_for_version("V1", locale="en-US"),
    "version_texts.create": lambda c: c.version_texts.create(
        version_id="V1",
        locale="de-DE",
        attributes={"description": "Zählt.", "keywords": "zähler", "supportUrl": "https://example.com/s"},
    ),
    "version_texts.update": lambda c: c.version_texts.update(
        "L1", {"marketingUrl": "https://example.com", "promotionalText": "New", "whatsNew": "Fixes"}
    ),
    "screenshot_sets.find": lambda c: c.screenshot_sets.find("L1", "APP_IPHONE_67"),
    "screenshot_sets.create": lambda c: c.screenshot_sets.create(
        localization_id="L1", display_type="APP_IPHONE_67"
    ),
    "screenshot_sets.screenshots": lambda c: c.screenshot_sets.screenshots("SS1"),
    "screenshot_sets.reorder": lambda c: c.screenshot_sets.reorder("SS1", ["SH2", "SH1"]),
    "screenshots.reserve": lambda c: c.screenshots.reserve(set_id="SS1", file_name="1.png", file_size=1024),
    "screenshots.commit": lambda c: c.screenshots.commit("SH1", "0" * 32),
    "screenshots.get": lambda c: c.screenshots.get("SH1"),
    "screenshots.delete": lambda c: c.screenshots.delete("SH1"),
    "price_points.for_territory": lambda c: list(c.price_points.for_territory("A1", "USA")),
    "price_schedules.for_app": lambda c: c.price_schedules.for_app("A1"),
    "price_schedules.manual_prices": lambda c: c.price_schedules.manual_prices("PS1", "USA"),
    "price_schedules.create": lambda c: c.price_schedules.create(
        app_id="A1", base_territory="USA", price_point_id="eyJzIjoiQTEifQ"
    ),
    "territories.list": lambda c: c.territories.list(),
    "availabilities.for_app": lambda c: c.availabilities.for_app("A1"),
    "availabilities.territory_availabilities": lambda c: c.availabilities.territory_availabilities("AV1"),
    "availabilities.create": lambda c: c.availabilities.create(
        app_id="A1", available_in_new_territories=True, territories=["USA", "GBR"]
    ),
    "territory_availabilities.set_available": lambda c: c.territory_availabilities.set_available(
        "TA1", False
    ),
    # TestFlight and release control.
    "beta_build_localizations.list_for_build": lambda c: c.beta_build_localizations.list_for_build("BU1"),
    "beta_build_localizations.create": lambda c: c.beta_build_localizations.create(
        build_id="BU1", locale="en-US", whats_new="Try the widgets."
    ),
    "beta_build_localizations.update": lambda c: c.beta_build_localizations.update("BL1", "Try sharing."),
    "beta_groups.list_for_app": lambda c: c.beta_groups.list_for_app("A1"),
    "beta_groups.create": lambda c: c.beta_groups.create(app_id="A1", name="Friends", internal=False),
    "beta_groups.build_ids": lambda c: c.beta_groups.build_ids("G1"),
    "beta_groups.add_builds": lambda c: c.beta_groups.add_builds("G1", ["BU1"]),
    "beta_groups.testers": lambda c: c.beta_groups.testers("G1"),
    "beta_groups.add_testers": lambda c: c.beta_groups.add_testers("G1", ["T1", "T2"]),
    "beta_testers.list": lambda c: c.beta_testers.list(emails=["Ann@example.com", "ann@example.com"]),
    "beta_testers.create": lambda c: c.beta_testers.create(
        email="ann@example.com", first_name="Ann", last_name="Lee", group_id="G1"
    ),
    "beta_app_localizations.list_for_app": lambda c: c.beta_app_localizations.list_for_app("A1"),
    "beta_app_localizations.create": lambda c: c.beta_app_localizations.create(
        app_id="A1", locale="en-US", attributes={"description": "A counter to test."}
    ),
    "beta_app_localizations.update": lambda c: c.beta_app_localizations.update(
        "BAL1", {"description": "A counter."}
    ),
    "beta_review_details.for_app": lambda c: c.beta_review_details.for_app("A1"),
    "beta_review_details.update": lambda c: c.beta_review_details.update(
        "BRD1",
        {
            "contactFirstName": "A",
            "contactEmail": "a@example.com",
            "demoAccountRequired": True,
            "demoAccountName": "demo",
            "demoAccountPassword": "not-a-real-password",
            "notes": "Sign in with the demo account.",
        },
    ),
    "beta_review_submissions.for_build": lambda c: c.beta_review_submissions.for_build("BU1"),
    "beta_review_submissions.create": lambda c: c.beta_review_submissions.create("BU1"),
    "phased_releases.for_version": lambda c: c.phased_releases.for_version("V1"),
    "phased_releases.create": lambda c: c.phased_releases.create(
        version_id="V1", state=PhasedReleaseState.INACTIVE
    ),
    "phased_releases.update": lambda c: c.phased_releases.update("PR1", PhasedReleaseState.PAUSED),
    "release_requests.create": lambda c: c.release_requests.create("V1"),
}


def public_operations(client: AppStoreConnect) -> set[str]:
    found = set()
    for group_name, group in vars(client).items():
        if isinstance(group, ResourceGroup):
            for name, _method in inspect.getmembers(group, inspect.ismethod):
                if not name.startswith("_"):
                    found.add(f"{group_name}.{name}")
    return found


def test_the_table_covers_every_operation_of_every_resource_group(
    recorded: tuple[AppStoreConnect, list[httpx.Request]],
) -> None:
    client, _ = recorded
    assert public_operations(client) == set(OPERATIONS)


def check_against_spec(request: httpx.Request) -> None:
    body = json.loads(request.content) if request.content else None
    SPEC.check_request(request.method, request.url.path, dict(request.url.params.multi_items()), body)


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_every_request_an_operation_sends_is_allowed_by_the_spec(
    operation: str, recorded: tuple[AppStoreConnect, list[httpx.Request]]
) -> None:
    client, seen = recorded
    OPERATIONS[operation](client)
    assert seen, f"{operation} sent nothing"
    for request in seen:
        check_against_spec(request)
        assert request.headers["Authorization"].startswith("Bearer ")


def test_the_spec_check_would_catch_a_bad_request() -> None:
    """The yardstick itself: an undeclared parameter, a bad enum value and a missing required filter."""
    with pytest.raises(AssertionError, match="filter\\[bundle\\]"):
        SPEC.check_request("GET", "/v1/apps", {"filter[bundle]": "x"}, None)
    with pytest.raises(AssertionError, match="filter\\[platform\\]"):
        SPEC.check_request("GET", "/v1/bundleIds", {"filter[platform]": "IOS_PHONE"}, None)
    with pytest.raises(AssertionError, match="filter\\[app\\]"):
        SPEC.check_request("GET", "/v1/reviewSubmissions", {"filter[platform]": "IOS"}, None)


def test_substring_filters_are_sent_as_given_and_review_submissions_carry_filter_app(
    recorded: tuple[AppStoreConnect, list[httpx.Request]],
) -> None:
    client, seen = recorded
    client.bundle_ids.list(identifier="com.example.app", platform=BundleIdPlatform.IOS)
    client.review_submissions.list(app_id="A1", platform=Platform.IOS)
    client.certificates.list(
        certificate_types=[CertificateType.DISTRIBUTION, CertificateType.IOS_DISTRIBUTION]
    )
    params = [dict(r.url.params.multi_items()) for r in seen]
    assert params[0]["filter[identifier]"] == "com.example.app"
    assert params[0]["limit"] == "200"
    assert params[1]["filter[app]"] == "A1"
    assert params[2]["filter[certificateType]"] == "DISTRIBUTION,IOS_DISTRIBUTION"
