"""Custody on both backends: encrypt, read, expiry, swapped IDs, destroy, double destroy, crashes, races."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from ascflow.audit import Action, open_audit_log
from ascflow.custody import (
    AuditUnavailable,
    CustodyInput,
    DeletionReceipt,
    RecordDestroyed,
    RecordExpired,
    RecordTampered,
    UnknownRecord,
    open_custody,
)
from ascflow.custody.envelope import Envelope
from ascflow.settings import Settings
from tests.custody.conftest import OPERATOR, TENANT, Harness
from tests.custody.worker import destroy_in_process
from tests.fixtures.keys import CustomerKey, make_customer_key

DESTROY_STEPS = ["intent_recorded", "removed", "verified_absent", "audited", "receipt_stored"]


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing in custody can swallow it."""


def spki_sha256(public_pem: str) -> str:
    public = serialization.load_pem_public_key(public_pem.encode())
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def events(h: Harness, action: Action, custody_id: str) -> list[Any]:
    return [e for e in h.audit.events() if e.action == action and e.target.custody_id == custody_id]


def test_deposit_then_open_returns_the_key(harness: Harness, customer_key: CustomerKey) -> None:
    info = harness.deposit(customer_key)
    assert (info.tenant, info.key_id, info.kind) == (TENANT, customer_key.key_id, "api_key")
    assert info.fingerprint == spki_sha256(customer_key.public_pem)
    assert info.expires_at - info.created_at == harness.custody.ttl

    creds = harness.custody.open(info.id, actor=OPERATOR)
    assert creds.p8.get_secret_value() == customer_key.p8
    assert creds.issuer_id.get_secret_value() == customer_key.issuer_id
    assert creds.key_id == customer_key.key_id
    assert harness.custody.list() == [info]
    assert [e.outcome for e in events(harness, Action.CREDENTIALS_DEPOSITED, info.id)] == ["success"]
    assert [e.outcome for e in events(harness, Action.CREDENTIALS_OPENED, info.id)] == ["success"]


def test_each_record_gets_a_fresh_data_key(harness: Harness, customer_key: CustomerKey) -> None:
    first, second = harness.deposit(customer_key), harness.deposit(customer_key)
    stored = [
        Envelope.from_bytes(harness.custody.store.get(f"records/{i.id}.json") or b"", i.id)
        for i in (first, second)
    ]
    assert stored[0].wrapped_key != stored[1].wrapped_key
    assert stored[0].ciphertext != stored[1].ciphertext
    assert {e.kek for e in stored} == {"local" if harness.backend == "local" else "kms"}


def test_a_record_under_another_id_or_with_an_edited_header_does_not_decrypt(
    harness: Harness, customer_key: CustomerKey
) -> None:
    victim, other = harness.deposit(customer_key), harness.deposit(make_customer_key())
    store = harness.custody.store
    sealed = Envelope.from_bytes(store.get(f"records/{victim.id}.json") or b"", victim.id)

    # The whole document copied over another record: the header names the wrong ID.
    store.put(f"records/{other.id}.json", sealed.to_bytes())
    with pytest.raises(RecordTampered):
        harness.custody.open(other.id, actor=OPERATOR)

    # The ID swapped inside the header too: the associated data no longer matches.
    swapped = sealed.model_copy(update={"header": sealed.header.model_copy(update={"id": other.id})})
    store.put(f"records/{other.id}.json", swapped.to_bytes())
    with pytest.raises(RecordTampered):
        harness.custody.open(other.id, actor=OPERATOR)

    # The expiry pushed out: same.
    later = sealed.header.model_copy(update={"expires_at": sealed.header.expires_at.replace(year=2999)})
    store.put(f"records/{victim.id}.json", sealed.model_copy(update={"header": later}).to_bytes())
    with pytest.raises(RecordTampered):
        harness.custody.open(victim.id, actor=OPERATOR)
    assert [e.error_code for e in events(harness, Action.CREDENTIALS_OPENED, victim.id)] == [
        "CUSTODY_TAMPERED"
    ]


def test_an_expired_record_is_never_decrypted_and_purge_destroys_it(
    harness: Harness, customer_key: CustomerKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = harness.deposit(customer_key)
    other = harness.deposit(make_customer_key())
    unwrapped: list[str] = []
    real_unwrap = harness.custody.kek.unwrap

    def spy(wrapped: bytes, context: dict[str, str]) -> bytes:
        unwrapped.append(context["custody_id"])
        return real_unwrap(wrapped, context)

    monkeypatch.setattr(harness.custody.kek, "unwrap", spy)
    harness.custody.open(info.id, actor=OPERATOR)
    assert unwrapped == [info.id]  # the spy does see a live record's data key being unwrapped

    harness.clock.advance(hours=harness.settings.custody_ttl_hours)
    with pytest.raises(RecordExpired) as caught:
        harness.custody.open(info.id, actor=OPERATOR)
    assert unwrapped == [info.id]
    assert caught.value.code == "custody_expired"
    assert [(e.outcome, e.error_code) for e in events(harness, Action.CREDENTIALS_EXPIRED, info.id)] == [
        ("denied", "CUSTODY_EXPIRED")
    ]

    receipts = harness.custody.purge_expired(actor=OPERATOR)
    assert {r.custody_id for r in receipts} == {info.id, other.id}
    assert harness.custody.list() == []
    assert harness.leftovers(info.id) == []
    with pytest.raises(RecordDestroyed):
        harness.custody.open(info.id, actor=OPERATOR)


def test_purge_leaves_live_records(harness: Harness, customer_key: CustomerKey) -> None:
    old = harness.deposit(customer_key)
    harness.clock.advance(hours=harness.settings.custody_ttl_hours / 2)
    young = harness.deposit(make_customer_key())
    harness.clock.advance(hours=harness.settings.custody_ttl_hours / 2)
    assert [r.custody_id for r in harness.custody.purge_expired(actor=OPERATOR)] == [old.id]
    assert harness.custody.list() == [young]
    assert harness.custody.open(young.id, actor=OPERATOR).key_id == young.key_id


def test_destroy_removes_every_copy_and_issues_a_verifiable_receipt(
    harness: Harness, customer_key: CustomerKey
) -> None:
    info = harness.deposit(customer_key)
    receipt = harness.custody.destroy(info.id, actor=OPERATOR)

    assert harness.leftovers(info.id) == []
    assert receipt.verify(harness.custody.receipt_public_key)
    assert receipt.verify(harness.custody.receipt_public_key.pem)
    assert not receipt.model_copy(update={"key_id": "ZZZZZZZZZZ"}).verify(harness.custody.receipt_public_key)
    assert (receipt.custody_id, receipt.key_id, receipt.key_fingerprint) == (
        info.id,
        customer_key.key_id,
        spki_sha256(customer_key.public_pem),
    )
    assert "Revoke the key now in App Store Connect" in receipt.next_step
    if harness.backend == "local":
        assert receipt.removed == [f"file:{harness.settings.custody_dir / 'records' / f'{info.id}.json'}"]
    else:
        assert len(receipt.removed) == 1
        assert receipt.removed[0].startswith(
            f"s3://{harness.settings.custody_bucket}/records/{info.id}.json?versionId="
        )

    [event] = events(harness, Action.CREDENTIALS_DESTROYED, info.id)
    assert (event.seq, event.hash) == (receipt.audit_seq, receipt.audit_hash)
    assert harness.custody.list() == []
    with pytest.raises(RecordDestroyed):
        harness.custody.open(info.id, actor=OPERATOR)


def test_destroying_twice_returns_the_same_receipt(harness: Harness, customer_key: CustomerKey) -> None:
    info = harness.deposit(customer_key)
    first = harness.custody.destroy(info.id, actor=OPERATOR)
    second = harness.custody.destroy(info.id, actor=OPERATOR)
    assert second == first
    assert len(events(harness, Action.CREDENTIALS_DESTROYED, info.id)) == 1
    assert harness.custody.store.names("pending") == []


@pytest.mark.parametrize("step", DESTROY_STEPS)
def test_destroy_after_a_crash_at_each_step_converges(
    harness: Harness, customer_key: CustomerKey, step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = harness.deposit(customer_key)

    def crash(reached: str) -> None:
        if reached == step:
            raise Crash(step)

    monkeypatch.setattr(harness.custody, "_reached", crash)
    with pytest.raises(Crash):
        harness.custody.destroy(info.id, actor=OPERATOR)
    monkeypatch.undo()
    with pytest.raises(RecordDestroyed):  # once destruction has begun, the key is not handed out again
        harness.custody.open(info.id, actor=OPERATOR)

    # The sweep finds the interrupted destruction by itself, whether or not the record is still there.
    [receipt] = harness.custody.purge_expired(actor=OPERATOR)
    assert receipt.custody_id == info.id
    assert receipt.verify(harness.custody.receipt_public_key)
    assert harness.leftovers(info.id) == []
    assert harness.custody.store.names("pending") == []
    assert harness.custody.destroy(info.id, actor=OPERATOR) == receipt
    destroyed = events(harness, Action.CREDENTIALS_DESTROYED, info.id)
    assert len(destroyed) == 1  # the audit position survives the crash: no second event
    assert (destroyed[0].seq, destroyed[0].hash) == (receipt.audit_seq, receipt.audit_hash)
    assert len(receipt.removed) == 1


def test_racing_destroys_agree_on_one_receipt(harness: Harness, customer_key: CustomerKey) -> None:
    info = harness.deposit(customer_key)
    workers = 6
    barrier = threading.Barrier(workers)
    results: list[DeletionReceipt] = []
    failures: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            results.append(harness.custody.destroy(info.id, actor=OPERATOR))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert failures == []
    assert len(results) == workers
    assert len({r.model_dump_json() for r in results}) == 1
    assert results[0].verify(harness.custody.receipt_public_key)
    assert harness.custody.receipt(info.id) == results[0]
    assert harness.leftovers(info.id) == []
    assert harness.custody.store.names("pending") == []


def test_unknown_and_malformed_ids_are_refused_without_echo(harness: Harness) -> None:
    for bad in ("../../etc/passwd", "0" * 32):
        for call in (harness.custody.open, harness.custody.destroy):
            with pytest.raises(UnknownRecord) as caught:
                call(bad, actor=OPERATOR)
            assert "passwd" not in str(caught.value)
    assert harness.custody.receipt("../x") is None


def test_audit_failure_fails_closed(harness: Harness, customer_key: CustomerKey) -> None:
    events_file = harness.settings.audit_dir / "events.jsonl"
    info = harness.deposit(customer_key)
    events_file.rename(events_file.with_suffix(".bak"))
    events_file.mkdir()  # a real failure: the log file is unwritable

    with pytest.raises(AuditUnavailable):
        harness.deposit(make_customer_key())
    assert harness.custody.list() == [info]  # the unrecorded deposit was taken back out
    with pytest.raises(AuditUnavailable):
        harness.custody.open(info.id, actor=OPERATOR)
    with pytest.raises(AuditUnavailable):
        harness.custody.destroy(info.id, actor=OPERATOR)
    assert harness.custody.receipt(info.id) is None

    events_file.rmdir()
    events_file.with_suffix(".bak").rename(events_file)
    receipt = harness.custody.destroy(info.id, actor=OPERATOR)
    assert receipt.verify(harness.custody.receipt_public_key)
    assert harness.leftovers(info.id) == []


def test_signing_identities_are_kept_per_team_and_destroyed_like_keys(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from pydantic import SecretBytes, SecretStr

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    team = "69a6de70-03db-47e3-e053-5b8c7c11a4d1"
    info = harness.custody.deposit_signing_identity(
        tenant=TENANT,
        issuer_id=team,
        certificate_id="ABCDEF1234",
        private_key_pem=SecretBytes(pem),
        p12=SecretBytes(b"\x30\x82p12-bytes"),
        p12_password=SecretStr("correct horse battery"),
        actor=OPERATOR,
    )
    assert (info.kind, info.key_id) == ("signing_identity", "ABCDEF1234")
    assert harness.custody.signing_keys(TENANT, team) == [pem]
    assert harness.custody.signing_keys(TENANT, "another-team") == []
    assert harness.custody.signing_keys("globex", team) == []
    identity = harness.custody.open_signing_identity(info.id, actor=OPERATOR)
    assert identity.p12.get_secret_value() == b"\x30\x82p12-bytes"
    assert identity.p12_password.get_secret_value() == "correct horse battery"
    with pytest.raises(UnknownRecord):
        harness.custody.open(info.id, actor=OPERATOR)  # not an API key record

    # A second identity whose destruction a crash interrupted is no longer offered for reuse.
    doomed = harness.custody.deposit_signing_identity(
        tenant=TENANT,
        issuer_id=team,
        certificate_id="DOOMED0001",
        private_key_pem=SecretBytes(pem),
        p12=SecretBytes(b"p12"),
        p12_password=SecretStr("pw"),
        actor=OPERATOR,
    )
    assert harness.custody.signing_keys(TENANT, team) == [pem, pem]

    def crash(reached: str) -> None:
        if reached == "intent_recorded":
            raise Crash(reached)

    monkeypatch.setattr(harness.custody, "_reached", crash)
    with pytest.raises(Crash):
        harness.custody.destroy(doomed.id, actor=OPERATOR)
    monkeypatch.undo()
    assert doomed in harness.custody.list()
    assert harness.custody.signing_keys(TENANT, team) == [pem]

    receipt = harness.custody.destroy(info.id, actor=OPERATOR)
    assert receipt.kind == "signing_identity"
    assert receipt.verify(harness.custody.receipt_public_key)
    # ascflow's own signing keys are named apart from the customer's key in the audit trail.
    theirs = [
        e.action.value for e in harness.audit.events(TENANT) if e.target.custody_id in (info.id, doomed.id)
    ]
    assert "signing_key.deposited" in theirs
    assert "signing_key.destroyed" in theirs
    assert not [action for action in theirs if action.startswith("credentials.")]
    assert harness.custody.signing_keys(TENANT, team) == []


def test_list_shows_headers_only(harness: Harness, customer_key: CustomerKey) -> None:
    info = harness.deposit(customer_key)
    shown = json.dumps([i.model_dump(mode="json") for i in harness.custody.list()])
    assert info.id in shown
    assert customer_key.issuer_id not in shown
    assert customer_key.p8.splitlines()[2] not in shown


def test_racing_destroys_in_separate_processes(tmp_path: Path, customer_key: CustomerKey) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    audit = open_audit_log(settings)
    custody = open_custody(settings, audit=audit)
    info = custody.deposit(
        CustodyInput(
            tenant=TENANT, key_id=customer_key.key_id, issuer_id=customer_key.issuer_id, p8=customer_key.p8
        ),
        actor=OPERATOR,
    )
    ctx = multiprocessing.get_context("spawn")
    workers = 3
    barrier, results = ctx.Barrier(workers), ctx.Queue()
    processes = [
        ctx.Process(target=destroy_in_process, args=(str(settings.data_dir), info.id, barrier, results))
        for _ in range(workers)
    ]
    for p in processes:
        p.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for p in processes:
        p.join(timeout=30)
    assert [kind for kind, _ in outcomes] == ["ok"] * workers, outcomes
    assert len({text for _, text in outcomes}) == 1
    assert custody.receipt(info.id) == DeletionReceipt.model_validate_json(outcomes[0][1])
    assert not (settings.custody_dir / "records" / f"{info.id}.json").exists()
    assert custody.store.names("pending") == []
