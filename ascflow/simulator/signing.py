"""The simulator's certificate authority: real X.509 certificates for CSRs, and profile files naming them."""

from __future__ import annotations

import base64
import hmac
import plistlib
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache
from uuid import uuid4

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID


class CsrError(ValueError):
    """The CSR is not a well-formed, correctly self-signed PKCS#10 request."""


@cache
def authority() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """One CA per process: making a key per server would slow every test's startup."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "Apple Worldwide Developer Relations CA (ascflow simulator)"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "G3"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ascflow simulator"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
    ])  # fmt: skip
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def parse_csr(csr_content: str) -> x509.CertificateSigningRequest:
    """Accept both forms clients send: the PEM text, or the base64 DER body alone."""
    text = csr_content.strip()
    try:
        if text.startswith("-----BEGIN"):
            csr = x509.load_pem_x509_csr(text.encode())
        else:
            csr = x509.load_der_x509_csr(base64.b64decode("".join(text.split()), validate=True))
    except ValueError as exc:
        raise CsrError("csrContent is not a PKCS#10 certificate signing request (PEM or base64 DER)") from exc
    if not csr.is_signature_valid:
        raise CsrError("csrContent has an invalid signature: sign the CSR with the key it names")
    return csr


def issue_certificate(
    public_key: x509.CertificateSigningRequest | ec.EllipticCurvePublicKey,
    common_name: str,
    team_id: str,
    team_name: str,
    not_before: datetime,
) -> x509.Certificate:
    ca_key, ca_cert = authority()
    key = public_key.public_key() if isinstance(public_key, x509.CertificateSigningRequest) else public_key
    subject = x509.Name([
        x509.NameAttribute(NameOID.USER_ID, team_id),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, team_id),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, team_name),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
    ])  # fmt: skip
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CODE_SIGNING]), critical=True)
        .sign(ca_key, hashes.SHA256())
    )


def throwaway_public_key() -> ec.EllipticCurvePublicKey:
    """For certificates a scenario says already exist: someone else holds their private keys."""
    return ec.generate_private_key(ec.SECP256R1()).public_key()


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def profile_content(
    *,
    name: str,
    uuid: str,
    team_id: str,
    team_name: str,
    bundle_identifier: str,
    app_id_name: str,
    certificates_der: list[bytes],
    created: datetime,
    expires: datetime,
    platform: str,
) -> str:
    """A .mobileprovision as Apple serves it in `profileContent`: the profile's plist inside a DER CMS
    SignedData (content attached), signed by the simulator's CA, base64."""
    payload = {
        "AppIDName": app_id_name,
        "ApplicationIdentifierPrefix": [team_id],
        "CreationDate": created,
        "DeveloperCertificates": certificates_der,
        "Entitlements": {
            "application-identifier": f"{team_id}.{bundle_identifier}",
            "com.apple.developer.team-identifier": team_id,
            "get-task-allow": False,
            "keychain-access-groups": [f"{team_id}.*"],
        },
        "ExpirationDate": expires,
        "Name": name,
        "Platform": [platform],
        "TeamIdentifier": [team_id],
        "TeamName": team_name,
        "TimeToLive": (expires - created).days,
        "UUID": uuid,
        "Version": 1,
    }
    key, certificate = authority()
    envelope = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(plistlib.dumps(payload))
        .add_signer(certificate, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
    return base64.b64encode(envelope).decode()


def app_store_profile(team_id: str, bundle_id: str, *, days: int = 365) -> bytes:
    """An App Store profile of the team for the app, as a .mobileprovision file: what a build signed by that
    team embeds (the demo's and the tests' builds carry one; Apple's processing does not read it here)."""
    now = datetime.now(UTC)
    content = profile_content(
        name=f"{bundle_id} AppStore",
        uuid=str(uuid4()).upper(),
        team_id=team_id,
        team_name="Simulated Team",
        bundle_identifier=bundle_id,
        app_id_name=bundle_id,
        certificates_der=[],
        created=now,
        expires=now + timedelta(days=days),
        platform="iOS",
    )
    return base64.b64decode(content)


def upload_signature(secret: bytes, *parts: str) -> str:
    return hmac.new(secret, ":".join(parts).encode(), "sha256").hexdigest()


def new_secret() -> bytes:
    return secrets.token_bytes(32)
