"""The signing assets an App Store build needs: bundle ID, distribution certificate, App Store profile, .p12."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pydantic import Field, SecretBytes, SecretStr

from ascflow.audit import Action
from ascflow.connect.actions.common import Ensured
from ascflow.connect.actions.profiles import ensure_app_store_profile
from ascflow.connect.actions.signing import (
    CertificateWithKey,
    ensure_bundle_id,
    ensure_distribution_certificate,
    export_p12,
)
from ascflow.connect.client import AppStoreConnect
from ascflow.custody import RecordInfo
from ascflow.custody.records import public_key_fingerprint
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.job import Job, ResourceRow, StepResult, made
from ascflow.signing.profiles import keep_profile

PENDING_PREFIX = "pending-"


class SigningResult(StepResult):
    bundle_id_resource: str
    bundle_id_created: bool
    certificate_id: str
    certificate_serial: str
    certificate_created: bool
    profile_id: str
    profile_name: str
    profile_created: bool
    signing_custody_id: str
    certificate_expires: datetime | None = None
    # Why this run made a new certificate (none of ours held, or ours expiring), in words.
    certificate_changes: list[str] = Field(default_factory=list)

    def outcome(self) -> str:
        new = [
            name
            for name, created in (
                ("bundle ID", self.bundle_id_created),
                ("certificate", self.certificate_created),
                ("profile", self.profile_created),
            )
            if created
        ]
        said = f"made {', '.join(new)}" if new else "all reused"
        expiry = (
            f"; certificate expires {self.certificate_expires:%Y-%m-%d}" if self.certificate_expires else ""
        )
        return "; ".join([said, *self.certificate_changes]) + expiry

    def resources(self) -> list[ResourceRow]:
        return [
            ResourceRow("bundle ID", self.bundle_id_resource, made(self.bundle_id_created)),
            ResourceRow(
                f"distribution certificate (serial {self.certificate_serial}"
                + (f", expires {self.certificate_expires:%Y-%m-%d})" if self.certificate_expires else ")"),
                self.certificate_id,
                made(self.certificate_created),
            ),
            ResourceRow(
                f"App Store profile {self.profile_name}", self.profile_id, made(self.profile_created)
            ),
        ]


def ensure_signing(ctx: StepContext, job: Job) -> SigningResult:
    request = job.request
    with ctx.apple(job.custody_id) as client:
        team_ref = ctx.team_reference()
        bundle = ensure_bundle_id(client, request.bundle_id, name=_bundle_name(request.bundle_id))
        ctx.record(
            Action.SIGNING_BUNDLE_ID_ENSURED, "success", apple_type="bundleIds", apple_id=bundle.resource.id
        )
        ensured = _ensure_certificate(ctx, client, team_ref)
        certificate = ensured.resource
        ctx.record(
            Action.SIGNING_CERTIFICATE_ENSURED, "success", apple_type="certificates", apple_id=certificate.id
        )
        identity = _keep_identity(ctx, certificate, team_ref)
        profile = ensure_app_store_profile(client, bundle.resource, certificate.certificate)
        ctx.record(
            Action.SIGNING_PROFILE_ENSURED, "success", apple_type="profiles", apple_id=profile.resource.id
        )
        # Kept for `ascflow signing export` and the .ipa check; the customer's key may be gone by then.
        keep_profile(
            ctx.custody.store,
            tenant=ctx.tenant,
            bundle_id=request.bundle_id,
            certificate_id=certificate.certificate.id,
            profile=profile.resource,
        )
    return SigningResult(
        bundle_id_resource=bundle.resource.id,
        bundle_id_created=bundle.created,
        certificate_id=certificate.id,
        certificate_serial=certificate.certificate.attributes.serial_number,
        certificate_created=ensured.created,
        certificate_expires=certificate.certificate.attributes.expiration_date,
        certificate_changes=list(ensured.changes),
        profile_id=profile.resource.id,
        profile_name=profile.resource.attributes.name,
        profile_created=profile.created,
        signing_custody_id=identity.id,
    )


def _bundle_name(identifier: str) -> str:
    # Apple allows letters, digits and spaces in an App ID's name.
    return "ascflow " + "".join(c if c.isalnum() else " " for c in identifier)


def _ensure_certificate(
    ctx: StepContext, client: AppStoreConnect, team_ref: str
) -> Ensured[CertificateWithKey]:
    held = ctx.custody.signing_keys(ctx.tenant, team_ref, actor=ctx.actor)

    def keep_before_create(private_key_pem: bytes) -> None:
        # The key goes into custody before Apple sees its CSR: a crash after Apple made the certificate
        # still leaves us holding its key, so a rerun reuses the certificate instead of making a second one.
        fingerprint = public_key_fingerprint(private_key_pem)
        password = secrets.token_urlsafe(24)
        ctx.custody.deposit_signing_identity(
            tenant=ctx.tenant,
            issuer_id=team_ref,
            certificate_id=PENDING_PREFIX + fingerprint[:24],
            private_key_pem=SecretBytes(private_key_pem),
            p12=SecretBytes(_key_only_p12(private_key_pem, password)),
            p12_password=SecretStr(password),
            actor=ctx.actor,
        )

    return ensure_distribution_certificate(client, held, before_create=keep_before_create)


def _keep_identity(ctx: StepContext, certificate: CertificateWithKey, team_ref: str) -> RecordInfo:
    """The certificate with its key as a .p12 in custody, once; pending copies of the key are then destroyed."""
    fingerprint = public_key_fingerprint(certificate.private_key_pem)
    mine = [r for r in ctx.custody.list() if r.kind == "signing_identity" and r.tenant == ctx.tenant]
    kept = next((r for r in mine if r.key_id == certificate.id), None)
    if kept is None:
        password = secrets.token_urlsafe(24)
        kept = ctx.custody.deposit_signing_identity(
            expires_at=_identity_expiry(ctx, certificate),
            tenant=ctx.tenant,
            issuer_id=team_ref,
            certificate_id=certificate.id,
            private_key_pem=SecretBytes(certificate.private_key_pem),
            p12=SecretBytes(export_p12(certificate.certificate, certificate.private_key_pem, password)),
            p12_password=SecretStr(password),
            actor=ctx.actor,
        )
    for record in mine:
        if record.key_id.startswith(PENDING_PREFIX) and record.fingerprint == fingerprint:
            ctx.custody.destroy(record.id, actor=ctx.actor)
    return kept


def _identity_expiry(ctx: StepContext, certificate: CertificateWithKey) -> datetime:
    """The signing identity is kept while its certificate is valid, or for ASCFLOW_SIGNING_TTL_DAYS if shorter."""
    expires = certificate.certificate.attributes.expiration_date
    if ctx.settings.signing_ttl_days is None:
        return expires
    return min(expires, datetime.now(UTC) + timedelta(days=ctx.settings.signing_ttl_days))


def _key_only_p12(private_key_pem: bytes, password: str) -> bytes:
    """Custody keeps a signing identity as a .p12; before Apple has made the certificate it holds the key alone."""
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("a distribution certificate's key is RSA; new_signing_request made another kind")
    encryption = serialization.BestAvailableEncryption(password.encode())
    return pkcs12.serialize_key_and_certificates(b"ascflow pending", key, None, None, encryption)
