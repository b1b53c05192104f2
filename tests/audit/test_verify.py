"""The tamper matrix: each way of damaging the trail is detected and the first bad line is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ascflow.audit import AuditLog, AuditPosition, LocalBackend, ServiceKey
from ascflow.audit.chain import GENESIS, canonical, seal
from ascflow.audit.events import AuditEvent
from ascflow.audit.verify import verify_log

from .conftest import MakeEvent


@pytest.fixture
def trail(local_log: AuditLog, event: MakeEvent) -> AuditLog:
    """12 events; checkpoints after 5 and 10 (every 5), and a run-end checkpoint at 12."""
    for i in range(12):
        local_log.append(event(outcome="success" if i % 3 else "failure"))
    local_log.checkpoint(reason="run-end")
    return local_log


def events_file(log: AuditLog) -> Path:
    assert isinstance(log.backend, LocalBackend)
    return log.backend.directory / "events.jsonl"


def checkpoints_file(log: AuditLog) -> Path:
    assert isinstance(log.backend, LocalBackend)
    return log.backend.directory / "checkpoints.jsonl"


def read_lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(lines))


def verify(log: AuditLog, **kwargs: object):
    return verify_log(log.backend, log.key.public, **kwargs)  # type: ignore[arg-type]


def test_clean_log_verifies(trail: AuditLog) -> None:
    report = verify(trail)
    assert report.ok, report.summary()
    assert (report.events, report.checkpoints, report.sealed, report.unsealed) == (12, 3, 12, 0)
    assert report.first_bad_line is None
    assert report.summary().startswith("OK: 12 events")


def test_empty_log_verifies(local_log: AuditLog) -> None:
    report = verify(local_log)
    assert report.ok
    assert report.head == AuditPosition(0, GENESIS)


def test_edited_line_is_named(trail: AuditLog) -> None:
    lines = read_lines(events_file(trail))
    assert b'"outcome":"success"' in lines[7]
    lines[7] = lines[7].replace(b'"outcome":"success"', b'"outcome":"denied"')
    write_lines(events_file(trail), lines)
    report = verify(trail)
    assert not report.ok
    assert report.first_bad_line == 8
    assert "edited" in report.problem
    assert report.summary().startswith("FAILED (line 8)")


def test_removed_line_is_named(trail: AuditLog) -> None:
    lines = read_lines(events_file(trail))
    del lines[6]
    write_lines(events_file(trail), lines)
    report = verify(trail)
    assert (report.ok, report.first_bad_line) == (False, 7)
    assert "missing" in report.problem


def test_reordered_lines_are_named(trail: AuditLog) -> None:
    lines = read_lines(events_file(trail))
    lines[3], lines[4] = lines[4], lines[3]
    write_lines(events_file(trail), lines)
    report = verify(trail)
    assert (report.ok, report.first_bad_line) == (False, 4)
    assert "out of order" in report.problem or "missing" in report.problem


def test_tail_cut_back_past_a_checkpoint_is_detected(trail: AuditLog) -> None:
    write_lines(events_file(trail), read_lines(events_file(trail))[:8])
    report = verify(trail)
    assert not report.ok
    assert report.first_bad_line == 9  # the first line a signed checkpoint vouches for that is gone
    assert report.first_bad_checkpoint == 2
    assert "tail of the log was cut" in report.problem


def test_tail_cut_after_the_last_checkpoint_needs_an_anchor(local_log: AuditLog, event: MakeEvent) -> None:
    positions = [local_log.append(event()) for _ in range(7)]  # checkpoint at 5; 6 and 7 unsealed
    write_lines(events_file(local_log), read_lines(events_file(local_log))[:6])
    plain = verify(local_log)
    assert plain.ok
    assert plain.unsealed == 1
    anchored = verify(local_log, expect=[positions[-1]])  # ...a receipt holding (7, hash) can
    assert (anchored.ok, anchored.first_bad_line) == (False, 7)
    assert "cut tail" in anchored.problem


def test_full_rewrite_with_recomputed_hashes_is_caught_by_the_checkpoints(trail: AuditLog) -> None:
    lines = read_lines(events_file(trail))
    prev = GENESIS
    rewritten = []
    for line in lines:
        record = json.loads(line)
        record["outcome"] = "success"
        body = {k: v for k, v in record.items() if k not in {"hash", "prev_hash", "seq", "time", "v"}}
        _, new_line = seal(
            AuditEvent.model_validate(body), seq=record["seq"], prev_hash=prev, time=record["time"]
        )
        prev = json.loads(new_line)["hash"]
        rewritten.append(new_line)
    write_lines(events_file(trail), rewritten)
    report = verify(trail)
    assert not report.ok
    assert report.first_bad_checkpoint == 1
    assert "rewritten" in report.problem


def test_checkpoints_forged_with_another_key_are_refused(trail: AuditLog, tmp_path: Path) -> None:
    forger = AuditLog(trail.backend, ServiceKey.generate())
    checkpoints_file(trail).unlink()
    forger.checkpoint()
    report = verify(trail)
    assert (report.ok, report.first_bad_checkpoint) == (False, 1)
    assert "not the trusted key" in report.problem


def test_edited_checkpoint_fails_its_signature(trail: AuditLog) -> None:
    lines = read_lines(checkpoints_file(trail))
    record = json.loads(lines[1])
    record["size"] = 9
    lines[1] = canonical(record) + b"\n"
    write_lines(checkpoints_file(trail), lines)
    report = verify(trail)
    assert (report.ok, report.first_bad_checkpoint) == (False, 2)
    assert "signature" in report.problem


def test_removed_checkpoint_is_detected(trail: AuditLog) -> None:
    lines = read_lines(checkpoints_file(trail))
    del lines[1]
    write_lines(checkpoints_file(trail), lines)
    report = verify(trail)
    assert (report.ok, report.first_bad_checkpoint) == (False, 2)
    assert "missing" in report.problem


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda line: line.replace(b'","', b'", "', 1), "canonical"),
        (lambda line: b"not json at all\n", "not a valid audit record"),
        (
            lambda line: line.replace(b'"tenant":"acme"', b'"tenant":"acme","note":"hi"'),
            "not a valid audit record",
        ),
        (lambda line: line.rstrip(b"\n"), "incomplete"),
    ],
)
def test_malformed_lines_are_named(trail: AuditLog, damage, expected: str) -> None:
    lines = read_lines(events_file(trail))
    last = len(lines) - 1
    lines[last] = damage(lines[last])
    write_lines(events_file(trail), lines)
    report = verify(trail)
    assert (report.ok, report.first_bad_line) == (False, 12)
    assert expected in report.problem


def test_anchor_with_a_different_hash_is_detected(trail: AuditLog) -> None:
    assert verify(trail, expect=[AuditPosition(3, list(trail.events())[2].hash)]).ok
    report = verify(trail, expect=[AuditPosition(3, "f" * 64)])
    assert (report.ok, report.first_bad_line) == (False, 3)


def test_line_edited_and_rehashed_breaks_the_link_to_the_next(trail: AuditLog) -> None:
    lines = read_lines(events_file(trail))
    record = json.loads(lines[10])
    record["outcome"] = "denied"
    body = {k: v for k, v in record.items() if k not in {"hash", "prev_hash", "seq", "time", "v"}}
    _, lines[10] = seal(
        AuditEvent.model_validate(body), seq=record["seq"], prev_hash=record["prev_hash"], time=record["time"]
    )
    write_lines(events_file(trail), lines)
    report = verify(trail)
    assert (report.ok, report.first_bad_line) == (False, 12)
    assert "the one before it" in report.problem
