"""Export a tenant's signing identity for one app to a build machine, on purpose and on the record.

Reads what the pipeline's signing step kept (the App Store profile for the bundle ID, and in custody the
distribution certificate's .p12 with its password), writes the bundle, then records a
`signing.identity_exported` audit event: who, which identity (custody ID, certificate ID, key fingerprint),
and where. Not recorded means not done: when the audit log cannot be written, what was written is removed.
The password is in the bundle's password file only, never in the event, the result, or an error.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ascflow.audit.errors import AuditError
from ascflow.audit.events import Action, Actor, AuditEvent, Target
from ascflow.custody import Custody, CustodyError, RecordDestroyed, RecordExpired, RecordInfo
from ascflow.settings import Settings
from ascflow.signing.bundle import SigningBundle, signing_bundle
from ascflow.signing.destinations import (
    S3Location,
    S3Object,
    put_s3_object,
    remove_written,
    write_private_dir,
    zip_bundle,
)
from ascflow.signing.errors import ExportRefused
from ascflow.signing.profiles import kept_profile

DEFAULT_URL_LIFETIME = timedelta(minutes=15)
MAX_URL_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True)
class Exported:
    """What was exported and where: no secret (the S3 URL is a short-lived capability to the object)."""

    tenant: str
    bundle_id: str
    custody_id: str
    certificate_id: str
    profile_name: str
    team_id: str
    files: tuple[str, ...]
    destination: str
    audit_seq: int


@dataclass(frozen=True)
class ExportedToS3(Exported):
    s3: S3Object


def export_to_directory(
    custody: Custody, *, tenant: str, bundle_id: str, out: Path, actor: Actor
) -> Exported:
    directory = Path(os.path.abspath(out))
    record, bundle = _bundle(custody, tenant, bundle_id, actor)
    event = _event(record, actor, f"dir:{directory}")
    write_private_dir(directory, bundle.files)
    try:
        seq = _append(custody, event)
    except ExportRefused:
        remove_written(directory, bundle.files)
        raise
    return _exported(tenant, bundle_id, record, bundle, event, seq)


def export_to_s3(
    custody: Custody,
    settings: Settings,
    *,
    tenant: str,
    bundle_id: str,
    to: str,
    actor: Actor,
    url_lifetime: timedelta = DEFAULT_URL_LIFETIME,
) -> ExportedToS3:
    """The bundle as one zip in S3, SSE-KMS (the custody KMS key when set), and a presigned GET URL."""
    if settings.custody_backend != "s3":
        raise ExportRefused(
            "Export to S3 needs the S3 backend (ASCFLOW_CUSTODY_BACKEND=s3); this service keeps custody locally.",
            next_step="Export to a directory with --out DIR on a machine that runs ascflow.",
        )
    if not timedelta(seconds=1) <= url_lifetime <= MAX_URL_LIFETIME:
        raise ExportRefused(
            f"The URL lifetime {url_lifetime} is outside 1 second to {MAX_URL_LIFETIME}.",
            next_step="Ask for a short-lived URL, e.g. 15 minutes, and fetch the bundle within it.",
        )
    from botocore.exceptions import BotoCoreError, ClientError  # the `aws` extra

    location = S3Location.parse(to)
    record, bundle = _bundle(custody, tenant, bundle_id, actor)
    export_id = uuid.uuid4().hex
    key = location.key(tenant, bundle_id, f"signing-{export_id}.zip")
    event = _event(record, actor, f"s3://{location.bucket}/{key}")
    s3 = _s3_client(settings)
    try:
        stored = put_s3_object(
            s3,
            bucket=location.bucket,
            key=key,
            data=zip_bundle(bundle.files, f"signing-{bundle_id}"),
            kms_key_id=settings.kms_key_id,
            url_lifetime=url_lifetime,
            now=datetime.now(UTC),
        )
    except (BotoCoreError, ClientError) as exc:  # the bucket, the key policy or the network
        reason = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None
        raise ExportRefused(
            f"Could not write s3://{location.bucket}/{key}: {reason or type(exc).__name__}.",
            next_step="Check that the bucket exists and that ascflow may write to it with the KMS key.",
        ) from None
    try:
        seq = _append(custody, event)
    except ExportRefused:
        s3.delete_object(Bucket=stored.bucket, Key=stored.key)
        raise
    return ExportedToS3(**vars(_exported(tenant, bundle_id, record, bundle, event, seq)), s3=stored)


def _bundle(custody: Custody, tenant: str, bundle_id: str, actor: Actor) -> tuple[RecordInfo, SigningBundle]:
    profile = kept_profile(custody.store, tenant, bundle_id)
    record = next(
        (
            r
            for r in custody.list()
            if r.kind == "signing_identity" and r.tenant == tenant and r.key_id == profile.certificate_id
        ),
        None,
    )
    if record is None:
        raise ExportRefused(
            f"Custody holds no signing identity for certificate {profile.certificate_id} of tenant {tenant!r} "
            f"(profile {profile.name!r}): it was destroyed or never kept.",
            next_step="Run the onboarding's signing step again: it makes a certificate and keeps its key.",
        )
    try:
        identity = custody.open_signing_identity(record.id, actor=actor)
    except (RecordExpired, RecordDestroyed) as exc:
        raise ExportRefused(
            f"The signing identity {record.id} cannot be opened: {exc.message}",
            next_step="Run the onboarding's signing step again: it makes a new certificate and keeps its key.",
        ) from None
    except CustodyError as exc:
        raise ExportRefused(
            f"The signing identity {record.id} cannot be opened: {exc.message}", next_step=exc.next_step
        ) from None
    return record, signing_bundle(identity, profile)


def _event(record: RecordInfo, actor: Actor, destination: str) -> AuditEvent:
    """The export's audit event, built before anything is written: a destination it cannot hold is refused."""
    try:
        return AuditEvent(
            actor=actor,
            action=Action.SIGNING_IDENTITY_EXPORTED,
            tenant=record.tenant,
            target=Target(
                custody_id=record.id,
                apple_type="certificates",
                apple_id=record.key_id,
                key_fingerprint=record.fingerprint,
                destination=destination,
            ),
            outcome="success",
        )
    except ValidationError:
        raise ExportRefused(
            f"The destination {destination!r} cannot be recorded in the audit log.",
            next_step=(
                "Use a path of letters, digits and . _ - / (no spaces), with no part of 20 or more mixed-case "
                "characters in a row."
            ),
        ) from None


def _append(custody: Custody, event: AuditEvent) -> int:
    try:
        return custody.audit.append(event).seq
    except (AuditError, OSError):
        raise ExportRefused(
            "The audit log could not record the export, so it was taken back.",
            next_step="Restore the audit log (disk, permissions, bucket) and export again.",
        ) from None


def _exported(
    tenant: str,
    bundle_id: str,
    record: RecordInfo,
    bundle: SigningBundle,
    event: AuditEvent,
    seq: int,
) -> Exported:
    return Exported(
        tenant=tenant,
        bundle_id=bundle_id,
        custody_id=record.id,
        certificate_id=bundle.certificate_id,
        profile_name=bundle.profile_name,
        team_id=bundle.team_id,
        files=tuple(bundle.files),
        destination=event.target.destination or "",
        audit_seq=seq,
    )


def _s3_client(settings: Settings) -> Any:
    import boto3  # the `aws` extra, needed only for the S3 destination
    from botocore.config import Config

    # S3 serves SSE-KMS objects only to SigV4 requests, and presigned URLs default to the older signature.
    return boto3.client(
        "s3",
        endpoint_url=settings.aws_endpoint_url,
        region_name=settings.aws_region,
        config=Config(signature_version="s3v4"),
    )
