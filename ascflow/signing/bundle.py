"""The files a build machine signs with: the .p12, its password, the App Store profile, ExportOptions.plist.

Built in memory from what custody keeps; where they go (a private directory, an S3 object) is
`destinations.py`. The .p12 is checked against the profile before anything is handed out: a profile that does
not name the identity's certificate would make Xcode fail much later, on the build machine.
"""

from __future__ import annotations

import plistlib
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ascflow.custody.records import SigningIdentity
from ascflow.signing.errors import ExportRefused
from ascflow.signing.profiles import KeptProfile

P12_FILE = "distribution.p12"
PASSWORD_FILE = "distribution.p12.password"
EXPORT_OPTIONS_FILE = "ExportOptions.plist"
# The name Xcode 15.3+ gives the App Store export method (it replaced "app-store").
EXPORT_METHOD = "app-store-connect"
SIGNING_CERTIFICATE = "Apple Distribution"


def profile_file(bundle_id: str) -> str:
    return f"{bundle_id}.mobileprovision"


def export_options(*, team_id: str, bundle_id: str, profile_name: str) -> bytes:
    """`xcodebuild -exportArchive -exportOptionsPlist` input for a manually signed App Store export."""
    return plistlib.dumps(
        {
            "method": EXPORT_METHOD,
            "teamID": team_id,
            "signingStyle": "manual",
            "signingCertificate": SIGNING_CERTIFICATE,
            "provisioningProfiles": {bundle_id: profile_name},
        }
    )


@dataclass(frozen=True)
class SigningBundle:
    certificate_id: str
    certificate_serial: str
    profile_name: str
    team_id: str
    files: dict[str, bytes] = field(repr=False)


def signing_bundle(identity: SigningIdentity, profile: KeptProfile) -> SigningBundle:
    p12 = identity.p12.get_secret_value()
    password = identity.p12_password.get_secret_value()
    try:
        key, certificate, _ = pkcs12.load_key_and_certificates(p12, password.encode())
    except ValueError:
        key = certificate = None
    if key is None or certificate is None:
        raise ExportRefused(
            f"The .p12 of certificate {identity.certificate_id} in custody holds no certificate and key.",
            next_step="Run the onboarding's signing step again: it keeps the certificate with its key.",
        )
    parsed = profile.parsed()
    if not parsed.names_certificate(certificate.public_bytes(serialization.Encoding.DER)):
        raise ExportRefused(
            f"Profile {profile.name!r} does not name certificate {identity.certificate_id} "
            f"(serial {_serial(certificate)}) that custody holds the key of.",
            next_step="Run the onboarding's signing step again: it makes a profile for this certificate.",
        )
    return SigningBundle(
        certificate_id=identity.certificate_id,
        certificate_serial=_serial(certificate),
        profile_name=profile.name,
        team_id=profile.team_id,
        files={
            P12_FILE: p12,
            PASSWORD_FILE: password.encode(),
            profile_file(profile.bundle_id): profile.file,
            EXPORT_OPTIONS_FILE: export_options(
                team_id=profile.team_id, bundle_id=profile.bundle_id, profile_name=profile.name
            ),
        },
    )


def _serial(certificate: x509.Certificate) -> str:
    return format(certificate.serial_number, "X")
