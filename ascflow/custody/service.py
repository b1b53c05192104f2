"""The custody API: deposit, open, list, destroy and purge credential records, each recorded in the audit log.

Every action is audited before it is reported done; when the audit log cannot record it, the caller gets
AuditUnavailable and no secret and no receipt. Destruction is a resumable sequence: record the intent (with
the record's public header and every copy found), remove every copy, read back to prove none is left, audit,
sign and store the receipt, drop the intent. A crash anywhere, a second call or a racing worker converges on
the same single stored receipt.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel, SecretBytes, SecretStr, ValidationError

from ascflow.audit.backends import AuditPosition
from ascflow.audit.errors import AuditError
from ascflow.audit.events import Action, Actor, Outcome
from ascflow.audit.log import AuditLog
from ascflow.audit.signing import ServiceKey, ServicePublicKey
from ascflow.custody.envelope import Envelope, KeyEncryptionKey, canonical, seal, unseal
from ascflow.custody.errors import (
    AuditUnavailable,
    CustodyError,
    DeletionNotProven,
    RecordDestroyed,
    RecordExpired,
    RecordTampered,
    UnknownRecord,
)
from ascflow.custody.events import record_event
from ascflow.custody.ids import is_custody_id, new_custody_id
from ascflow.custody.pending import PendingDestruction, pending_name, receipt_name, record_name
from ascflow.custody.receipts import DeletionReceipt, issue
from ascflow.custody.records import (
    Credentials,
    CustodyInput,
    RecordInfo,
    RecordKind,
    SigningIdentity,
    SigningIdentityInput,
    fields_at_fault,
    public_key_fingerprint,
)
from ascflow.custody.stores import Store
from ascflow.custody.sweep import sweep

SERVICE = Actor(kind="system", id="ascflow-custody")
M = TypeVar("M", bound=BaseModel)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Custody:
    def __init__(
        self,
        *,
        store: Store,
        kek: KeyEncryptionKey,
        audit: AuditLog,
        receipt_key: ServiceKey,
        ttl: timedelta,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.store = store
        self.kek = kek
        self.audit = audit
        self.receipt_key = receipt_key
        self.ttl = ttl
        self.clock = clock

    @property
    def receipt_public_key(self) -> ServicePublicKey:
        return self.receipt_key.public

    # deposit

    def deposit(self, item: CustodyInput, *, actor: Actor) -> RecordInfo:
        """Seal an App Store Connect API key. Checks only that the key is a readable private key."""
        p8 = item.p8.get_secret_value()
        header = self._header(
            "api_key", item.tenant, item.key_id, public_key_fingerprint(p8.encode()), item.app_bundle_id
        )
        body = {"issuer_id": item.issuer_id.get_secret_value(), "p8": p8}
        return self._deposit(header, body, actor)

    def deposit_signing_identity(
        self,
        *,
        tenant: str,
        issuer_id: str | SecretStr,
        certificate_id: str,
        private_key_pem: SecretBytes,
        p12: SecretBytes,
        p12_password: SecretStr,
        actor: Actor,
        expires_at: datetime | None = None,
    ) -> RecordInfo:
        """Keep a distribution certificate's private key and .p12 we made, so reruns reuse the certificate.
        The identity is the service's, not the customer's: it may be kept for as long as the certificate is
        valid (`expires_at`), where the customer's key is kept only for the custody TTL."""
        try:
            item = SigningIdentityInput(
                tenant=tenant,
                issuer_id=issuer_id,
                certificate_id=certificate_id,
                private_key_pem=private_key_pem,
                p12=p12,
                p12_password=p12_password,
            )
        except ValidationError as exc:
            raise ValueError(fields_at_fault(exc)) from None
        pem = item.private_key_pem.get_secret_value()
        header = self._header(
            "signing_identity",
            item.tenant,
            item.certificate_id,
            public_key_fingerprint(pem),
            expires_at=expires_at,
        )
        body = {
            "issuer_id": item.issuer_id.get_secret_value(),
            "private_key_pem": pem.decode("ascii", errors="strict"),
            "p12": item.p12.get_secret_value().hex(),
            "p12_password": item.p12_password.get_secret_value(),
        }
        return self._deposit(header, body, actor)

    def _header(
        self,
        kind: RecordKind,
        tenant: str,
        key_id: str,
        fingerprint: str,
        app: str | None = None,
        *,
        expires_at: datetime | None = None,
    ) -> RecordInfo:
        now = self.clock()
        return RecordInfo(
            id=new_custody_id(),
            kind=kind,
            tenant=tenant,
            app_bundle_id=app,
            key_id=key_id,
            fingerprint=fingerprint,
            created_at=now,
            expires_at=expires_at or now + self.ttl,
        )

    def _deposit(self, header: RecordInfo, body: dict[str, str], actor: Actor) -> RecordInfo:
        envelope = seal(header, canonical(body), self.kek)
        self.store.put_new(record_name(header.id), envelope.to_bytes())
        try:
            self._audit(Action.CREDENTIALS_DEPOSITED, header, actor, "success")
        except AuditUnavailable:
            # Not recorded means not done: take the sealed record back out.
            self.store.remove(record_name(header.id))
            raise
        return header

    # open

    def open(self, custody_id: str, *, actor: Actor) -> Credentials:
        """The key of a live record; raises UnknownRecord, RecordExpired, RecordDestroyed, RecordTampered."""
        header, body = self._open(custody_id, "api_key", actor)
        return Credentials(key_id=header.key_id, issuer_id=body["issuer_id"], p8=body["p8"])

    def open_signing_identity(self, custody_id: str, *, actor: Actor) -> SigningIdentity:
        header, body = self._open(custody_id, "signing_identity", actor)
        return SigningIdentity(
            certificate_id=header.key_id,
            issuer_id=body["issuer_id"],
            private_key_pem=body["private_key_pem"].encode(),
            p12=bytes.fromhex(body["p12"]),
            p12_password=body["p12_password"],
        )

    def signing_keys(self, tenant: str, issuer_id: str, *, actor: Actor = SERVICE) -> builtins.list[bytes]:
        """PEMs of the certificate private keys we hold for this tenant's team: for certificate reuse."""
        keys: builtins.list[bytes] = []
        for info in self.list():
            if info.kind != "signing_identity" or info.tenant != tenant or info.expired(self.clock()):
                continue
            try:
                identity = self.open_signing_identity(info.id, actor=actor)
            except (RecordDestroyed, UnknownRecord):
                continue  # destroyed since it was listed: no longer ours to reuse
            if identity.issuer_id.get_secret_value() == issuer_id:
                keys.append(identity.private_key_pem.get_secret_value())
        return keys

    def _open(self, custody_id: str, kind: RecordKind, actor: Actor) -> tuple[RecordInfo, dict[str, str]]:
        if not is_custody_id(custody_id):
            raise UnknownRecord()
        # A destruction that has begun (even one a crash interrupted) closes the record to reads.
        if self.store.get(pending_name(custody_id)) is not None:
            raise RecordDestroyed(custody_id)
        data = self.store.get(record_name(custody_id))
        if data is None:
            if self.store.get(receipt_name(custody_id)) is not None:
                raise RecordDestroyed(custody_id)
            raise UnknownRecord(custody_id)
        try:
            envelope = Envelope.from_bytes(data, custody_id)
        except RecordTampered:
            if (
                self.store.get(pending_name(custody_id)) is not None
                or self.store.get(record_name(custody_id)) is None
            ):
                raise RecordDestroyed(custody_id) from None  # destroyed while we read it
            raise
        header = envelope.header
        if header.kind != kind:
            raise UnknownRecord(custody_id)
        if header.expired(self.clock()):
            # Never decrypted; purge_expired destroys it (it selects records by this same header).
            self._audit(Action.CREDENTIALS_EXPIRED, header, actor, "denied", RecordExpired.code)
            raise RecordExpired(custody_id)
        try:
            plaintext = unseal(envelope, self.kek)
        except RecordTampered:
            self._audit(Action.CREDENTIALS_OPENED, header, actor, "failure", RecordTampered.code)
            raise
        self._audit(Action.CREDENTIALS_OPENED, header, actor, "success")
        body: dict[str, str] = json.loads(plaintext)
        return header, body

    # list

    def list(self, *, pool: Executor | None = None) -> builtins.list[RecordInfo]:
        """Public headers of every live record (expired ones included, until purged). No secrets. Headers
        are read in `pool` when one is given (on S3 each is a GET); no body is decrypted."""
        headers = (pool.map if pool else map)(self._listed_header, self.store.names("records"))
        infos = [info for info in headers if info is not None]
        return sorted(infos, key=lambda info: (info.created_at, info.id))

    def _listed_header(self, name: str) -> RecordInfo | None:
        custody_id = name.removeprefix("records/").removesuffix(".json")
        data = self.store.get(name) if is_custody_id(custody_id) else None
        try:
            return Envelope.from_bytes(data, custody_id).header if data is not None else None
        except CustodyError:
            return None

    # destroy

    def receipt(self, custody_id: str) -> DeletionReceipt | None:
        return self._load(receipt_name(custody_id), DeletionReceipt) if is_custody_id(custody_id) else None

    def destroy(self, custody_id: str, *, actor: Actor) -> DeletionReceipt:
        """Remove every copy of the record, prove none is left, audit it, and return the signed receipt.

        Idempotent: a second call, a call after a crash at any point, or a racing call returns one receipt.
        """
        begun = self.begin_destroy(custody_id)
        if isinstance(begun, DeletionReceipt):
            return begun
        if not begun.audited:
            position = self._audit(Action.CREDENTIALS_DESTROYED, begun.header, actor, "success")
            begun = self.destroyed(begun, position)
        else:
            self._reached("audited")
        return self.finish_destroy(begun)

    def begin_destroy(self, custody_id: str) -> DeletionReceipt | PendingDestruction:
        """Record the intent, remove every copy and prove none is left: the intent, ready to audit (or the
        stored receipt when the record was destroyed already)."""
        if not is_custody_id(custody_id):
            raise UnknownRecord()
        stored = self.receipt(custody_id)
        if stored is not None:
            self._remove_and_prove(custody_id)
            self.store.discard(pending_name(custody_id))
            return stored
        pending = self._load(pending_name(custody_id), PendingDestruction)
        if pending is None:
            header = self._header_of_live_record(custody_id)
            if header is not None:
                pending = PendingDestruction(header=header)
            else:
                # A racing worker took the record after our first look. It records its intent before it removes
                # the record and stores the receipt before it drops the intent, so one of the two is there.
                pending = self._load(pending_name(custody_id), PendingDestruction)
                if pending is None:
                    stored = self.receipt(custody_id)
                    if stored is not None:
                        return stored
                    raise UnknownRecord(custody_id)
        found = self.store.copies(record_name(custody_id))
        pending = pending.model_copy(update={"copies": sorted(set(pending.copies) | set(found))})
        self.store.put(pending_name(custody_id), pending.model_dump_json().encode())
        self._reached("intent_recorded")

        self._remove_and_prove(custody_id)
        self._reached("verified_absent")
        return pending

    def destroyed(self, pending: PendingDestruction, position: AuditPosition) -> PendingDestruction:
        """Keep the audit position with the intent, so a rerun after a crash appends no second event."""
        pending = pending.model_copy(
            update={"destroyed_at": self.clock(), "audit_seq": position.seq, "audit_hash": position.hash}
        )
        self.store.put(pending_name(pending.header.id), pending.model_dump_json().encode())
        self._reached("audited")
        return pending

    def finish_destroy(self, pending: PendingDestruction) -> DeletionReceipt:
        """Sign and store the receipt of an audited destruction, then drop the intent."""
        header = pending.header
        custody_id = header.id
        receipt = issue(
            header,
            pending.copies,
            destroyed_at=pending.destroyed_at or self.clock(),
            audit_seq=pending.audit_seq or 0,
            audit_hash=pending.audit_hash or "",
            key=self.receipt_key,
        )
        if not self.store.put_new(receipt_name(custody_id), receipt.model_dump_json().encode()):
            receipt = self._load(receipt_name(custody_id), DeletionReceipt) or receipt  # a racing worker won
        self._reached("receipt_stored")

        self.store.discard(pending_name(custody_id))
        return receipt

    def purge_expired(self, *, actor: Actor) -> builtins.list[DeletionReceipt]:
        """Destroy every expired record, and finish any destruction a crash left half done (`sweep.py`)."""
        return sweep(self, actor)

    def _header_of_live_record(self, custody_id: str) -> RecordInfo | None:
        """The record's header, or None when it is gone, including when a racing destroy is overwriting it
        while we read (the bytes we got are then its random overwrite, not a tampered record)."""
        data = self.store.get(record_name(custody_id))
        if data is None:
            return None
        try:
            return Envelope.from_bytes(data, custody_id).header
        except RecordTampered:
            if self.store.get(record_name(custody_id)) is None:
                return None
            raise

    def _remove_and_prove(self, custody_id: str) -> None:
        name = record_name(custody_id)
        self.store.remove(name)
        self._reached("removed")
        if self.store.copies(name):
            raise DeletionNotProven(custody_id)

    def _reached(self, step: str) -> None:
        """A named point in destroy; the crash-recovery tests raise here to stop the process half-way."""

    def _load(self, name: str, model: type[M]) -> M | None:
        data = self.store.get(name)
        if data is None:
            return None
        try:
            return model.model_validate_json(data)
        except ValidationError:
            return None

    def _audit(
        self,
        action: Action,
        header: RecordInfo,
        actor: Actor,
        outcome: Outcome,
        error_code: str | None = None,
    ) -> AuditPosition:
        event = record_event(action, header, actor, outcome, error_code)
        try:
            return self.audit.append(event)
        except (AuditError, OSError) as exc:
            raise AuditUnavailable(header.id) from exc
