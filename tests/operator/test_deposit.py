"""`ascflow custody deposit`: the intake's strict key checks from a shell. A good key (file or stdin) is sealed
and only its custody ID, expiry and public identifiers are printed; a bad one is refused naming the option,
with exit code 2, and nothing is stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from typer.testing import CliRunner

from ascflow.audit import Actor, open_audit_log
from ascflow.cli import app
from ascflow.custody import Custody, open_custody
from ascflow.settings import Settings, get_settings
from tests.fixtures.canary import CanaryKey
from tests.fixtures.keys import make_customer_key


@pytest.fixture
def custody(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Custody]:
    monkeypatch.setenv("ASCFLOW_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    settings = Settings()
    yield open_custody(settings, audit=open_audit_log(settings))
    get_settings.cache_clear()


def deposit(
    key_id: str, issuer_id: str, key_file: str, stdin: str | None = None, tenant: str = "acme-games"
) -> tuple[int, str, str]:
    args = ["custody", "deposit", "--tenant", tenant, "--bundle-id", "com.acme.game"]
    args += ["--key-id", key_id, "--issuer-id", issuer_id, "--key-file", key_file, "--operator", "alice"]
    result = CliRunner().invoke(app, args, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_a_good_key_file_is_sealed_and_only_its_custody_id_printed(
    custody: Custody, canary_key: CanaryKey, tmp_path: Path
) -> None:
    key = canary_key.key
    path = tmp_path / key.filename
    path.write_text(key.p8)
    code, out, err = deposit(key.key_id, key.issuer_id, str(path))
    assert (code, err) == (0, "")
    [record] = custody.list()
    assert (record.tenant, record.app_bundle_id, record.key_id) == ("acme-games", "com.acme.game", key.key_id)
    assert f"custody ID: {record.id}" in out
    assert record.expires_at.isoformat(timespec="seconds") in out
    assert canary_key.scanner.scan_text(out, "deposit output") == []
    assert key.issuer_id not in out
    opened = custody.open(record.id, actor=Actor(kind="operator", id="test"))
    assert (opened.p8.get_secret_value(), opened.issuer_id.get_secret_value()) == (key.p8, key.issuer_id)
    assert [e.actor.id for e in custody.audit.events() if e.action == "credentials.deposited"] == ["alice"]


def test_the_key_on_stdin(custody: Custody) -> None:
    key = make_customer_key()
    code, out, _ = deposit(key.key_id, key.issuer_id, "-", stdin=key.p8)
    assert code == 0
    [record] = custody.list()
    assert f"custody ID: {record.id}" in out


@pytest.mark.parametrize(
    ("change", "option", "problem"),
    [
        ("file name of another key", "--key-file", "names a different key ID than the one entered"),
        ("P-384 key", "--key-file", "the key file"),
        ("issuer ID", "--issuer-id", "must be a UUID"),
        ("key ID", "--key-id", "must be exactly 10 characters"),
        ("tenant", "--tenant", "use lower-case letters, digits and -"),
    ],
)
def test_a_bad_key_is_refused_by_option_and_nothing_is_stored(
    custody: Custody, tmp_path: Path, change: str, option: str, problem: str
) -> None:
    key = make_customer_key()
    p8, key_id, issuer_id, name = key.p8, key.key_id, key.issuer_id, key.filename
    if change == "file name of another key":
        name = "AuthKey_ABCDEFGHIJ.p8"
    elif change == "P-384 key":
        p8 = (
            ec.generate_private_key(ec.SECP384R1())
            .private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            .decode()
        )
    elif change == "issuer ID":
        issuer_id = "not-a-uuid"
    elif change == "key ID":
        key_id, name = "short", "AuthKey_short.p8"
    path = tmp_path / name
    path.write_text(p8)
    code, out, err = deposit(
        key_id, issuer_id, str(path), tenant="Acme_Games" if change == "tenant" else "acme"
    )
    assert code == 2
    assert err.startswith(f"error: {option}: ")
    assert problem in err
    assert err.rstrip().endswith("Nothing was stored.")
    assert out == ""
    assert p8.splitlines()[1] not in err
    assert custody.list() == []
    assert list(custody.audit.events()) == []


def test_an_unreadable_key_file_is_named(custody: Custody, tmp_path: Path) -> None:
    key = make_customer_key()
    code, _, err = deposit(key.key_id, key.issuer_id, str(tmp_path / key.filename))
    assert code == 2
    assert "--key-file: cannot read the file (No such file or directory)" in err
    assert custody.list() == []
