"""RSA key + CSR made locally, matching a certificate to a held key, and the .p12 export."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from ascflow.connect.signing import (
    SigningMaterialError,
    export_p12,
    key_matches_certificate,
    new_signing_request,
)
from tests.fixtures.keys import BEGIN, END


def issue(csr_pem: str) -> str:
    """What Apple does with the CSR: a certificate for its public key, signed by a CA; base64 DER."""
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Apple Distribution: Test Team")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test WWDR CA")]))
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(ca_key, hashes.SHA256())
    )
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def test_signing_request_is_rsa_2048_with_a_valid_csr_for_that_key() -> None:
    request = new_signing_request("ascflow test")
    key = serialization.load_pem_private_key(request.private_key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048
    csr = x509.load_pem_x509_csr(request.csr_pem.encode())
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "ascflow test"
    assert csr.public_key() == key.public_key()
    assert "PRIVATE" not in repr(request)


def test_each_request_has_its_own_key() -> None:
    assert new_signing_request().private_key_pem != new_signing_request().private_key_pem


def test_a_certificate_matches_only_the_key_it_was_made_for() -> None:
    ours, other = new_signing_request(), new_signing_request()
    content = issue(ours.csr_pem)
    assert key_matches_certificate(ours.private_key_pem, content)
    assert not key_matches_certificate(other.private_key_pem, content)


def test_p12_holds_the_certificate_and_key_and_opens_only_with_the_password() -> None:
    request = new_signing_request()
    content = issue(request.csr_pem)
    p12 = export_p12(content, request.private_key_pem, "correct horse", name="Apple Distribution")
    key, certificate, extra = pkcs12.load_key_and_certificates(p12, b"correct horse")
    assert certificate is not None
    assert certificate.public_bytes(serialization.Encoding.DER) == base64.b64decode(content)
    assert key is not None
    assert key.public_key() == certificate.public_key()
    assert extra == []
    assert b"correct horse" not in p12
    with pytest.raises(ValueError, match="Invalid password"):
        pkcs12.load_key_and_certificates(p12, b"wrong")


def test_p12_refuses_a_key_that_does_not_belong_to_the_certificate() -> None:
    content = issue(new_signing_request().csr_pem)
    with pytest.raises(SigningMaterialError, match="private_key_pem: does not belong"):
        export_p12(content, new_signing_request().private_key_pem, "pw", name="x")


def test_p12_refuses_an_empty_password() -> None:
    request = new_signing_request()
    with pytest.raises(SigningMaterialError, match="password: empty"):
        export_p12(issue(request.csr_pem), request.private_key_pem, "", name="x")


def test_bad_material_is_named_without_echoing_it() -> None:
    request = new_signing_request()
    with pytest.raises(SigningMaterialError, match="certificateContent") as caught:
        key_matches_certificate(request.private_key_pem, "bm90IGEgY2VydA==")
    assert "bm90IGEgY2VydA" not in str(caught.value)
    with pytest.raises(SigningMaterialError, match="private_key_pem: not an unencrypted PEM") as caught_key:
        key_matches_certificate(f"{BEGIN}\nAAAA\n{END}\n".encode(), issue(request.csr_pem))
    assert "AAAA" not in str(caught_key.value)
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(SigningMaterialError, match="not an RSA key"):
        key_matches_certificate(ec_pem, issue(request.csr_pem))
