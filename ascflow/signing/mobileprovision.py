"""Reading a provisioning profile: Apple's `.mobileprovision` is a CMS SignedData whose content is a plist.

The CMS layer is decoded with pyasn1's RFC 5652 module (BER, so Apple's indefinite-length encoding reads
too); `cryptography` builds such envelopes but does not read their content. The signature is not checked
here: Apple checks it when the build is uploaded, and what we need before that is what the profile says.
"""

from __future__ import annotations

import plistlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.parsers.expat import ExpatError

# pyasn1 ships no type information.
from pyasn1.codec.ber import decoder  # type: ignore[import-untyped]
from pyasn1.error import PyAsn1Error  # type: ignore[import-untyped]
from pyasn1_modules import rfc5652  # type: ignore[import-untyped]

from ascflow.signing.errors import ProfileUnreadable

_PLIST_STARTS = (b"bplist", b"<?xml", b"<plist")
_NEXT_STEP = (
    "Download the profile again from Certificates, Identifiers & Profiles, or rerun the signing step."
)


@dataclass(frozen=True)
class ProvisioningProfile:
    """What a profile says about the app it signs and the builds it allows."""

    name: str
    uuid: str
    team_id: str
    team_name: str
    application_identifier: str
    expires_at: datetime
    get_task_allow: bool
    provisioned_devices: int
    provisions_all_devices: bool
    developer_certificates: tuple[bytes, ...] = field(repr=False)

    @property
    def bundle_id(self) -> str:
        """The bundle ID part of the app ID `<team ID>.<bundle ID>`."""
        return self.application_identifier.partition(".")[2]

    @property
    def not_app_store_because(self) -> str | None:
        """Why this is not an App Store profile (one lists no devices and lets no debugger attach), or None."""
        if self.provisions_all_devices:
            return "it sets ProvisionsAllDevices (an in-house profile)"
        if self.provisioned_devices:
            return f"it lists {self.provisioned_devices} ProvisionedDevices (a development or ad hoc profile)"
        if self.get_task_allow:
            return "its get-task-allow is true (a development profile)"
        return None

    def names_certificate(self, certificate_der: bytes) -> bool:
        return certificate_der in self.developer_certificates


def signed_content(data: bytes) -> bytes:
    """The content inside a CMS SignedData (DER or BER)."""
    try:
        info, _ = decoder.decode(data, asn1Spec=rfc5652.ContentInfo())
        if info["contentType"] != rfc5652.id_signedData:
            raise ProfileUnreadable(
                f"The profile is a CMS {info['contentType']} envelope, not SignedData.", next_step=_NEXT_STEP
            )
        signed, _ = decoder.decode(info["content"], asn1Spec=rfc5652.SignedData())
        content = signed["encapContentInfo"]["eContent"]
        if not content.hasValue():
            raise ProfileUnreadable("The profile's CMS envelope holds no content.", next_step=_NEXT_STEP)
        return bytes(content)
    except PyAsn1Error:
        raise ProfileUnreadable(
            "The profile is not a CMS signed envelope (the form of a .mobileprovision file).",
            next_step=_NEXT_STEP,
        ) from None


def read_profile(data: bytes) -> ProvisioningProfile:
    """Parse a `.mobileprovision`: the CMS-signed file Apple issues (`profileContent`) and Xcode embeds."""
    if data.lstrip().startswith(_PLIST_STARTS):
        raise ProfileUnreadable(
            "The profile is an unsigned plist; a signed build embeds the CMS-signed .mobileprovision.",
            next_step="Sign the build with the exported .mobileprovision (`ascflow signing export`).",
        )
    payload = signed_content(data)
    try:
        values = plistlib.loads(payload)
    except (plistlib.InvalidFileException, ExpatError, ValueError, TypeError, OverflowError):
        raise ProfileUnreadable(
            "The profile's content is not a property list.", next_step=_NEXT_STEP
        ) from None
    if not isinstance(values, dict):
        raise ProfileUnreadable("The profile's property list is not a dictionary.", next_step=_NEXT_STEP)
    return _profile(values)


def _profile(values: dict[str, Any]) -> ProvisioningProfile:
    entitlements = _typed(values, "Entitlements", dict)
    teams = _typed(values, "TeamIdentifier", list)
    if not teams or not isinstance(teams[0], str):
        raise ProfileUnreadable("The profile's TeamIdentifier is empty.", next_step=_NEXT_STEP)
    expires = _typed(values, "ExpirationDate", datetime)
    certificates = _typed(values, "DeveloperCertificates", list)
    return ProvisioningProfile(
        name=_typed(values, "Name", str),
        uuid=_typed(values, "UUID", str),
        team_id=teams[0],
        team_name=_typed(values, "TeamName", str),
        application_identifier=_typed(entitlements, "application-identifier", str, "Entitlements."),
        # plistlib reads dates as naive UTC.
        expires_at=expires.replace(tzinfo=UTC) if expires.tzinfo is None else expires,
        get_task_allow=bool(entitlements.get("get-task-allow", False)),
        provisioned_devices=len(values.get("ProvisionedDevices") or []),
        provisions_all_devices=bool(values.get("ProvisionsAllDevices", False)),
        developer_certificates=tuple(c for c in certificates if isinstance(c, bytes)),
    )


def _typed(values: dict[str, Any], key: str, kind: type, where: str = "") -> Any:
    value = values.get(key)
    if not isinstance(value, kind):
        raise ProfileUnreadable(f"The profile has no {where}{key} ({kind.__name__}).", next_step=_NEXT_STEP)
    return value
