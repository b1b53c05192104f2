"""Custody's errors: closed codes with fixed text. Nothing from the input, nor any secret, is formatted in."""

from __future__ import annotations

from typing import ClassVar

from ascflow.custody.ids import is_custody_id


class CustodyError(Exception):
    code: ClassVar[str] = "custody_error"
    message: ClassVar[str] = "The custody operation failed."
    next_step: ClassVar[str] = "Retry; if it fails again, check the custody store and the audit log."

    def __init__(self, custody_id: str | None = None) -> None:
        # Only IDs shaped like the ones we mint are shown; anything else came from outside and is not echoed.
        self.custody_id = custody_id if is_custody_id(custody_id) else None
        subject = f" (custody {self.custody_id})" if self.custody_id else ""
        super().__init__(f"{self.code}: {self.message}{subject} Next step: {self.next_step}")


class UnknownRecord(CustodyError):
    code = "custody_unknown"
    message = "No custody record has this ID."
    next_step = "Check the ID with `ascflow custody list`; the customer may need to upload the key again."


class RecordExpired(CustodyError):
    code = "custody_expired"
    message = "The custody record has expired; it was not decrypted and is scheduled for destruction."
    next_step = (
        "Ask the customer to upload a fresh key; `ascflow custody purge-expired` destroys the old one."
    )


class RecordDestroyed(CustodyError):
    code = "custody_destroyed"
    message = "The custody record was destroyed, or its destruction has begun."
    next_step = "Ask the customer to upload a fresh key if the work is not finished."


class RecordTampered(CustodyError):
    code = "custody_tampered"
    message = "The custody record failed authentication: it was altered, moved, or sealed under another key."
    next_step = "Do not use it: destroy it, ask for a fresh upload, and inspect the store and the audit log."


class KeyUnreadable(CustodyError):
    code = "custody_key_unreadable"
    message = "The private key is not a PEM-encoded, unencrypted EC or RSA private key."
    next_step = "Upload the original .p8 file exactly as downloaded from App Store Connect."


class DeletionNotProven(CustodyError):
    code = "custody_deletion_unproven"
    message = "Copies of the record were still present after deletion; no receipt was issued."
    next_step = (
        "Run `ascflow custody destroy` again; if copies persist, check bucket Object Lock and permissions."
    )


class AuditUnavailable(CustodyError):
    code = "custody_audit_unavailable"
    message = "The audit log could not record the action, so the action is not reported done."
    next_step = "Restore the audit log (disk, permissions, bucket) and retry; the retry is safe."


class KekUnusable(CustodyError):
    code = "custody_kek_unusable"
    message = "The local key-encryption key file is readable by other users, or is not a 32-byte key."
    next_step = "Run `chmod 600` on <data_dir>/keys/custody-kek.bin, or restore it from backup, then retry."


class CustodyConfigError(CustodyError):
    code = "custody_config"
    message = "The custody settings are incomplete."
    next_step = "Set ASCFLOW_CUSTODY_BUCKET for the s3 backend and ASCFLOW_KMS_KEY_ID for the kms KEK."
