"""Check an .ipa before a byte is sent to Apple: the app it holds is the one requested, signed for the App Store.

An .ipa is a zip with exactly one `Payload/<name>.app`. Its `Info.plist` (XML or binary) must carry the
request's bundle ID, version and build number; its `embedded.mobileprovision` (the signed profile Xcode embeds)
must belong to the customer's team, name the same app ID, be an App Store profile and not be expired. Each
refusal names the value found and the value expected. Nothing is extracted: members are read in memory, with
a size limit, so a hostile archive can neither write files nor exhaust memory.
"""

from __future__ import annotations

import plistlib
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

from ascflow.signing.errors import IpaRefused, ProfileUnreadable
from ascflow.signing.mobileprovision import ProvisioningProfile, read_profile

# Info.plist and the profile are kilobytes; anything this large is not what it claims to be.
MAX_MEMBER_BYTES = 4 * 1024 * 1024
_EXPORT = (
    "Archive the app and export it for App Store Connect with the exported ExportOptions.plist "
    "(`xcodebuild -exportArchive`), then hand over the .ipa it writes."
)
_RESIGN = (
    "Sign the build with the profile `ascflow signing export` wrote for this app, then hand it over again."
)


@dataclass(frozen=True)
class IpaFacts:
    """What the .ipa says, once it has passed every check."""

    app: str
    bundle_id: str
    version: str
    build_number: str
    team_id: str
    profile_name: str
    profile_uuid: str
    profile_expires_at: datetime


def check_ipa(
    path: Path | str, bundle_id: str, version: str, build_number: str, team_id: str, now: datetime
) -> IpaFacts:
    """The .ipa's facts, or IpaRefused naming what differs from the request and what to do.

    `team_id` is the customer's Apple team ID (the kept profile's `team_id`); `now` is an aware datetime.
    """
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        raise IpaRefused(
            f"{path} is not a readable zip archive (an .ipa is one).", next_step=_EXPORT
        ) from None
    with archive:
        app = _the_app(archive, path.name)
        info = _plist(archive, f"{app}/Info.plist")
        for key, expected, field in (
            ("CFBundleIdentifier", bundle_id, "bundle ID"),
            ("CFBundleShortVersionString", version, "version"),
            ("CFBundleVersion", build_number, "build number"),
        ):
            _expect(info, key, expected, field, app)
        profile = _profile(archive, f"{app}/embedded.mobileprovision")
    _check_profile(profile, bundle_id, team_id, now)
    return IpaFacts(
        app=app,
        bundle_id=bundle_id,
        version=version,
        build_number=build_number,
        team_id=profile.team_id,
        profile_name=profile.name,
        profile_uuid=profile.uuid,
        profile_expires_at=profile.expires_at,
    )


def _the_app(archive: zipfile.ZipFile, name: str) -> str:
    apps = sorted(
        {
            f"Payload/{parts[1]}"
            for parts in (member.split("/") for member in archive.namelist())
            if len(parts) > 2 and parts[0] == "Payload" and parts[1].endswith(".app")
        }
    )
    if not apps:
        raise IpaRefused(f"{name} holds no Payload/*.app: it is not an iOS app archive.", next_step=_EXPORT)
    if len(apps) > 1:
        raise IpaRefused(
            f"{name} holds {len(apps)} apps ({', '.join(apps)}); an .ipa holds exactly one Payload/*.app.",
            next_step=_EXPORT,
        )
    return apps[0]


def _member(archive: zipfile.ZipFile, member: str) -> bytes:
    try:
        entry = archive.getinfo(member)
    except KeyError:
        raise IpaRefused(f"{member} is missing from the .ipa.", next_step=_EXPORT) from None
    if entry.file_size > MAX_MEMBER_BYTES:
        raise IpaRefused(
            f"{member} is {entry.file_size} bytes; at most {MAX_MEMBER_BYTES} are expected.",
            next_step=_EXPORT,
        )
    try:
        return archive.read(entry)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError):
        # A bad CRC, an encrypted member or an unknown compression method.
        raise IpaRefused(f"{member} cannot be read from the .ipa.", next_step=_EXPORT) from None


def _plist(archive: zipfile.ZipFile, member: str) -> dict[str, Any]:
    try:
        values = plistlib.loads(_member(archive, member))
    except (plistlib.InvalidFileException, ExpatError, ValueError, TypeError, OverflowError):
        raise IpaRefused(f"{member} is not a property list (XML or binary).", next_step=_EXPORT) from None
    if not isinstance(values, dict):
        raise IpaRefused(f"{member} is not a dictionary.", next_step=_EXPORT)
    return values


def _expect(info: dict[str, Any], key: str, expected: str, field: str, app: str) -> None:
    found = info.get(key)
    if found == expected:
        return
    where = f"{app}/Info.plist"
    what = f"{where} has no {key}" if found is None else f"{key} is {found!r} in {where}"
    raise IpaRefused(
        f"{what}, but the request's {field} is {expected!r}.",
        next_step=f"Build the app with {key} {expected!r}, or correct the request's {field}.",
    )


def _profile(archive: zipfile.ZipFile, member: str) -> ProvisioningProfile:
    data = _member(archive, member)
    try:
        return read_profile(data)
    except ProfileUnreadable as exc:
        raise IpaRefused(f"{member}: {exc.what}", next_step=_RESIGN) from None


def _check_profile(profile: ProvisioningProfile, bundle_id: str, team_id: str, now: datetime) -> None:
    named = f"The embedded profile {profile.name!r}"
    if profile.team_id != team_id:
        raise IpaRefused(
            f"{named} belongs to team {profile.team_id}, but the customer's team is {team_id}.",
            next_step=_RESIGN,
        )
    app_id = f"{team_id}.{bundle_id}"
    if profile.application_identifier != app_id:
        raise IpaRefused(
            f"{named} is for app ID {profile.application_identifier!r}, but this app's ID is {app_id!r}.",
            next_step=_RESIGN,
        )
    reason = profile.not_app_store_because
    if reason is not None:
        raise IpaRefused(
            f"{named} is not an App Store profile: {reason}; an App Store upload needs one.",
            next_step=_RESIGN,
        )
    if profile.expires_at <= now:
        raise IpaRefused(
            f"{named} expired at {profile.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC; it is now "
            f"{now.astimezone(UTC):%Y-%m-%d %H:%M} UTC.",
            next_step="Run the onboarding's signing step (it makes a new profile), export, sign and build again.",
        )
