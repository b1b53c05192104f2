"""Encrypted custody of customer credentials, with expiry and proven deletion (see README.md here)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from ascflow.audit.events import Actor
from ascflow.audit.log import AuditLog
from ascflow.custody.envelope import KeyEncryptionKey
from ascflow.custody.errors import (
    AuditUnavailable,
    CustodyConfigError,
    CustodyError,
    DeletionNotProven,
    KekUnusable,
    KeyUnreadable,
    RecordDestroyed,
    RecordExpired,
    RecordTampered,
    UnknownRecord,
)
from ascflow.custody.kek import LocalKek
from ascflow.custody.receipts import DeletionReceipt
from ascflow.custody.records import Credentials, CustodyInput, RecordInfo, SigningIdentity
from ascflow.custody.service import Custody
from ascflow.custody.stores import LocalStore, Store

if TYPE_CHECKING:
    from ascflow.settings import Settings

KEK_FILE = "custody-kek.bin"


def _aws_client(settings: Settings, service: str) -> object:
    import boto3  # the `aws` extra: only the S3 and KMS backends need it
    from botocore.config import Config

    from ascflow.custody.sweep import WORKERS

    return boto3.client(
        service,
        endpoint_url=settings.aws_endpoint_url,
        region_name=settings.aws_region,
        config=Config(max_pool_connections=WORKERS),  # one connection per sweep thread
    )


def open_custody(settings: Settings, *, audit: AuditLog) -> Custody:
    """The custody the settings describe. Deletion receipts are signed with the audit log's service key."""
    store: Store
    if settings.custody_backend == "s3":
        if not settings.custody_bucket:
            raise CustodyConfigError()
        from ascflow.custody.aws import S3Store

        store = S3Store(_aws_client(settings, "s3"), settings.custody_bucket, kms_key_id=settings.kms_key_id)
    else:
        store = LocalStore(settings.custody_dir)
    kek: KeyEncryptionKey
    if settings.custody_kek == "kms":
        if not settings.kms_key_id:
            raise CustodyConfigError()
        from ascflow.custody.aws import KmsKek

        kek = KmsKek(_aws_client(settings, "kms"), settings.kms_key_id)
    else:
        kek = LocalKek(settings.keys_dir / KEK_FILE)
    return Custody(
        store=store,
        kek=kek,
        audit=audit,
        receipt_key=audit.key,
        ttl=timedelta(hours=settings.custody_ttl_hours),
    )


__all__ = [
    "Actor",
    "AuditUnavailable",
    "Credentials",
    "Custody",
    "CustodyConfigError",
    "CustodyError",
    "CustodyInput",
    "DeletionNotProven",
    "DeletionReceipt",
    "KekUnusable",
    "KeyUnreadable",
    "RecordDestroyed",
    "RecordExpired",
    "RecordInfo",
    "RecordTampered",
    "SigningIdentity",
    "UnknownRecord",
    "open_custody",
]
