"""`ascflow signing export` to a directory: the files hold what Apple issued, are private, and are audited."""

from __future__ import annotations

import base64
import logging
import os
import plistlib
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from typer.testing import CliRunner

from ascflow.audit import Actor
from ascflow.audit.errors import AuditWriteFailed
from ascflow.cli import app
from ascflow.settings import get_settings
from ascflow.signing.errors import ExportRefused
from ascflow.signing.export import export_to_directory
from ascflow.signing.mobileprovision import read_profile
from tests.fixtures.canary import Canary
from tests.pipeline.conftest import TENANT
from tests.signing.conftest import TEAM_ID, Signed

FILES = {"distribution.p12", "distribution.p12.password", "ExportOptions.plist"}
OPERATOR = Actor(kind="operator", id="alice")


def expected_files(bundle_id: str) -> set[str]:
    return FILES | {f"{bundle_id}.mobileprovision"}


def secrets_of(signed: Signed) -> Canary:
    """Needles for the identity's secrets: the .p12 password, windows of the private key, of the .p12."""
    identity = signed.ctx.custody.open_signing_identity(signed.result.signing_custody_id, actor=OPERATOR)
    password = identity.p12_password.get_secret_value()
    pem = identity.private_key_pem.get_secret_value().decode()
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    p12 = base64.b64encode(identity.p12.get_secret_value()).decode()
    needles = [("p12 password", password.encode())]
    needles += [
        (f"private key base64 at {i}", body[i : i + 24].encode()) for i in range(64, len(body) - 24, 200)
    ]
    needles += [(f".p12 base64 at {i}", p12[i : i + 24].encode()) for i in range(64, len(p12) - 24, 300)]
    return Canary(tuple(needles))


@pytest.fixture
def cli_settings(signed: Signed, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ASCFLOW_DATA_DIR", str(signed.settings.data_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_export_holds_what_apple_issued(signed: Signed, tmp_path: Path) -> None:
    out = tmp_path / "build-signing"
    exported = export_to_directory(
        signed.ctx.custody, tenant=TENANT, bundle_id=signed.bundle_id, out=out, actor=OPERATOR
    )
    assert set(os.listdir(out)) == expected_files(signed.bundle_id) == set(exported.files)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert {stat.S_IMODE((out / name).stat().st_mode) for name in exported.files} == {0o600}

    password = (out / "distribution.p12.password").read_bytes()
    key, certificate, _ = pkcs12.load_key_and_certificates((out / "distribution.p12").read_bytes(), password)
    assert key is not None
    assert certificate is not None
    issued = signed.issued_certificate_der()
    assert certificate.public_bytes(serialization.Encoding.DER) == issued

    def spki(public_key) -> bytes:
        return public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    assert spki(key.public_key()) == spki(certificate.public_key())

    profile_file = (out / f"{signed.bundle_id}.mobileprovision").read_bytes()
    assert profile_file == signed.issued_profile()
    profile = read_profile(profile_file)
    assert profile.bundle_id == signed.bundle_id
    assert profile.application_identifier == f"{TEAM_ID}.{signed.bundle_id}"
    assert profile.names_certificate(issued)
    assert profile.name == signed.result.profile_name

    with (out / "ExportOptions.plist").open("rb") as handle:
        options = plistlib.load(handle)
    assert options == {
        "method": "app-store-connect",
        "teamID": TEAM_ID,
        "signingStyle": "manual",
        "signingCertificate": "Apple Distribution",
        "provisioningProfiles": {signed.bundle_id: signed.result.profile_name},
    }
    assert (exported.certificate_id, exported.team_id) == (signed.result.certificate_id, TEAM_ID)


def test_the_cli_export_is_audited_and_nothing_secret_reaches_output_logs_or_audit(
    signed: Signed, cli_settings: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out"
    caplog.set_level(logging.DEBUG)
    args = ["--tenant", TENANT, "--bundle-id", signed.bundle_id, "--out", str(out), "--operator", "alice"]
    result = CliRunner().invoke(app, ["signing", "export", *args])
    assert result.exit_code == 0, result.output
    assert f"to dir:{out}" in result.stdout
    assert signed.result.certificate_id in result.stdout
    assert set(os.listdir(out)) == expected_files(signed.bundle_id)

    events = [e for e in signed.ctx.audit.events() if e.action == "signing.identity_exported"]
    assert len(events) == 1
    event = events[0]
    assert (event.actor.kind, event.actor.id) == ("operator", "alice")
    assert (event.tenant, event.outcome) == (TENANT, "success")
    assert event.target.custody_id == signed.result.signing_custody_id
    assert (event.target.apple_type, event.target.apple_id) == ("certificates", signed.result.certificate_id)
    assert event.target.destination == f"dir:{out}"

    canary = secrets_of(signed)
    assert canary.scan_bytes((out / "distribution.p12.password").read_bytes(), "self-check") != []
    assert canary.scan_tree(signed.settings.audit_dir) == []
    said = [("stdout", result.stdout), ("stderr", result.stderr), ("logs", caplog.text)]
    assert canary.scan_strings(said) == []


def test_a_refused_export_says_why_and_what_to_do(signed: Signed, cli_settings: None, tmp_path: Path) -> None:
    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, ["signing", "export", *args])
        return result.exit_code, result.stderr

    code, err = run("--tenant", "globex", "--bundle-id", signed.bundle_id, "--out", str(tmp_path / "a"))
    assert code == 1
    assert "No App Store profile is kept for tenant 'globex'" in err
    assert "Next step: Run the onboarding" in err
    code, err = run("--tenant", TENANT, "--bundle-id", signed.bundle_id)
    assert (code, err.strip()) == (2, "Give exactly one of --out DIR and --to-s3 s3://bucket/prefix.")
    code, err = run("--tenant", "../../etc", "--bundle-id", signed.bundle_id, "--out", str(tmp_path / "b"))
    assert code == 1
    assert "tenant '../../etc' is not a tenant ID" in err
    code, err = run("--tenant", TENANT, "--bundle-id", signed.bundle_id, "--to-s3", "s3://bucket/p")
    assert code == 1
    assert "Export to S3 needs the S3 backend" in err
    assert not (tmp_path / "a").exists()
    assert not (tmp_path / "b").exists()
    assert [e for e in signed.ctx.audit.events() if e.action == "signing.identity_exported"] == []


def _non_empty(path: Path) -> None:
    path.mkdir(mode=0o700)
    (path / "old.p12").write_bytes(b"x")


def _group_readable(path: Path) -> None:
    path.mkdir()
    path.chmod(0o755)


def _a_file(path: Path) -> None:
    path.write_bytes(b"not a directory")


def _a_link(path: Path) -> None:
    target = path.with_name("elsewhere")
    target.mkdir(mode=0o700)
    path.symlink_to(target)


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_non_empty, "is not empty (1 entries, e.g. 'old.p12')"),
        (_group_readable, "is readable by other users (mode 0755)"),
        (_a_file, "is not a directory (a file or a symbolic link)"),
        (_a_link, "is not a directory (a file or a symbolic link)"),
    ],
)
def test_an_unsafe_directory_is_refused_and_nothing_is_written(
    signed: Signed, tmp_path: Path, make, says
) -> None:
    out = tmp_path / "out"
    make(out)
    before = sorted(p.name for p in out.iterdir()) if out.is_dir() else None
    with pytest.raises(ExportRefused) as refused:
        export_to_directory(
            signed.ctx.custody, tenant=TENANT, bundle_id=signed.bundle_id, out=out, actor=OPERATOR
        )
    assert says in refused.value.what
    assert str(out) in refused.value.what
    assert "chmod 700" in refused.value.next_step
    assert (sorted(p.name for p in out.iterdir()) if out.is_dir() else None) == before
    assert [e for e in signed.ctx.audit.events() if e.action == "signing.identity_exported"] == []


def test_an_export_the_audit_log_cannot_record_is_taken_back(
    signed: Signed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custody = signed.ctx.custody
    real_append = custody.audit.append

    def refuse_exports(event):
        if event.action == "signing.identity_exported":
            raise AuditWriteFailed("disk full")
        return real_append(event)

    monkeypatch.setattr(custody.audit, "append", refuse_exports)
    out = tmp_path / "out"
    with pytest.raises(ExportRefused) as refused:
        export_to_directory(custody, tenant=TENANT, bundle_id=signed.bundle_id, out=out, actor=OPERATOR)
    assert "could not record the export, so it was taken back" in refused.value.what
    assert os.listdir(out) == []


def test_an_identity_past_its_custody_expiry_is_not_exported(signed: Signed, tmp_path: Path) -> None:
    custody = signed.ctx.custody
    # The identity is kept while its certificate is valid (the service's, not the customer's key).
    assert signed.result.certificate_expires is not None
    later = signed.result.certificate_expires + timedelta(hours=1)
    custody.clock = lambda: later
    out = tmp_path / "out"
    with pytest.raises(ExportRefused) as refused:
        export_to_directory(custody, tenant=TENANT, bundle_id=signed.bundle_id, out=out, actor=OPERATOR)
    assert f"The signing identity {signed.result.signing_custody_id} cannot be opened" in refused.value.what
    assert "has expired" in refused.value.what
    assert refused.value.next_step.startswith("Run the onboarding's signing step again")
    assert not out.exists()
