"""The local backend: durable appends, checkpoints, file modes, fail-closed writes and concurrent writers."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from ascflow.audit import (
    Action,
    AuditLog,
    AuditPosition,
    AuditWriteFailed,
    LocalBackend,
    ServiceKey,
    open_audit_log,
)
from ascflow.audit.chain import GENESIS
from ascflow.audit.verify import verify_log
from ascflow.settings import Settings

from .conftest import MakeEvent, make_event


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def test_append_returns_position_of_a_durable_chained_line(
    local_log: AuditLog, audit_dir: Path, event: MakeEvent
):
    first = local_log.append(event(Action.RUN_STARTED))
    second = local_log.append(event(Action.CREDENTIALS_OPENED, custody_id="c0ffee"))
    stored = lines(audit_dir / "events.jsonl")
    assert first == AuditPosition(1, stored[0]["hash"])
    assert second == AuditPosition(2, stored[1]["hash"])
    assert stored[0]["prev_hash"] == GENESIS
    assert stored[1]["prev_hash"] == first.hash
    assert stored[1]["target"] == {"custody_id": "c0ffee", "run_id": stored[0]["target"]["run_id"]}


def test_modes_are_owner_only(local_log: AuditLog, audit_dir: Path, event: MakeEvent, tmp_path: Path) -> None:
    local_log.append(event())
    local_log.checkpoint()
    assert stat.S_IMODE(audit_dir.stat().st_mode) == 0o700
    for name in ("events.jsonl", "checkpoints.jsonl", ".lock"):
        assert stat.S_IMODE((audit_dir / name).stat().st_mode) == 0o600
    key_path = tmp_path / "keys" / "audit.pem"
    ServiceKey.load_or_create(key_path)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_path.parent.stat().st_mode) == 0o700


def test_checkpoint_every_n_events_and_on_demand(local_log: AuditLog, event: MakeEvent) -> None:
    for _ in range(11):
        local_log.append(event())
    assert [(c.n, c.size, c.reason) for c in local_log.checkpoints()] == [
        (1, 5, "interval"),
        (2, 10, "interval"),
    ]
    made = local_log.checkpoint(reason="run-end")
    assert (made.n, made.size, made.reason) == (3, 11, "run-end")
    records = list(local_log.events())
    assert made.head == records[-1].hash
    assert made.signature_valid(local_log.key.public)
    assert made.prev == next(c for c in local_log.checkpoints() if c.n == 2).line_hash()


def test_events_filter_by_tenant(local_log: AuditLog) -> None:
    local_log.append(make_event(tenant="acme"))
    local_log.append(make_event(tenant="globex"))
    local_log.append(make_event(tenant="acme", outcome="denied"))
    assert [(r.seq, r.outcome) for r in local_log.events(tenant="acme")] == [(1, "success"), (3, "denied")]
    assert len(list(local_log.events())) == 3


def test_open_audit_log_from_settings(tmp_path: Path, event: MakeEvent) -> None:
    settings = Settings(data_dir=tmp_path / "state", audit_checkpoint_every=2)
    log = open_audit_log(settings)
    log.append(event())
    log.append(event())
    assert (settings.audit_dir / "events.jsonl").exists()
    assert [c.size for c in log.checkpoints()] == [2]
    assert (settings.keys_dir / "audit-ed25519.pem").exists()
    assert open_audit_log(settings).key.fingerprint == log.key.fingerprint  # the same key, not a new one


# --- fail closed ---------------------------------------------------------------------------------------------


def test_full_disk_fails_closed(audit_dir: Path, service_key: ServiceKey, event: MakeEvent) -> None:
    audit_dir.mkdir(mode=0o700)
    (audit_dir / "events.jsonl").symlink_to("/dev/full")  # every write gets ENOSPC, as on a full disk
    log = AuditLog(LocalBackend(audit_dir), service_key)
    with pytest.raises(AuditWriteFailed, match="ENOSPC") as caught:
        log.append(event())
    assert caught.value.code == "AUDIT_WRITE_FAILED"
    assert "not reported done" in str(caught.value)


def test_unwritable_location_fails_closed(tmp_path: Path, service_key: ServiceKey, event: MakeEvent) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    log = AuditLog(LocalBackend(blocker / "audit"), service_key)
    with pytest.raises(AuditWriteFailed):
        log.append(event())


def test_failed_fsync_fails_closed_and_leaves_no_line(
    local_log: AuditLog, audit_dir: Path, event: MakeEvent, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_log.append(event())
    before = (audit_dir / "events.jsonl").read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(AuditWriteFailed, match="EIO"):
        local_log.append(event())
    monkeypatch.undo()
    assert (audit_dir / "events.jsonl").read_bytes() == before  # the unsynced line was taken back
    assert local_log.append(event()).seq == 2
    assert verify_log(local_log.backend, local_log.key.public).ok


def test_failed_checkpoint_write_fails_the_append_that_triggered_it(
    audit_dir: Path, service_key: ServiceKey, event: MakeEvent
) -> None:
    audit_dir.mkdir(mode=0o700)
    (audit_dir / "checkpoints.jsonl").symlink_to("/dev/full")
    log = AuditLog(LocalBackend(audit_dir), service_key, checkpoint_every=2)
    log.append(event())
    with pytest.raises(AuditWriteFailed):
        log.append(event())


def test_torn_last_line_stops_further_appends(local_log: AuditLog, audit_dir: Path, event: MakeEvent) -> None:
    local_log.append(event())
    with (audit_dir / "events.jsonl").open("ab") as f:
        f.write(b'{"seq":2,"hash')
    with pytest.raises(AuditWriteFailed, match="incomplete"):
        local_log.append(event())


# --- concurrency ---------------------------------------------------------------------------------------------


def test_threads_appending_keep_one_unbroken_chain(local_log: AuditLog, event: MakeEvent) -> None:
    positions: list[AuditPosition] = []

    def writer() -> None:
        for _ in range(25):
            positions.append(local_log.append(event()))

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(p.seq for p in positions) == list(range(1, 101))
    report = verify_log(local_log.backend, local_log.key.public)
    assert report.ok, report.summary()
    assert (report.events, report.checkpoints) == (100, 20)


def _append_in_child(directory: str, key_path: str, count: int) -> None:
    log = AuditLog(LocalBackend(Path(directory)), ServiceKey.load(Path(key_path)), checkpoint_every=7)
    for _ in range(count):
        log.append(make_event(tenant=f"proc-{os.getpid()}"))


def test_processes_appending_keep_one_unbroken_chain(tmp_path: Path) -> None:
    key_path = tmp_path / "keys" / "audit.pem"
    key = ServiceKey.load_or_create(key_path)
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(target=_append_in_child, args=(str(tmp_path / "audit"), str(key_path), 30))
        for _ in range(3)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    report = verify_log(LocalBackend(tmp_path / "audit"), key.public)
    assert report.ok, report.summary()
    assert report.events == 90
    assert sorted(report.tenant_events.values()) == [30, 30, 30]
    assert report.checkpoints == 90 // 7


def test_verify_while_the_service_appends_sees_a_consistent_trail(
    audit_dir: Path, service_key: ServiceKey, event: MakeEvent
) -> None:
    log = AuditLog(LocalBackend(audit_dir), service_key, checkpoint_every=2)
    done = threading.Event()

    def writer() -> None:
        for _ in range(60):
            log.append(event())
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    reports = []
    while not done.is_set():
        reports.append(verify_log(log.backend, service_key.public))
    thread.join()
    assert len(reports) > 1
    assert [r.summary() for r in reports if not r.ok] == []
