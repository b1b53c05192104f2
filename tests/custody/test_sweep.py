"""The batched cleanup sweep (ascflow/custody/sweep.py), on both backends: exactly the expired records, each
with its receipt and one audit event, failing closed per batch, and converging after a crash mid-batch."""

from __future__ import annotations

from collections import Counter

import pytest

from ascflow.audit import Action
from ascflow.custody import AuditUnavailable, RecordDestroyed, RecordInfo
from ascflow.custody.sweep import sweep
from tests.custody.conftest import OPERATOR, Harness
from tests.fixtures.keys import make_customer_key

from .test_custody import Crash


def deposit_mix(harness: Harness, old: int, young: int) -> tuple[list[RecordInfo], list[RecordInfo]]:
    """`old` records that will have expired at the sweep, `young` ones that will still be live."""
    key = make_customer_key()
    expired = [harness.deposit(key, tenant=f"t{i % 3}") for i in range(old)]
    harness.clock.advance(hours=harness.settings.custody_ttl_hours / 2)
    live = [harness.deposit(key, tenant=f"t{i % 3}") for i in range(young)]
    harness.clock.advance(hours=harness.settings.custody_ttl_hours / 2)
    return expired, live


def destroyed_events(harness: Harness) -> Counter[str | None]:
    return Counter(
        e.target.custody_id for e in harness.audit.events() if e.action == Action.CREDENTIALS_DESTROYED
    )


def test_the_sweep_destroys_exactly_the_expired_records_with_a_receipt_and_an_event_each(
    harness: Harness,
) -> None:
    expired, live = deposit_mix(harness, old=7, young=4)
    receipts = sweep(harness.custody, OPERATOR, batch=3, workers=4)  # three batches, the last one short

    assert sorted(r.custody_id for r in receipts) == sorted(info.id for info in expired)
    assert sorted(i.id for i in harness.custody.list()) == sorted(i.id for i in live)
    by_seq = {e.seq: e for e in harness.audit.events()}
    for receipt in receipts:
        assert receipt.verify(harness.custody.receipt_public_key)
        assert harness.custody.receipt(receipt.custody_id) == receipt
        event = by_seq[receipt.audit_seq]
        assert (event.hash, event.action, event.target.custody_id) == (
            receipt.audit_hash,
            Action.CREDENTIALS_DESTROYED,
            receipt.custody_id,
        )
        assert event.actor == OPERATOR
        assert harness.leftovers(receipt.custody_id) == []
    assert destroyed_events(harness) == Counter(info.id for info in expired)
    assert harness.custody.store.names("pending") == []
    with pytest.raises(RecordDestroyed):
        harness.custody.open(expired[0].id, actor=OPERATOR)
    assert sweep(harness.custody, OPERATOR, batch=3) == []


def test_a_batch_the_log_refuses_gets_no_receipt_and_the_next_sweep_finishes_it(harness: Harness) -> None:
    expired, live = deposit_mix(harness, old=5, young=1)
    events_file = harness.settings.audit_dir / "events.jsonl"
    events_file.rename(events_file.with_suffix(".bak"))
    events_file.mkdir()  # a real failure: the log file is unwritable

    with pytest.raises(AuditUnavailable):
        sweep(harness.custody, OPERATOR, batch=2)
    assert all(harness.custody.receipt(info.id) is None for info in expired)
    # Removal came before the audit, as in `destroy`: the intents stay, and the keys stay closed to reads.
    assert len(harness.custody.store.names("pending")) == len(expired)
    with pytest.raises(RecordDestroyed):
        harness.custody.open(expired[0].id, actor=OPERATOR)

    events_file.rmdir()
    events_file.with_suffix(".bak").rename(events_file)
    receipts = harness.custody.purge_expired(actor=OPERATOR)
    assert sorted(r.custody_id for r in receipts) == sorted(info.id for info in expired)
    assert destroyed_events(harness) == Counter(info.id for info in expired)
    assert sorted(i.id for i in harness.custody.list()) == sorted(i.id for i in live)
    assert harness.custody.store.names("pending") == []


def test_a_crash_mid_batch_converges_with_one_event_per_record(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    expired, _ = deposit_mix(harness, old=6, young=0)
    stored: list[str] = []

    def crash_after_two_receipts(step: str) -> None:
        if step == "receipt_stored":
            stored.append(step)
            if len(stored) > 2:
                raise Crash(step)

    monkeypatch.setattr(harness.custody, "_reached", crash_after_two_receipts)
    with pytest.raises(Crash):
        sweep(harness.custody, OPERATOR, batch=6, workers=1)
    monkeypatch.undo()
    assert len(destroyed_events(harness)) == len(expired)  # the batch was audited before the crash

    assert harness.custody.store.names("pending") != []  # the crash left intents behind

    finished = {r.custody_id: r for r in sweep(harness.custody, OPERATOR)}
    assert finished
    assert set(finished) <= {info.id for info in expired}
    assert destroyed_events(harness) == Counter(info.id for info in expired)  # no second event for any
    for info in expired:
        receipt = harness.custody.receipt(info.id)
        assert receipt is not None
        assert receipt.verify(harness.custody.receipt_public_key)
        assert finished.get(info.id, receipt) == receipt
        [event] = [e for e in harness.audit.events() if e.seq == receipt.audit_seq]
        assert (event.hash, event.target.custody_id) == (receipt.audit_hash, receipt.custody_id)
        assert harness.leftovers(info.id) == []
    assert harness.custody.store.names("pending") == []
