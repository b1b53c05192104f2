"""Deletion receipts: what custody destroyed, where, when, and the audit log position; signed Ed25519.

The receipt is what the customer keeps. Its audit position (seq, hash) anchors the log: a later rewrite or cut
of the log that drops the deletion event no longer matches a receipt the customer holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ascflow.audit.signing import ServiceKey, ServicePublicKey
from ascflow.custody.envelope import canonical
from ascflow.custody.records import RecordInfo, RecordKind

REVOKE = {
    "api_key": (
        "We destroyed every copy of this key that we held. Revoke the key now in App Store Connect "
        "(Users and Access > Integrations > App Store Connect API, select the key, Revoke): Apple offers "
        "no API for this, and once revoked no copy of the key anywhere can be used."
    ),
    "signing_identity": (
        "We destroyed our copy of this certificate's private key. The certificate stays valid in your "
        "account; revoke it in Certificates, Identifiers & Profiles if you no longer use it."
    ),
}


class DeletionReceipt(BaseModel):
    """Proof, signed by the service, that a custody record was destroyed and nothing of it was left."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1] = 1
    custody_id: str
    kind: RecordKind
    tenant: str
    key_id: str = Field(description="Apple's key ID (or the certificate ID for a signing identity).")
    key_fingerprint: str = Field(description="SHA-256 (hex) of the public key's SubjectPublicKeyInfo DER.")
    removed: list[str] = Field(
        description="Every copy removed: file paths, or S3 object versions and markers."
    )
    verified_absent: Literal[True] = True
    destroyed_at: datetime
    audit_seq: int
    audit_hash: str
    next_step: str
    signer: str = Field(description="SHA-256 fingerprint of the service's Ed25519 receipt key.")
    signature: str = ""

    def signed_bytes(self) -> bytes:
        return canonical(self.model_dump(mode="json", exclude={"signature"}))

    def verify(self, public_key: ServicePublicKey | str | bytes) -> bool:
        """True when the receipt is unaltered and was signed by `public_key` (the object or its PEM)."""
        key = (
            public_key if isinstance(public_key, ServicePublicKey) else ServicePublicKey.from_pem(public_key)
        )
        return key.fingerprint == self.signer and key.verify(self.signed_bytes(), self.signature)


def issue(
    header: RecordInfo,
    removed: list[str],
    *,
    destroyed_at: datetime,
    audit_seq: int,
    audit_hash: str,
    key: ServiceKey,
) -> DeletionReceipt:
    unsigned = DeletionReceipt(
        custody_id=header.id,
        kind=header.kind,
        tenant=header.tenant,
        key_id=header.key_id,
        key_fingerprint=header.fingerprint,
        removed=sorted(set(removed)),
        destroyed_at=destroyed_at,
        audit_seq=audit_seq,
        audit_hash=audit_hash,
        next_step=REVOKE[header.kind],
        signer=key.fingerprint,
    )
    return unsigned.model_copy(update={"signature": key.sign(unsigned.signed_bytes())})
