"""What each backend promises on its own: file modes and overwrite (local); versions, markers, SSE-KMS and the
KMS encryption context (S3 + KMS on moto's server)."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from ascflow.audit import open_audit_log
from ascflow.custody import DeletionNotProven, KekUnusable, RecordTampered, open_custody
from ascflow.custody.aws import KmsKek, S3Store
from ascflow.custody.envelope import Envelope
from ascflow.custody.files import shred
from tests.custody.conftest import OPERATOR, Clock, Harness, make_settings
from tests.fixtures.aws import MotoAws
from tests.fixtures.keys import CustomerKey


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def local(tmp_path: Path) -> Harness:
    settings = make_settings("local", tmp_path / "data", None)
    audit = open_audit_log(settings)
    return Harness("local", settings, open_custody(settings, audit=audit), audit, Clock())


@pytest.fixture
def s3(tmp_path: Path, aws: MotoAws) -> Harness:
    settings = make_settings("s3", tmp_path / "data", aws)
    audit = open_audit_log(settings)
    return Harness("s3", settings, open_custody(settings, audit=audit), audit, Clock(), aws)


def test_local_files_are_private_and_the_kek_is_made_on_first_use(
    local: Harness, customer_key: CustomerKey
) -> None:
    kek = local.settings.keys_dir / "custody-kek.bin"
    assert not kek.exists()
    info = local.deposit(customer_key)
    record = local.settings.custody_dir / "records" / f"{info.id}.json"
    assert mode(kek) == 0o600
    assert kek.stat().st_size == 32
    assert mode(record) == 0o600
    for directory in (local.settings.custody_dir, record.parent, kek.parent):
        assert mode(directory) == 0o700
    assert customer_key.p8.encode() not in record.read_bytes()


def test_shred_overwrites_before_unlinking(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(b"A" * 4096)
    twin = tmp_path / "twin"
    twin.hardlink_to(path)  # a second name on the same inode shows what shred left in the data blocks
    assert shred(path) is True
    assert not path.exists()
    assert b"AAAA" not in twin.read_bytes()
    assert twin.stat().st_size == 4096
    assert shred(path) is False


def test_s3_objects_use_sse_kms_and_the_data_key_is_bound_to_the_context(
    s3: Harness, customer_key: CustomerKey
) -> None:
    info = s3.deposit(customer_key)
    assert s3.aws is not None
    head = s3.aws.client("s3").head_object(Bucket=s3.settings.custody_bucket, Key=f"records/{info.id}.json")
    assert head["ServerSideEncryption"] == "aws:kms"

    sealed = Envelope.from_bytes(s3.custody.store.get(f"records/{info.id}.json") or b"", info.id)
    kek = s3.custody.kek
    assert isinstance(kek, KmsKek)
    wrapped = base64.b64decode(sealed.wrapped_key)
    # moto enforces the encryption context like KMS does: without it, or with another ID, no data key.
    kms = s3.aws.client("kms")
    with pytest.raises(ClientError, match="InvalidCiphertextException"):
        kms.decrypt(CiphertextBlob=wrapped, KeyId=s3.settings.kms_key_id)
    with pytest.raises(RecordTampered):
        kek.unwrap(wrapped, sealed.header.context() | {"custody_id": "f" * 32})
    assert len(kek.unwrap(wrapped, sealed.header.context())) == 32


def test_s3_destroy_removes_old_versions_and_delete_markers_across_pages(
    s3: Harness, customer_key: CustomerKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = s3.deposit(customer_key)
    name = f"records/{info.id}.json"
    store = s3.custody.store
    assert isinstance(store, S3Store)
    store.page_size = 2  # force several pages of ListObjectVersions
    body = store.get(name) or b""
    client = store.client
    bucket = s3.settings.custody_bucket
    # History a real bucket can hold: overwritten versions and a delete marker under the live version.
    client.put_object(Bucket=bucket, Key=name, Body=body)
    client.delete_object(Bucket=bucket, Key=name)
    client.put_object(Bucket=bucket, Key=name, Body=body)
    client.put_object(Bucket=bucket, Key=name, Body=body)
    versions, markers = s3.s3_versions(name)
    assert (len(versions), len(markers)) == (4, 1)

    # Die after the first version is gone; the rerun must still account for every copy.
    calls = {"n": 0}
    delete_version = store._delete_version

    def dying(key: str, version_id: str) -> None:
        calls["n"] += 1
        delete_version(key, version_id)
        if calls["n"] == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(store, "_delete_version", dying)
    with pytest.raises(KeyboardInterrupt):
        s3.custody.destroy(info.id, actor=OPERATOR)
    monkeypatch.undo()
    assert s3.s3_versions(name) != ([], [])

    receipt = s3.custody.destroy(info.id, actor=OPERATOR)
    assert s3.s3_versions(name) == ([], [])
    removed = {entry.split("versionId=")[1].split("&")[0] for entry in receipt.removed}
    assert removed == set(versions) | set(markers)
    assert sum(entry.endswith("&deleteMarker=true") for entry in receipt.removed) == 1
    assert receipt.verify(s3.custody.receipt_public_key)


def test_a_world_readable_kek_is_refused(local: Harness, customer_key: CustomerKey) -> None:
    local.deposit(customer_key)
    kek = local.settings.keys_dir / "custody-kek.bin"
    kek.chmod(0o644)
    with pytest.raises(KekUnusable) as caught:
        local.deposit(customer_key)
    assert "chmod 600" in str(caught.value)


def test_copies_that_survive_deletion_block_the_receipt(
    tmp_path: Path, aws: MotoAws, customer_key: CustomerKey
) -> None:
    bucket = aws.versioned_bucket(object_lock=True)
    aws.client("s3").put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
        },
    )
    settings = make_settings("s3", tmp_path / "data", aws).model_copy(update={"custody_bucket": bucket})
    audit = open_audit_log(settings)
    h = Harness("s3", settings, open_custody(settings, audit=audit), audit, Clock(), aws)
    locked = h.deposit(customer_key)
    h.clock.advance(hours=settings.custody_ttl_hours)
    h.custody.clock = h.clock

    with pytest.raises(DeletionNotProven):
        h.custody.destroy(locked.id, actor=OPERATOR)
    assert h.custody.receipt(locked.id) is None
    assert not [e for e in audit.events() if e.action == "credentials.destroyed"]
    with pytest.raises(DeletionNotProven):
        h.custody.purge_expired(actor=OPERATOR)
