"""Signing material made and kept on our side: Apple never sees the private key, only the CSR."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

RSA_KEY_SIZE = 2048


class SigningMaterialError(ValueError):
    """Key or certificate bytes we cannot use; the message never contains the bytes themselves."""


@dataclass(frozen=True)
class SigningRequest:
    """A fresh RSA-2048 private key (PEM PKCS#8, unencrypted: custody encrypts it) and its CSR."""

    private_key_pem: bytes = field(repr=False)
    csr_pem: str


def new_signing_request(common_name: str = "ascflow distribution") -> SigningRequest:
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_SIZE)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return SigningRequest(private_pem, csr.public_bytes(serialization.Encoding.PEM).decode())


def load_rsa_private_key(private_key_pem: bytes) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningMaterialError(
            "private_key_pem: not an unencrypted PEM private key; pass the key made with the certificate"
        ) from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SigningMaterialError(
            "private_key_pem: not an RSA key; Apple distribution certificates use RSA-2048"
        )
    return key


def certificate_from_content(certificate_content: str) -> x509.Certificate:
    """Apple's `certificateContent`: the base64 of the DER `.cer`."""
    try:
        return x509.load_der_x509_certificate(base64.b64decode(certificate_content, validate=True))
    except (ValueError, binascii.Error) as exc:
        raise SigningMaterialError(
            "certificateContent: not base64 DER of an X.509 certificate; Apple's answer cannot be used"
        ) from exc


def _public_key_der(public_key: object) -> bytes:
    if not isinstance(public_key, rsa.RSAPublicKey):
        return b""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_matches_certificate(private_key_pem: bytes, certificate_content: str) -> bool:
    key = load_rsa_private_key(private_key_pem)
    certificate = certificate_from_content(certificate_content)
    return _public_key_der(certificate.public_key()) == _public_key_der(key.public_key())


def export_p12(certificate_content: str, private_key_pem: bytes, password: str, *, name: str) -> bytes:
    """The `.p12` a build machine imports: the certificate and its private key, encrypted with `password`."""
    if not password:
        raise SigningMaterialError("password: empty; a .p12 must be encrypted with a non-empty password")
    key = load_rsa_private_key(private_key_pem)
    certificate = certificate_from_content(certificate_content)
    if _public_key_der(certificate.public_key()) != _public_key_der(key.public_key()):
        raise SigningMaterialError(
            "private_key_pem: does not belong to this certificate; pass the key the certificate was made from"
        )
    return pkcs12.serialize_key_and_certificates(
        name.encode(),
        key,
        certificate,
        None,
        # macOS `security import` (and so Xcode's keychain) rejects the PBES2/AES .p12 files that OpenSSL 3
        # writes by default on the releases build machines still run; the legacy scheme imports everywhere.
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(50_000)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())  # noqa: S303 (the legacy scheme's MAC; the password KDF is the protection)
        .build(password.encode()),
    )
