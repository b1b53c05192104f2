"""Append-only, hash-chained audit trail with signed checkpoints; local directory or S3 with Object Lock."""

from ascflow.audit.backends import AuditBackend, AuditPosition, LocalBackend, S3Backend
from ascflow.audit.checkpoint import Checkpoint
from ascflow.audit.errors import AuditConfigError, AuditError, AuditWriteFailed
from ascflow.audit.events import Action, Actor, AuditEvent, AuditRecord, Target
from ascflow.audit.log import AuditLog, CursorLost, LogCursor, open_audit_log
from ascflow.audit.signing import ServiceKey, ServicePublicKey

__all__ = [
    "Action",
    "Actor",
    "AuditBackend",
    "AuditConfigError",
    "AuditError",
    "AuditEvent",
    "AuditLog",
    "AuditPosition",
    "AuditRecord",
    "AuditWriteFailed",
    "Checkpoint",
    "CursorLost",
    "LocalBackend",
    "LogCursor",
    "S3Backend",
    "ServiceKey",
    "ServicePublicKey",
    "Target",
    "open_audit_log",
]
