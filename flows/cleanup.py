"""Destroying credentials: the scheduled sweep of expired records, and an operator's "destroy now"."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_table_artifact

from ascflow.audit import Actor
from ascflow.pipeline.teardown import ReceiptSummary
from tasks.credentials import destroy, destroy_all_expired
from tasks.run import seal_audit_trail

SWEEP = Actor(kind="schedule", id="credential-cleanup")


@flow(name="credential-cleanup")
def cleanup_expired_credentials() -> list[ReceiptSummary]:
    receipts = destroy_all_expired(SWEEP)
    seal_audit_trail()
    if receipts:
        create_table_artifact(
            table=[_row(receipt) for receipt in receipts],
            key="credential-cleanup",
            description=f"{len(receipts)} expired custody record(s) destroyed, each with a signed receipt.",
        )
    return receipts


@flow(name="destroy-credentials")
def destroy_credentials_now(tenant: str, custody_id: str, operator: str = "operator") -> ReceiptSummary:
    """Destroy one custody record at once. Safe to run again: a destroyed record yields its stored receipt."""
    receipt = destroy(tenant, custody_id, Actor(kind="operator", id=operator))
    create_table_artifact(table=[_row(receipt)], key="destroy-credentials", description=receipt.next_step)
    return receipt


def _row(receipt: ReceiptSummary) -> dict[str, str]:
    return {
        "custody ID": receipt.custody_id,
        "key ID": receipt.key_id,
        "destroyed at (UTC)": f"{receipt.destroyed_at:%Y-%m-%d %H:%M:%S}",
        "audit position": str(receipt.audit_seq),
    }
