"""Destroying the customer's key: the last step of every run, and the cleanup sweep's job."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from ascflow.connect.tokens import forget_tokens
from ascflow.custody import DeletionReceipt
from ascflow.pipeline.context import StepContext


class ReceiptSummary(BaseModel):
    """What the run summary shows of a deletion receipt (the receipt itself stays in custody, signed)."""

    custody_id: str
    key_id: str
    key_fingerprint: str
    destroyed_at: datetime
    removed: int
    audit_seq: int
    audit_hash: str
    next_step: str

    @classmethod
    def of(cls, receipt: DeletionReceipt) -> ReceiptSummary:
        return cls(
            custody_id=receipt.custody_id,
            key_id=receipt.key_id,
            key_fingerprint=receipt.key_fingerprint,
            destroyed_at=receipt.destroyed_at,
            removed=len(receipt.removed),
            audit_seq=receipt.audit_seq,
            audit_hash=receipt.audit_hash,
            next_step=receipt.next_step,
        )


class KeptKey(BaseModel):
    """The customer's key kept in custody on purpose after a run that succeeded: why, until when, and the one
    command that uses it (and then destroys it)."""

    custody_id: str
    key_id: str
    expires_at: datetime
    why: str
    command: str
    destroyed_when: str


def keep_credentials(
    ctx: StepContext, custody_id: str, *, why: str, command: str, destroyed_when: str
) -> KeptKey:
    """Read the record's public header (never the key) for its key ID and expiry."""
    header = next((info for info in ctx.custody.list() if info.id == custody_id), None)
    if header is None:
        raise LookupError(f"custody record {custody_id} is not live: nothing can be kept")
    return KeptKey(
        custody_id=custody_id,
        key_id=header.key_id,
        expires_at=header.expires_at,
        why=why,
        command=command,
        destroyed_when=destroyed_when,
    )


def destroy_credentials(ctx: StepContext, custody_id: str) -> ReceiptSummary:
    receipt = ctx.custody.destroy(custody_id, actor=ctx.actor)
    forget_tokens(receipt.key_id)
    return ReceiptSummary.of(receipt)


def destroy_expired(ctx: StepContext) -> list[ReceiptSummary]:
    return [ReceiptSummary.of(receipt) for receipt in ctx.custody.purge_expired(actor=ctx.actor)]
