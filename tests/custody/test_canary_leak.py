"""The leak test: plant a canary key, take it through custody and audit, and scan everything they wrote."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from ascflow.cli import app
from ascflow.custody import CustodyError
from ascflow.settings import get_settings
from tests.custody.conftest import OPERATOR, Harness
from tests.fixtures.canary import CanaryKey


@pytest.fixture
def cli_env(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the CLI at the harness's stores."""
    settings = harness.settings
    for name in (
        "data_dir",
        "custody_backend",
        "custody_kek",
        "kms_key_id",
        "custody_bucket",
        "aws_endpoint_url",
    ):
        value = getattr(settings, name)
        if value is not None:
            monkeypatch.setenv(f"ASCFLOW_{name.upper()}", str(value))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def bucket_objects(harness: Harness) -> list[tuple[str, bytes]]:
    """Every object version in the custody bucket, read back."""
    if harness.aws is None:
        return []
    s3 = harness.aws.client("s3")
    bucket = harness.settings.custody_bucket
    found = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []):
            body = s3.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])["Body"].read()
            found.append((f"s3://{bucket}/{v['Key']}?versionId={v['VersionId']}", body))
    return found


def test_a_canary_key_leaves_no_trace(
    harness: Harness,
    canary_key: CanaryKey,
    cli_env: None,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    scanner = canary_key.scanner
    outputs: list[tuple[str, str | bytes]] = []
    runner = CliRunner()

    info = harness.deposit(canary_key.key)
    creds = harness.custody.open(info.id, actor=OPERATOR)
    assert creds.p8.get_secret_value() == canary_key.key.p8  # the key really went through
    outputs += [("repr(credentials)", repr(creds)), ("str(credentials)", str(creds))]
    outputs += [("list", json.dumps([i.model_dump(mode="json") for i in harness.custody.list()]))]
    listed = runner.invoke(app, ["custody", "list"])
    outputs += [("cli list stdout", listed.stdout), ("cli list stderr", listed.stderr)]
    # While the record is alive, its sealed form holds nothing recognisable either.
    assert scanner.scan_tree(harness.settings.data_dir) == []
    assert scanner.scan_strings(bucket_objects(harness)) == []

    destroyed = runner.invoke(app, ["custody", "destroy", info.id])
    assert destroyed.exit_code == 0
    outputs += [("cli destroy stdout", destroyed.stdout), ("cli destroy stderr", destroyed.stderr)]
    receipt = harness.custody.destroy(info.id, actor=OPERATOR)
    outputs += [("receipt", receipt.model_dump_json()), ("repr(receipt)", repr(receipt))]
    for call in (harness.custody.open, harness.custody.destroy):
        try:
            call("f" * 32, actor=OPERATOR)
        except CustodyError as exc:
            outputs.append((f"{call.__name__} error", f"{exc!s} {exc!r}"))
    try:
        harness.custody.open(info.id, actor=OPERATOR)
    except CustodyError as exc:
        outputs.append(("open-after-destroy error", f"{exc!s} {exc!r}"))
    purged = runner.invoke(app, ["custody", "purge-expired"])
    outputs += [("cli purge stdout", purged.stdout), ("cli purge stderr", purged.stderr)]
    outputs += [("audit events", "\n".join(e.model_dump_json() for e in harness.audit.events()))]
    captured = capsys.readouterr()
    outputs += [("stdout", captured.out), ("stderr", captured.err), ("logs", caplog.text)]

    assert len(list(harness.audit.events())) >= 3
    findings = scanner.scan_tree(harness.settings.data_dir)
    findings += scanner.scan_strings(bucket_objects(harness))
    findings += scanner.scan_strings(outputs)
    assert [str(f) for f in findings] == []
    # And the files it scanned are the ones custody and audit write.
    written = {
        p.relative_to(harness.settings.data_dir).parts[0] for p in harness.settings.data_dir.rglob("*")
    }
    assert {"audit", "keys"} <= written
