"""`AuditLog`: append events, write signed checkpoints, read the trail back."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from pydantic import ValidationError

from ascflow.audit.backends import AuditBackend, AuditPosition, LocalBackend, S3Backend
from ascflow.audit.chain import GENESIS, seal
from ascflow.audit.checkpoint import Checkpoint, CheckpointReason, sign_checkpoint
from ascflow.audit.errors import AuditConfigError, AuditError
from ascflow.audit.events import AuditEvent, AuditRecord, format_time, utc_now
from ascflow.audit.signing import ServiceKey

if TYPE_CHECKING:
    from ascflow.settings import Settings

SIGNING_KEY_FILE = "audit-ed25519.pem"


class LogCursor(NamedTuple):
    """How far a reader got: the last event it read, and where the next one starts in the local file."""

    seq: int = 0
    hash: str = GENESIS
    offset: int = 0


class CursorLost(AuditError):
    """The log after a cursor does not chain to it (the log was replaced or the cursor is stale): reread."""


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

    def append_many(self, events: Sequence[AuditEvent]) -> list[AuditPosition]:
        """Each event as its own chained line, written together (one fsync on the local backend); one
        checkpoint after them when they crossed a `checkpoint_every` boundary."""
        time = format_time(self._clock())

        def builder(event: AuditEvent) -> Callable[[AuditPosition], tuple[AuditRecord, bytes]]:
            return lambda head: seal(event, seq=head.seq + 1, prev_hash=head.hash, time=time)

        records = self.backend.append_events([builder(event) for event in events])
        if (
            records
            and records[-1].seq // self.checkpoint_every > (records[0].seq - 1) // self.checkpoint_every
        ):
            self.checkpoint(reason="interval")
        return [AuditPosition(record.seq, record.hash) for record in records]

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

    def events_after(self, cursor: LogCursor) -> Iterator[tuple[AuditRecord, LogCursor]]:
        """The events after `cursor`, each with the cursor past it, without reading what comes before.
        Raises CursorLost when the first of them does not chain to the cursor's event."""
        head = AuditPosition(cursor.seq, cursor.hash)
        for stored, offset in self.backend.read_events_after(cursor.seq, cursor.offset):
            try:
                record = None if stored.problem else AuditRecord.model_validate_json(stored.data)
            except ValidationError:
                record = None
            if record is None or (record.seq, record.prev_hash) != (head.seq + 1, head.hash):
                raise CursorLost(f"the event at {stored.location} does not follow seq {head.seq}")
            head = AuditPosition(record.seq, record.hash)
            yield record, LogCursor(record.seq, record.hash, offset)

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
