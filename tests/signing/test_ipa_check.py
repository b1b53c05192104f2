"""The .ipa check on real archives whose embedded profile is the one the simulator issued, in Apple's CMS form.

Each refusal names the value found and the value expected; a foreign profile comes from a second simulated
team that signed the same bundle ID.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ascflow.settings import Settings
from ascflow.signing import IpaRefused, check_ipa, kept_profile
from ascflow.signing.mobileprovision import read_profile
from tests.fixtures.ipa import build_ipa
from tests.fixtures.mobileprovision import changed_plist, mobileprovision
from tests.fixtures.simulator import StartSimulator
from tests.pipeline.conftest import TENANT
from tests.signing.conftest import TEAM_ID, Signed, sign

VERSION = "1.0"
BUILD = "7"
NOW = datetime.now(UTC)


@pytest.fixture
def embedded(signed: Signed) -> bytes:
    """The simulator's profile for the app, as Xcode embeds it."""
    return mobileprovision(signed.issued_profile_plist())


def ipa(
    tmp_path: Path,
    signed: Signed,
    profile: bytes | None,
    *,
    bundle_id: str | None = None,
    short_version: str = VERSION,
    build_number: str = BUILD,
    **options,
) -> Path:
    return build_ipa(
        tmp_path / "App.ipa",
        bundle_id or signed.bundle_id,
        short_version,
        build_number,
        embedded_profile=profile,
        team_id=None,
        **options,
    )


def check(path: Path, signed: Signed, now: datetime = NOW):
    return check_ipa(path, signed.bundle_id, VERSION, BUILD, TEAM_ID, now)


def refusal(path: Path, signed: Signed, now: datetime = NOW) -> str:
    with pytest.raises(IpaRefused) as refused:
        check(path, signed, now)
    assert refused.value.next_step
    return refused.value.what


@pytest.mark.parametrize("binary_plist", [False, True], ids=["xml-info-plist", "binary-info-plist"])
def test_the_app_requested_signed_with_its_app_store_profile_passes(
    signed: Signed, embedded: bytes, tmp_path: Path, binary_plist: bool
) -> None:
    facts = check(ipa(tmp_path, signed, embedded, binary_plist=binary_plist), signed)
    assert (facts.app, facts.bundle_id, facts.version, facts.build_number) == (
        "Payload/App.app",
        signed.bundle_id,
        VERSION,
        BUILD,
    )
    assert (facts.team_id, facts.profile_name) == (TEAM_ID, signed.result.profile_name)
    # The team the upload step checks against is the one the signing step kept.
    assert kept_profile(signed.ctx.custody.store, TENANT, signed.bundle_id).team_id == TEAM_ID


@pytest.mark.parametrize(
    ("built", "found", "expected"),
    [
        (
            {"bundle_id": "com.example.otherapp"},
            "CFBundleIdentifier is 'com.example.otherapp'",
            "bundle ID is",
        ),
        ({"short_version": "1.1"}, "CFBundleShortVersionString is '1.1'", "version is '1.0'"),
        ({"build_number": "8"}, "CFBundleVersion is '8'", "build number is '7'"),
        ({"info": {"CFBundleVersion": None}}, "has no CFBundleVersion", "build number is '7'"),
    ],
    ids=["bundle-id", "version", "build-number", "no-build-number"],
)
def test_info_plist_mismatches_name_both_values(
    signed: Signed, embedded: bytes, tmp_path: Path, built: dict, found: str, expected: str
) -> None:
    what = refusal(ipa(tmp_path, signed, embedded, **built), signed)
    assert found in what
    assert f"the request's {expected}" in what
    if "bundle_id" in built:
        assert repr(signed.bundle_id) in what


def test_an_ipa_without_info_plist_is_refused(signed: Signed, embedded: bytes, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Payload/App.app/App", b"\0" * 64)
        archive.writestr("Payload/App.app/embedded.mobileprovision", embedded)
    (tmp_path / "App.ipa").write_bytes(buffer.getvalue())
    assert refusal(tmp_path / "App.ipa", signed) == "Payload/App.app/Info.plist is missing from the .ipa."


def test_two_apps_and_no_zip_are_refused(signed: Signed, embedded: bytes, tmp_path: Path) -> None:
    what = refusal(ipa(tmp_path, signed, embedded, apps=2), signed)
    assert "holds 2 apps (Payload/App.app, Payload/App1.app)" in what
    assert "exactly one Payload/*.app" in what
    (tmp_path / "Text.ipa").write_text("not a zip")
    assert "is not a readable zip archive" in refusal(tmp_path / "Text.ipa", signed)


def test_a_missing_or_unsigned_profile_is_refused(signed: Signed, tmp_path: Path) -> None:
    assert "embedded.mobileprovision is missing" in refusal(ipa(tmp_path, signed, None), signed)
    unsigned = refusal(ipa(tmp_path, signed, signed.issued_profile_plist()), signed)
    assert "unsigned plist" in unsigned


def test_an_expired_profile_is_refused_with_both_times(
    signed: Signed, embedded: bytes, tmp_path: Path
) -> None:
    expires = read_profile(embedded).expires_at
    later = expires + timedelta(days=2)
    what = refusal(ipa(tmp_path, signed, embedded), signed, now=later)
    assert f"expired at {expires:%Y-%m-%d %H:%M} UTC" in what
    assert f"it is now {later:%Y-%m-%d %H:%M} UTC" in what
    assert check(ipa(tmp_path, signed, embedded), signed, now=expires - timedelta(minutes=1))


def test_a_profile_of_another_team_is_refused_naming_both_teams(
    signed: Signed, start_simulator: StartSimulator, tmp_path: Path
) -> None:
    other_team = start_simulator(team_id="OTHER0TEAM")
    theirs = sign(other_team, Settings(data_dir=tmp_path / "theirs", asc_base_url=other_team.base_url))
    foreign = mobileprovision(theirs.issued_profile_plist())
    what = refusal(ipa(tmp_path, signed, foreign), signed)
    assert "belongs to team OTHER0TEAM, but the customer's team is SIM0TEAM01" in what


def test_a_profile_for_another_app_id_is_refused(signed: Signed, tmp_path: Path) -> None:
    other = changed_plist(
        signed.issued_profile_plist(),
        Entitlements={"application-identifier": f"{TEAM_ID}.com.example.otherapp"},
    )
    what = refusal(ipa(tmp_path, signed, mobileprovision(other)), signed)
    assert f"is for app ID '{TEAM_ID}.com.example.otherapp'" in what
    assert f"this app's ID is '{TEAM_ID}.{signed.bundle_id}'" in what


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"ProvisionedDevices": ["00008030-001A2C3E0E12802E"], "Entitlements": {"get-task-allow": True}},
            "it lists 1 ProvisionedDevices (a development or ad hoc profile)",
        ),
        ({"Entitlements": {"get-task-allow": True}}, "its get-task-allow is true (a development profile)"),
        ({"ProvisionsAllDevices": True}, "it sets ProvisionsAllDevices (an in-house profile)"),
    ],
    ids=["development", "debuggable", "in-house"],
)
def test_a_profile_that_is_not_for_the_app_store_is_refused(
    signed: Signed, tmp_path: Path, changes: dict, reason: str
) -> None:
    profile = mobileprovision(changed_plist(signed.issued_profile_plist(), **changes))
    what = refusal(ipa(tmp_path, signed, profile), signed)
    assert f"is not an App Store profile: {reason}" in what
