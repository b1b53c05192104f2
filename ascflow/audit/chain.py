"""The chain: canonical JSON lines, each holding the SHA-256 of the line before it.

hash = SHA-256(DOMAIN || canonical(record without `hash`)), where the record carries `prev_hash`, the hash of
the previous line (GENESIS for the first). The known-answer test in tests/audit pins this format.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ascflow.audit.events import AuditEvent, AuditRecord

DOMAIN = b"ascflow-audit-v1\x00"
GENESIS = "0" * 64


def canonical(obj: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same bytes for the same record on every machine."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(body: dict[str, Any]) -> str:
    """The hash of a record given everything but its `hash` field."""
    return hashlib.sha256(DOMAIN + canonical(body)).hexdigest()


def seal(event: AuditEvent, *, seq: int, prev_hash: str, time: str) -> tuple[AuditRecord, bytes]:
    """The record for `event` at position `seq`, and its line (canonical JSON, newline-terminated)."""
    body = event.model_dump(mode="json", exclude_none=True)
    body.update(v=1, seq=seq, time=time, prev_hash=prev_hash)
    body["hash"] = record_hash(body)
    return AuditRecord.model_validate(body), canonical(body) + b"\n"


def line_of(record: AuditRecord) -> bytes:
    """The canonical line of a parsed record; a stored line that differs from it was altered."""
    return canonical(record.model_dump(mode="json", exclude_none=True)) + b"\n"


def recompute(record: AuditRecord) -> str:
    body = record.model_dump(mode="json", exclude_none=True)
    del body["hash"]
    return record_hash(body)
