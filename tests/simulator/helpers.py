"""Request bodies and CSRs for the simulator's tests, written by hand from Apple's spec."""

from __future__ import annotations

import base64
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def make_csr(*, der_base64: bool = False, key: Any = None) -> tuple[str, Any]:
    """A CSR as clients send it (PEM, or bare base64 DER) and the private key that signed it."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ascflow test")]))
        .sign(key, hashes.SHA256())
    )
    if der_base64:
        return base64.b64encode(csr.public_bytes(serialization.Encoding.DER)).decode(), key
    return csr.public_bytes(serialization.Encoding.PEM).decode(), key


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def body(
    type_: str, attributes: dict[str, Any] | None = None, id_: str | None = None, **relationships: Any
) -> dict:
    data: dict[str, Any] = {"type": type_}
    if id_ is not None:
        data["id"] = id_
    if attributes is not None:
        data["attributes"] = attributes
    if relationships:
        data["relationships"] = {
            name: {
                "data": [{"type": t, "id": i} for t, i in ref]
                if isinstance(ref, list)
                else {"type": ref[0], "id": ref[1]}
            }
            for name, ref in relationships.items()
        }
    return {"data": data}
