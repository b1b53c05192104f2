"""Batched appends (the cleanup sweep's) and reading only the tail after a cursor (the intake's index)."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from ascflow.audit import (
    Action,
    AuditLog,
    AuditWriteFailed,
    CursorLost,
    LocalBackend,
    LogCursor,
    S3Backend,
    ServiceKey,
)
from ascflow.audit.chain import GENESIS
from ascflow.audit.verify import verify_log
from tests.fixtures.aws import MotoAws

from .conftest import MakeEvent, make_event


def test_append_many_chains_each_event_and_checkpoints_once_past_the_interval(
    local_log: AuditLog, event: MakeEvent
) -> None:
    local_log.append(event(Action.RUN_STARTED))
    positions = local_log.append_many([event(custody_id=f"c{i}") for i in range(7)])
    assert [p.seq for p in positions] == list(range(2, 9))
    records = list(local_log.events())
    assert [(r.seq, r.hash) for r in records[1:]] == positions
    assert [r.target.custody_id for r in records[1:]] == [f"c{i}" for i in range(7)]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))
    # checkpoint_every=5: the batch crossed seq 5, so one interval checkpoint vouches for all of it
    assert [(c.size, c.reason) for c in local_log.checkpoints()] == [(8, "interval")]
    report = verify_log(local_log.backend, local_log.key.public)
    assert report.ok, report.summary()
    assert local_log.append_many([]) == []


def test_a_failed_batch_writes_none_of_its_events(
    local_log: AuditLog, audit_dir: Path, event: MakeEvent, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_log.append(event())
    before = (audit_dir / "events.jsonl").read_bytes()

    def failing_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(AuditWriteFailed):
        local_log.append_many([event(custody_id=f"c{i}") for i in range(3)])
    monkeypatch.undo()
    assert (audit_dir / "events.jsonl").read_bytes() == before
    assert local_log.append(event()).seq == 2


def test_events_after_a_cursor_resume_where_the_last_read_stopped(
    local_log: AuditLog, audit_dir: Path
) -> None:
    for tenant in ("acme", "globex", "acme"):
        local_log.append(make_event(tenant=tenant))
    read = list(local_log.events_after(LogCursor()))
    assert [record.seq for record, _ in read] == [1, 2, 3]
    cursor = read[1][1]
    assert [record.seq for record, _ in local_log.events_after(cursor)] == [3]

    cursor = read[-1][1]
    assert list(local_log.events_after(cursor)) == []
    local_log.append_many([make_event(tenant="initech"), make_event(tenant="acme")])
    tail = list(local_log.events_after(cursor))
    assert [(record.seq, record.tenant) for record, _ in tail] == [(4, "initech"), (5, "acme")]
    assert tail[-1][1] == LogCursor(5, tail[-1][0].hash, (audit_dir / "events.jsonl").stat().st_size)


def test_a_cursor_into_another_log_is_refused(
    local_log: AuditLog, tmp_path: Path, service_key: ServiceKey
) -> None:
    local_log.append(make_event())
    [(_, cursor)] = list(local_log.events_after(LogCursor()))
    other = AuditLog(LocalBackend(tmp_path / "other"), service_key)
    other.append(make_event(tenant="globex"))
    other.append(make_event(tenant="globex"))
    with pytest.raises(CursorLost):
        list(other.events_after(cursor))  # the offset lands on seq 2, which chains to another seq 1
    with pytest.raises(CursorLost):
        list(other.events_after(LogCursor(1, GENESIS, cursor.offset)))


def test_s3_batches_and_tail_reads(aws: MotoAws, service_key: ServiceKey) -> None:
    bucket = aws.versioned_bucket(object_lock=True)
    log = AuditLog(S3Backend(aws.client("s3"), bucket, retention_days=1), service_key, checkpoint_every=4)
    positions = log.append_many([make_event(custody_id=f"c{i}") for i in range(5)])
    assert [p.seq for p in positions] == [1, 2, 3, 4, 5]
    assert [c.size for c in log.checkpoints()] == [5]
    read = list(log.events_after(LogCursor()))
    assert [(r.seq, r.hash) for r, _ in read] == positions
    assert [r.seq for r, _ in log.events_after(read[2][1])] == [4, 5]
    assert verify_log(log.backend, service_key.public).ok
