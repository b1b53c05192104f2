"""Signed checkpoints: (size, head hash) of the log at a moment, chained to the previous checkpoint.

A chain alone cannot show that its tail was cut or that it was rewritten end to end; a checkpoint signed with
a key kept outside the log can (CloudTrail's signed digests follow the same idea).
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ascflow.audit.chain import canonical
from ascflow.audit.events import Sha256Hex, Timestamp
from ascflow.audit.signing import ServiceKey, ServicePublicKey

DOMAIN = b"ascflow-audit-checkpoint-v1\x00"

CheckpointReason = Literal["interval", "run-end", "schedule", "manual"]


class Checkpoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1
    n: int = Field(ge=1, description="Checkpoint number, 1, 2, 3, ...")
    size: int = Field(ge=0, description="How many events the log held: the seq of the last one.")
    head: Sha256Hex = Field(description="The hash of event `size` (the genesis hash when size is 0).")
    time: Timestamp
    reason: CheckpointReason
    prev: Sha256Hex = Field(description="SHA-256 of the previous checkpoint's line (genesis for the first).")
    key: Sha256Hex = Field(description="Fingerprint of the signing key.")
    sig: str = Field(pattern=r"^[A-Za-z0-9+/]{86}==$", description="Ed25519 signature, base64.")

    def signed_bytes(self) -> bytes:
        return DOMAIN + canonical(self.model_dump(mode="json", exclude={"sig"}))

    def line(self) -> bytes:
        return canonical(self.model_dump(mode="json")) + b"\n"

    def line_hash(self) -> str:
        """What the next checkpoint's `prev` holds: SHA-256 of this line without its newline."""
        return hashlib.sha256(canonical(self.model_dump(mode="json"))).hexdigest()

    def signature_valid(self, public: ServicePublicKey) -> bool:
        return self.key == public.fingerprint and public.verify(self.signed_bytes(), self.sig)


def sign_checkpoint(
    key: ServiceKey, *, n: int, size: int, head: str, time: str, reason: CheckpointReason, prev: str
) -> Checkpoint:
    unsigned = Checkpoint.model_construct(
        n=n, size=size, head=head, time=time, reason=reason, prev=prev, key=key.fingerprint, sig=""
    )
    return Checkpoint.model_validate({**unsigned.model_dump(), "sig": key.sign(unsigned.signed_bytes())})
