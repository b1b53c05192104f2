"""`ascflow custody list | destroy | purge-expired` through typer's CliRunner, on the local backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ascflow.audit import open_audit_log
from ascflow.cli import app
from ascflow.custody import DeletionReceipt, open_custody
from ascflow.settings import Settings, get_settings
from tests.custody.conftest import Clock, Harness
from tests.fixtures.canary import CanaryKey
from tests.fixtures.keys import make_customer_key


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    monkeypatch.setenv("ASCFLOW_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    settings = Settings()
    audit = open_audit_log(settings)
    yield Harness("local", settings, open_custody(settings, audit=audit), audit, Clock())
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["custody", *args])
    return result.exit_code, result.stdout, result.stderr


def test_list_shows_records_without_secrets(local: Harness, canary_key: CanaryKey) -> None:
    assert run("list")[:2] == (0, "No custody records.\n")
    info = local.deposit(canary_key.key)
    code, out, _ = run("list")
    assert code == 0
    assert info.id in out
    assert canary_key.key.key_id in out
    assert info.fingerprint[:16] in out
    assert "(live)" in out
    assert canary_key.key.issuer_id not in out
    assert canary_key.scanner.scan_text(out, "custody list") == []


def test_destroy_prints_a_receipt_that_verifies(local: Harness, canary_key: CanaryKey) -> None:
    info = local.deposit(canary_key.key)
    code, out, _ = run("destroy", info.id, "--operator", "bob")
    assert code == 0
    receipt = DeletionReceipt.model_validate_json(out)
    assert receipt.custody_id == info.id
    assert receipt.verify(local.custody.receipt_public_key)
    assert [e.actor.id for e in local.audit.events() if e.action == "credentials.destroyed"] == ["bob"]
    assert run("destroy", info.id)[:2] == (0, out)  # idempotent: the same receipt again
    assert run("list")[1] == "No custody records.\n"


def test_destroy_of_an_unknown_id_explains_without_echoing(local: Harness) -> None:
    code, out, err = run("destroy", "../../secret-path")
    assert code == 1
    assert out == ""
    assert "custody_unknown" in err
    assert "ascflow custody list" in err
    assert "secret-path" not in err
    code, _, err = run("destroy", "0" * 32, "--operator", "not allowed!")
    assert code == 2
    assert "--operator" in err


def test_purge_expired_destroys_only_expired_records(local: Harness) -> None:
    local.custody.clock = lambda: Clock().now - timedelta(hours=local.settings.custody_ttl_hours + 1)
    old = local.deposit(make_customer_key())
    local.custody.clock = Clock()
    young = local.deposit(make_customer_key())
    assert "(expired)" in run("list")[1]

    code, out, _ = run("purge-expired")
    assert code == 0
    assert f"destroyed {old.id} (key {old.key_id})" in out
    assert "1 expired record(s) destroyed." in out
    assert [i.id for i in local.custody.list()] == [young.id]
    assert run("purge-expired")[1] == "0 expired record(s) destroyed.\n"
