"""Reading an uploaded .ipa as App Store Connect's processing does.

The archive is a zip holding one `Payload/<name>.app/`; its `Info.plist` (XML or binary) names the bundle ID, the
version (`CFBundleShortVersionString`) and the build number (`CFBundleVersion`) the build gets. What Apple
refuses comes back as `StateDetail`s (`{code, description}`, the spec's `BuildUpload.state.errors`), worded as
Apple's validation words it: ITMS-90167, 90036, 90056, 90057 and 90055 are recorded Transporter/altool texts;
the code format `STATE_ERROR.VALIDATION_ERROR.<number>` is the one altool shows for Apple's asset validation
(GUESS that buildUploads carries the same); a package with several apps is a GUESS (no Apple text found).
"""

from __future__ import annotations

import io
import plistlib
import re
import zipfile
from dataclasses import dataclass
from xml.parsers.expat import ExpatError

# An Info.plist is a few KB; reading more than this from one zip entry is not worth it (a zip bomb is not).
INFO_PLIST_LIMIT = 1024 * 1024
APP_BUNDLE = re.compile(r"^Payload/([^/]+\.app)/")
KEY_DOCS = "https://developer.apple.com/documentation/bundleresources/information_property_list/"
# The key Apple names in a missing-key error, and the ITMS number it gives it (None: not recorded).
REQUIRED_KEYS = {"CFBundleIdentifier": None, "CFBundleShortVersionString": 90057, "CFBundleVersion": 90056}


@dataclass(frozen=True)
class Problem:
    """One of Apple's validation errors for an upload."""

    number: int | None
    description: str

    def as_state_detail(self) -> dict[str, str]:
        suffix = f".{self.number}" if self.number is not None else ""
        return {"code": f"STATE_ERROR.VALIDATION_ERROR{suffix}", "description": self.description}


class IpaRejected(Exception):
    """The archive cannot be processed; `problem` says why, as Apple says it."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.description)
        self.problem = problem


@dataclass(frozen=True)
class BundleInfo:
    """What the app's Info.plist says."""

    bundle_path: str  # Payload/<name>.app
    bundle_id: str
    short_version: str
    build_number: str
    # ITSAppUsesNonExemptEncryption: Apple pre-fills the build's export compliance answer from it.
    uses_non_exempt_encryption: bool | None
    minimum_os_version: str | None


def read_ipa(content: bytes) -> BundleInfo:
    """The app's Info.plist facts, or IpaRejected with Apple's error."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        # GUESS: a file that is not a zip at all ends as an archive without an app does.
        raise IpaRejected(Problem(90167, "No .app bundles found in the package")) from None
    with archive:
        apps = sorted({m.group(1) for name in archive.namelist() if (m := APP_BUNDLE.match(name))})
        if not apps:
            raise IpaRejected(Problem(90167, "No .app bundles found in the package"))
        if len(apps) > 1:
            raise IpaRejected(
                Problem(
                    None,
                    f"The package holds {len(apps)} .app bundles in Payload ({', '.join(apps)}); "
                    "an .ipa holds exactly one app.",
                )
            )
        bundle_path = f"Payload/{apps[0]}"
        info = _info_plist(archive, bundle_path)
    values: dict[str, str] = {}
    for key, number in REQUIRED_KEYS.items():
        value = info.get(key)
        if not isinstance(value, str) or not value.strip():  # Apple reports an empty value as missing
            raise IpaRejected(
                Problem(
                    number,
                    f"The bundle '{bundle_path}' is missing plist key. The Info.plist file is missing the "
                    f"required key: {key}. Please find more information about {key} at "
                    f"{KEY_DOCS}{key.lower()}",
                )
            )
        values[key] = value.strip()
    encryption = info.get("ITSAppUsesNonExemptEncryption")
    minimum_os = info.get("MinimumOSVersion")
    return BundleInfo(
        bundle_path=bundle_path,
        bundle_id=values["CFBundleIdentifier"],
        short_version=values["CFBundleShortVersionString"],
        build_number=values["CFBundleVersion"],
        uses_non_exempt_encryption=encryption if isinstance(encryption, bool) else None,
        minimum_os_version=minimum_os if isinstance(minimum_os, str) else None,
    )


def bundle_id_problem(info: BundleInfo, app_bundle_id: str) -> Problem | None:
    """Apple's error when the Info.plist names another bundle ID than the app record's."""
    if info.bundle_id == app_bundle_id:
        return None
    return Problem(
        90055,
        f"This bundle is invalid. The bundle identifier cannot be changed from the current value, "
        f"'{app_bundle_id}'. If you want to change your bundle identifier, you will need to create a new "
        "application in App Store Connect.",
    )


def _info_plist(archive: zipfile.ZipFile, bundle_path: str) -> dict[str, object]:
    unreadable = IpaRejected(
        Problem(
            90036,
            f"This bundle is invalid - The Info.plist file for /{bundle_path} is missing or could not be read.",
        )
    )
    name = f"{bundle_path}/Info.plist"
    try:
        with archive.open(name) as entry:
            raw = entry.read(INFO_PLIST_LIMIT + 1)
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError):  # RuntimeError: an encrypted entry
        raise unreadable from None
    if len(raw) > INFO_PLIST_LIMIT:
        raise unreadable
    try:
        info = plistlib.loads(raw)  # XML or binary, as the bytes say
    except (plistlib.InvalidFileException, ExpatError, ValueError, TypeError, OverflowError):
        raise unreadable from None
    if not isinstance(info, dict):
        raise unreadable
    return info
