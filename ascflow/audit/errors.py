"""Typed audit errors: each says what failed and what the operator does next, never what was being logged."""

from __future__ import annotations


class AuditError(Exception):
    code = "AUDIT_ERROR"
    next_step = "run `ascflow audit verify` and read its report"

    def __init__(self, message: str) -> None:
        super().__init__(f"{message}. Next step: {self.next_step}")
        self.message = message


class AuditWriteFailed(AuditError):
    """The event is not durably in the log, so the action it records must not be reported done."""

    code = "AUDIT_WRITE_FAILED"
    next_step = (
        "make the audit store writable (disk space, permissions, bucket access), then retry the action; "
        "it was not reported done"
    )


class AuditConfigError(AuditError):
    code = "AUDIT_CONFIG"
    next_step = "set the ASCFLOW_AUDIT_* settings named in the message"
