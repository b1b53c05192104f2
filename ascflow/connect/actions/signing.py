"""Bundle ID, distribution certificate and .p12: the signing assets an App Store build needs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ascflow.connect.actions.common import ActionFailed, Ensured, create_once, find_or_create
from ascflow.connect.client import AppStoreConnect
from ascflow.connect.errors import Conflict
from ascflow.connect.models import (
    APP_STORE_CERTIFICATE_TYPES,
    BundleId,
    BundleIdPlatform,
    Certificate,
    CertificateType,
)
from ascflow.connect.signing import export_p12 as _export_p12
from ascflow.connect.signing import key_matches_certificate, new_signing_request

# A certificate this close to its expiry is not reused: builds signed now must stay valid through review.
RENEW_WITHIN = timedelta(days=30)


class CertificateLimitReached(ActionFailed):
    """Apple allows no more distribution certificates, and none of the existing ones is ours."""

    def __init__(self, what: str, *, next_step: str, blocking: Sequence[Certificate] = ()) -> None:
        super().__init__(what, next_step=next_step)
        self.blocking = list(blocking)


def ensure_bundle_id(
    client: AppStoreConnect, identifier: str, *, name: str, platform: BundleIdPlatform = BundleIdPlatform.IOS
) -> Ensured[BundleId]:
    def find() -> BundleId | None:
        # filter[identifier] is a substring match: only an exact identifier is ours.
        found = client.bundle_ids.list(identifier=identifier, platform=platform)
        return next((b for b in found if b.attributes.identifier == identifier), None)

    return find_or_create(
        find, lambda: client.bundle_ids.create(identifier=identifier, name=name, platform=platform)
    )


@dataclass(frozen=True)
class CertificateWithKey:
    """A distribution certificate and the private key it was made for (which only we hold)."""

    certificate: Certificate
    private_key_pem: bytes = field(repr=False)

    @property
    def id(self) -> str:
        return self.certificate.id


def ensure_distribution_certificate(
    client: AppStoreConnect,
    held_keys: Sequence[bytes],
    *,
    certificate_type: CertificateType = CertificateType.DISTRIBUTION,
    now: datetime | None = None,
    before_create: Callable[[bytes], None] | None = None,
    renew_within: timedelta = RENEW_WITHIN,
) -> Ensured[CertificateWithKey]:
    """Reuse a distribution certificate whose key we hold and that is valid for longer than `renew_within`,
    else make a key + CSR and create one; `changes` then says why (none of ours, or ours expires soon).

    `before_create` receives the new private key before Apple sees its CSR, so the caller can keep it first:
    after a crash between Apple's answer and the caller's bookkeeping, the key is held and a rerun reuses the
    certificate. Never revokes anything: at Apple's limit it stops and names the certificates in the way.
    """
    moment = now or datetime.now(UTC)

    def ours(
        keys: Sequence[bytes], valid_until: datetime, listed: Sequence[Certificate] | None = None
    ) -> CertificateWithKey | None:
        certificates = (
            client.certificates.list(certificate_types=APP_STORE_CERTIFICATE_TYPES)
            if listed is None
            else listed
        )
        for certificate in certificates:
            if certificate.attributes.expiration_date <= valid_until:
                continue
            for key in keys:
                if key_matches_certificate(key, certificate.attributes.certificate_content):
                    return CertificateWithKey(certificate, key)
        return None

    # One read answers both "ours and valid long enough" and "ours but expiring soon".
    listed = client.certificates.list(certificate_types=APP_STORE_CERTIFICATE_TYPES)
    reused = ours(held_keys, moment + renew_within, listed)
    if reused is not None:
        return Ensured(reused, created=False)
    expiring = ours(held_keys, moment, listed)
    why = (
        f"made a new distribution certificate: ours (serial {expiring.certificate.attributes.serial_number}) "
        f"expires {expiring.certificate.attributes.expiration_date:%Y-%m-%d}, within {renew_within.days} days"
        if expiring is not None
        else "made a new distribution certificate: no private key held for a valid one at Apple"
    )
    request = new_signing_request()
    if before_create is not None:
        before_create(request.private_key_pem)
    try:
        certificate = create_once(
            lambda: client.certificates.create(csr_pem=request.csr_pem, certificate_type=certificate_type),
            lambda: _made_for(ours([request.private_key_pem], moment)),
        )
    except Conflict as exc:
        raise _limit_reached(client, exc) from exc
    return Ensured(CertificateWithKey(certificate, request.private_key_pem), created=True, changes=(why,))


def _made_for(found: CertificateWithKey | None) -> Certificate | None:
    return found.certificate if found is not None else None


def _limit_reached(client: AppStoreConnect, conflict: Conflict) -> CertificateLimitReached:
    blocking = client.certificates.list(certificate_types=APP_STORE_CERTIFICATE_TYPES)
    names = "; ".join(
        f"{c.attributes.display_name or c.attributes.name or '(unnamed)'} "
        f"({c.attributes.certificate_type.value}, serial {c.attributes.serial_number}, "
        f"expires {c.attributes.expiration_date:%Y-%m-%d}, id {c.id})"
        for c in blocking
    )
    return CertificateLimitReached(
        f"Apple refused a new distribution certificate ({conflict.code}: {conflict.detail}). "
        f"Certificates in the way: {names or 'none listed'}.",
        next_step=(
            "Ask the customer which of these certificates may be revoked (revoking invalidates the profiles "
            "that use it; ascflow never revokes a certificate it did not create). Once the customer has "
            "revoked one in Certificates, Identifiers & Profiles, retry this step."
        ),
        blocking=blocking,
    )


def export_p12(certificate: Certificate, private_key_pem: bytes, password: str) -> bytes:
    """The certificate and its key as a password-protected `.p12` for the build machine's keychain."""
    name = certificate.attributes.display_name or certificate.attributes.name or certificate.id
    return _export_p12(certificate.attributes.certificate_content, private_key_pem, password, name=name)
