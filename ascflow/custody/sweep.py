"""The cleanup sweep: destroy every expired record, in batches, with the same steps and proofs as `destroy`.

Each record still gets its own intent, removal, read-back, audit event and signed receipt. What a batch
shares: the file and S3 work of many records runs at once on a few threads (each step waits on the disk or
the network, not the CPU), and the batch's audit events are appended together, one line per record, in one
write. Fail closed as before: a batch whose events the log could not take gets no receipts; its intents stay,
and the next sweep (or `destroy`) finishes them.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from typing import TYPE_CHECKING, TypeVar

from ascflow.audit.backends import AuditPosition
from ascflow.audit.errors import AuditError
from ascflow.audit.events import Action, Actor
from ascflow.custody.errors import AuditUnavailable, CustodyError
from ascflow.custody.events import record_event
from ascflow.custody.ids import is_custody_id
from ascflow.custody.pending import PendingDestruction
from ascflow.custody.receipts import DeletionReceipt

if TYPE_CHECKING:
    from ascflow.custody.service import Custody

BATCH = 500  # records per audit write: bounds what one failed write leaves for the next sweep
WORKERS = (
    16  # concurrent file or S3 operations: each waits on an fsync or a request (16 measured best of 8-64)
)
T = TypeVar("T")
R = TypeVar("R")


def sweep(
    custody: Custody, actor: Actor, *, batch: int = BATCH, workers: int = WORKERS
) -> builtins.list[DeletionReceipt]:
    """Destroy every expired record and finish any destruction a crash left half done; the first failure is
    raised after the sweep, so one record that cannot be destroyed does not shield the others."""
    with ThreadPoolExecutor(workers, thread_name_prefix="custody-sweep") as pool:
        now = custody.clock()
        due = {info.id for info in custody.list(pool=pool) if info.expired(now)}
        due |= {
            name.removeprefix("pending/").removesuffix(".json") for name in custody.store.names("pending")
        }
        receipts: builtins.list[DeletionReceipt] = []
        failed: CustodyError | None = None
        for chunk in _chunks(sorted(filter(is_custody_id, due)), batch):
            done, error = _sweep_batch(custody, actor, chunk, pool)
            receipts += done
            failed = failed or error
    if failed is not None:
        raise failed
    return receipts


def _sweep_batch(
    custody: Custody, actor: Actor, ids: builtins.list[str], pool: ThreadPoolExecutor
) -> tuple[builtins.list[DeletionReceipt], CustodyError | None]:
    failed: CustodyError | None = None
    receipts: builtins.list[DeletionReceipt] = []
    ready: builtins.list[PendingDestruction] = []
    for begun in _each(pool, custody.begin_destroy, ids):
        if isinstance(begun, CustodyError):
            failed = failed or begun
        elif isinstance(begun, DeletionReceipt):
            receipts.append(begun)
        else:
            ready.append(begun)

    unaudited = [pending for pending in ready if not pending.audited]
    events = [record_event(Action.CREDENTIALS_DESTROYED, p.header, actor, "success") for p in unaudited]
    positions: builtins.list[AuditPosition]
    try:
        positions = custody.audit.append_many(events) if events else []
    except (AuditError, OSError) as exc:
        # Not recorded means not done: no receipt for any record of this batch that still needed its event.
        unavailable = AuditUnavailable(unaudited[0].header.id)
        unavailable.__cause__ = exc
        failed = failed or unavailable
        unaudited, positions = [], []
    # Every intent keeps its audit position before any receipt is made: a crash from here on appends no
    # second event for any record of the batch.
    audited = dict(zip((p.header.id for p in unaudited), positions, strict=True))
    ready = [pending for pending in ready if pending.audited]
    for kept in _each(pool, lambda p: custody.destroyed(p, audited[p.header.id]), unaudited):
        if isinstance(kept, CustodyError):
            failed = failed or kept
        else:
            ready.append(kept)

    for finished in _each(pool, custody.finish_destroy, ready):
        if isinstance(finished, CustodyError):
            failed = failed or finished
        else:
            receipts.append(finished)
    return receipts, failed


def _each(pool: ThreadPoolExecutor, step: Callable[[T], R], items: Iterable[T]) -> Iterator[R | CustodyError]:
    """`step` over `items` in the pool, in order; a CustodyError is handed back in place of its result."""

    def attempt(item: T) -> R | CustodyError:
        try:
            return step(item)
        except CustodyError as exc:
            return exc

    return pool.map(attempt, items)


def _chunks(items: builtins.list[str], size: int) -> Iterator[builtins.list[str]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
