"""`ascflow audit verify | show | checkpoint | public-key` through the real command (typer's CliRunner)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ascflow.audit import Action, AuditLog, ServiceKey, open_audit_log
from ascflow.cli import app
from ascflow.settings import Settings, get_settings

from .conftest import make_event

runner = CliRunner()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("ASCFLOW_DATA_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("ASCFLOW_AUDIT_CHECKPOINT_EVERY", "3")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def log(settings: Settings) -> AuditLog:
    log = open_audit_log(settings)
    log.append(make_event(Action.RUN_STARTED, tenant="acme"))
    log.append(make_event(Action.CREDENTIALS_DEPOSITED, tenant="acme", custody_id="0123abcd"))
    log.append(make_event(Action.RUN_STARTED, tenant="globex"))
    log.append(
        make_event(
            Action.SIGNING_CERTIFICATE_ENSURED,
            tenant="acme",
            apple_type="certificates",
            apple_id="ZX4C9N7W2Q",
        )
    )
    failed = make_event(Action.REVIEW_SUBMITTED, tenant="acme", outcome="failure")
    log.append(failed.model_copy(update={"error_code": "STATE_ERROR.ENTITY_STATE_INVALID"}))
    return log


def test_verify_clean_log_exits_zero(log: AuditLog) -> None:
    result = runner.invoke(app, ["audit", "verify", "--tenant", "acme"])
    assert result.exit_code == 0, result.output
    assert "OK: 5 events" in result.output
    assert "tenant acme: 4 events" in result.output
    assert "last 2 events are not yet covered" in result.output


def test_verify_names_the_edited_line_and_exits_non_zero(log: AuditLog, settings: Settings) -> None:
    path = settings.audit_dir / "events.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"0123abcd", b"0123abce")
    path.write_bytes(b"".join(lines))
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "FAILED (line 2)" in result.output
    assert "events.jsonl:2" in result.output


def test_verify_with_a_public_key_file_and_receipt_anchor(log: AuditLog, tmp_path: Path) -> None:
    printed = runner.invoke(app, ["audit", "public-key"])
    assert printed.exit_code == 0
    assert f"sha256 fingerprint: {log.key.fingerprint}" in printed.output
    pem = tmp_path / "audit.pub.pem"
    pem.write_text(printed.output.split("sha256")[0])
    head = list(log.events())[-1]
    ok = runner.invoke(
        app, ["audit", "verify", "--public-key", str(pem), "--expect", f"{head.seq}:{head.hash}"]
    )
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["audit", "verify", "--public-key", str(pem), "--expect", f"9:{'a' * 64}"])
    assert bad.exit_code == 1
    assert "cut tail" in bad.output
    malformed = runner.invoke(app, ["audit", "verify", "--expect", "nine"])
    assert malformed.exit_code == 2
    assert "SEQ:HASH" in malformed.output


def test_verify_with_the_wrong_public_key_fails(log: AuditLog, tmp_path: Path) -> None:
    other = tmp_path / "other.pem"
    other.write_text(ServiceKey.generate().public.pem)
    result = runner.invoke(app, ["audit", "verify", "--public-key", str(other)])
    assert result.exit_code == 1
    assert "not the trusted key" in result.output


def test_show_prints_the_tenants_timeline(log: AuditLog) -> None:
    result = runner.invoke(app, ["audit", "show", "--tenant", "acme"])
    assert result.exit_code == 0, result.output
    rows = result.output.strip().splitlines()
    assert rows[0].startswith("Audit timeline for tenant acme")
    assert len(rows) == 5
    assert "#1" in rows[1]
    assert "run.started" in rows[1]
    assert "success" in rows[1]
    assert "custody=0123abcd" in rows[2]
    assert "certificates/ZX4C9N7W2Q" in rows[3]
    assert "failure [STATE_ERROR.ENTITY_STATE_INVALID]" in rows[4]
    assert "globex" not in result.output
    assert all(re.match(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z  #", row) for row in rows[1:])


def test_show_unknown_tenant_says_so(log: AuditLog) -> None:
    result = runner.invoke(app, ["audit", "show", "--tenant", "initech"])
    assert result.exit_code == 0
    assert "No audit events for tenant initech" in result.output


def test_checkpoint_command_seals_the_tail(log: AuditLog) -> None:
    result = runner.invoke(app, ["audit", "checkpoint", "--reason", "schedule"])
    assert result.exit_code == 0, result.output
    assert "checkpoint 2: 5 events" in result.output
    verified = runner.invoke(app, ["audit", "verify"])
    assert "2 signed checkpoints cover 5; 0 after" in verified.output
    assert runner.invoke(app, ["audit", "checkpoint", "--reason", "whenever"]).exit_code == 2


def test_verify_without_any_key_explains_what_to_pass(settings: Settings) -> None:
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 2
    assert "--public-key" in result.output
