"""Where custody keeps each blob, and the intent to destroy a record that a rerun finishes after a crash."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from ascflow.custody.records import RecordInfo


class PendingDestruction(BaseModel):
    """The intent to destroy, kept until the receipt is stored: a rerun finishes what a crash interrupted.
    It holds the public header and where the copies were: nothing secret."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    header: RecordInfo
    copies: list[str] = []
    destroyed_at: datetime | None = None
    audit_seq: int | None = None
    audit_hash: str | None = None

    @property
    def audited(self) -> bool:
        return self.audit_seq is not None and self.audit_hash is not None and self.destroyed_at is not None


def record_name(custody_id: str) -> str:
    return f"records/{custody_id}.json"


def pending_name(custody_id: str) -> str:
    return f"pending/{custody_id}.json"


def receipt_name(custody_id: str) -> str:
    return f"receipts/{custody_id}.json"
