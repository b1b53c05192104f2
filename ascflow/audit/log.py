"""`AuditLog`: append events, write signed checkpoints, read the trail back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from ascflow.audit.backends import AuditBackend, AuditPosition, LocalBackend, S3Backend
from ascflow.audit.chain import seal
from ascflow.audit.checkpoint import Checkpoint, CheckpointReason, sign_checkpoint
from ascflow.audit.errors import AuditConfigError
from ascflow.audit.events import AuditEvent, AuditRecord, format_time, utc_now
from ascflow.audit.signing import ServiceKey

if TYPE_CHECKING:
    from ascflow.settings import Settings

SIGNING_KEY_FILE = "audit-ed25519.pem"


class AuditLog:
    """The audit trail. `append` returns only once the event is durable; otherwise it raises AuditWriteFailed,
    and the action it records must not be reported done."""

    def __init__(
        self,
        backend: AuditBackend,
        key: ServiceKey,
        *,
        checkpoint_every: int = 100,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if checkpoint_every < 1:
            raise AuditConfigError(f"checkpoint_every must be at least 1, got {checkpoint_every}")
        self.backend = backend
        self.key = key
        self.checkpoint_every = checkpoint_every
        self._clock = clock

    def append(self, event: AuditEvent) -> AuditPosition:
        """Write `event` after the current head; every `checkpoint_every` events, also sign a checkpoint."""

        def build(head: AuditPosition) -> tuple[AuditRecord, bytes]:
            return seal(event, seq=head.seq + 1, prev_hash=head.hash, time=format_time(self._clock()))

        record = self.backend.append_event(build)
        if record.seq % self.checkpoint_every == 0:
            self.checkpoint(reason="interval")
        return AuditPosition(record.seq, record.hash)

    def checkpoint(self, reason: CheckpointReason = "manual") -> Checkpoint:
        """Sign (size, head) of the log as it stands. Call it when a run ends, and on a schedule when idle."""

        def build(events: AuditPosition, last: AuditPosition) -> tuple[Checkpoint, bytes]:
            checkpoint = sign_checkpoint(
                self.key,
                n=last.seq + 1,
                size=events.seq,
                head=events.hash,
                time=format_time(self._clock()),
                reason=reason,
                prev=last.hash,
            )
            return checkpoint, checkpoint.line()

        return self.backend.append_checkpoint(build)

    def events(self, tenant: str | None = None) -> Iterator[AuditRecord]:
        """The stored events in order, optionally one tenant's. `verify_log` checks the chain."""
        for stored in self.backend.read_events():
            record = AuditRecord.model_validate_json(stored.data)
            if tenant is None or record.tenant == tenant:
                yield record

    def checkpoints(self) -> Iterator[Checkpoint]:
        for stored in self.backend.read_checkpoints():
            yield Checkpoint.model_validate_json(stored.data)


def backend_from_settings(settings: Settings) -> AuditBackend:
    if settings.audit_backend == "local":
        return LocalBackend(settings.audit_dir)
    if not settings.audit_bucket:
        raise AuditConfigError(
            "ASCFLOW_AUDIT_BACKEND=s3 needs ASCFLOW_AUDIT_BUCKET (a bucket with Object Lock)"
        )
    return S3Backend.from_endpoint(
        settings.aws_endpoint_url,
        settings.aws_region,
        settings.audit_bucket,
        retention_mode=settings.audit_object_lock_mode,
        retention_days=settings.audit_retention_days,
    )


def signing_key_from_settings(settings: Settings) -> ServiceKey:
    return ServiceKey.load_or_create(settings.keys_dir / SIGNING_KEY_FILE)


def open_audit_log(settings: Settings | None = None) -> AuditLog:
    """The audit log the settings describe, signing with the service key in `settings.keys_dir`."""
    if settings is None:
        from ascflow.settings import get_settings

        settings = get_settings()
    return AuditLog(
        backend_from_settings(settings),
        signing_key_from_settings(settings),
        checkpoint_every=settings.audit_checkpoint_every,
    )
