"""What a custody record holds, and which part of it may be shown.

A record has a public header (who, which key, when it expires) and a sealed body (the secrets). The header
is bound into the encryption as associated data, so editing it (say, to extend an expiry) makes the body
unreadable.
Secret-bearing models refuse to be pickled: pickle would write the plaintext behind a `SecretStr`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal, NoReturn

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import BaseModel, ConfigDict, Field, SecretBytes, SecretStr, ValidationError

from ascflow.audit.events import Identifier, Tenant
from ascflow.custody.errors import KeyUnreadable

RecordKind = Literal["api_key", "signing_identity"]
BUNDLE_ID = r"^[A-Za-z0-9][A-Za-z0-9.-]{0,154}$"


class _Sealed(BaseModel):
    """Base of models that carry a secret: masked in repr, hidden in validation errors, never pickled."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            f"{type(self).__name__} holds a secret and cannot be pickled; pass a custody ID instead"
        )

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        self.__reduce__()


class CustodyInput(_Sealed):
    """An App Store Connect API key as the customer hands it over."""

    tenant: Tenant = Field(description="Our customer's ID: lower-case letters, digits, . _ -")
    app_bundle_id: str | None = Field(default=None, pattern=BUNDLE_ID)
    key_id: str = Field(pattern=r"^[A-Z0-9]{1,32}$", description="Apple's key ID, e.g. 2X9R4HXF34.")
    issuer_id: SecretStr = Field(min_length=1, max_length=64)
    p8: SecretStr = Field(min_length=1, max_length=4096, description="The AuthKey_<key ID>.p8 text.")


class SigningIdentityInput(_Sealed):
    """A distribution certificate we created for the customer, with the private key only we hold."""

    tenant: Tenant
    issuer_id: SecretStr = Field(min_length=1, max_length=64)
    certificate_id: Identifier
    private_key_pem: SecretBytes = Field(min_length=1, max_length=16384)
    p12: SecretBytes = Field(min_length=1, max_length=65536)
    p12_password: SecretStr = Field(min_length=1, max_length=256)


class Credentials(_Sealed):
    """What `Custody.open` hands to the code that calls Apple: use it, then drop it."""

    key_id: str
    issuer_id: SecretStr
    p8: SecretStr


class SigningIdentity(_Sealed):
    certificate_id: str
    issuer_id: SecretStr
    private_key_pem: SecretBytes
    p12: SecretBytes
    p12_password: SecretStr


class RecordInfo(BaseModel):
    """The public header of a record: safe to list, log and show."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: RecordKind
    tenant: str
    app_bundle_id: str | None = None
    key_id: str = Field(description="Apple's key ID, or the certificate ID for a signing identity.")
    fingerprint: str = Field(description="SHA-256 (hex) of the public key's SubjectPublicKeyInfo DER.")
    created_at: datetime
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def context(self) -> dict[str, str]:
        """The header as a flat string map: the associated data of the body and the KMS encryption context."""
        context = {
            "v": "1",
            "custody_id": self.id,
            "kind": self.kind,
            "tenant": self.tenant,
            "key_id": self.key_id,
            "fingerprint": self.fingerprint,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
        }
        if self.app_bundle_id is not None:
            context["app_bundle_id"] = self.app_bundle_id
        return context


def public_key_fingerprint(private_pem: bytes) -> str:
    """SHA-256 of the SubjectPublicKeyInfo: names the key without revealing it."""
    try:
        private = serialization.load_pem_private_key(private_pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyUnreadable() from None
    if not isinstance(private, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KeyUnreadable()
    spki = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).hexdigest()


def fields_at_fault(exc: ValidationError) -> str:
    """Which fields were wrong and why, without the input (pydantic would echo it)."""
    problems = [
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
        for error in exc.errors(include_input=False)
    ]
    return "invalid signing identity: " + "; ".join(problems)
