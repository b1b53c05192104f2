"""Signing assets are made once, and a crash at the worst moment still makes no second certificate."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from ascflow.connect.actions.signing import CertificateLimitReached
from ascflow.pipeline.job import Job
from ascflow.pipeline.signing import PENDING_PREFIX, ensure_signing
from ascflow.simulator.scenario import CertificateSpec
from tests.pipeline.conftest import deposit, request_for


def posts(apple, path: str) -> int:
    return sum(1 for r in apple.control.requests() if r.method == "POST" and r.path == path)


def test_signing_is_made_once_and_reused(simulator, make_context):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    first = ensure_signing(ctx, Job(request=request_for(simulator), custody_id=custody_id))
    again = ensure_signing(
        make_context(simulator), Job(request=request_for(simulator), custody_id=custody_id)
    )
    assert first.certificate_created
    assert first.profile_created
    assert not again.certificate_created
    assert not again.profile_created
    assert (again.certificate_id, again.profile_id) == (first.certificate_id, first.profile_id)
    assert posts(simulator, "/v1/certificates") == 1
    assert posts(simulator, "/v1/profiles") == 1
    identities = [r for r in ctx.custody.list() if r.kind == "signing_identity"]
    assert [r.key_id for r in identities] == [first.certificate_id]
    identity = ctx.custody.open_signing_identity(first.signing_custody_id, actor=ctx.actor)
    key, certificate, _ = pkcs12.load_key_and_certificates(
        identity.p12.get_secret_value(), identity.p12_password.get_secret_value().encode()
    )
    assert key is not None
    assert certificate is not None


def test_a_crash_after_apple_made_the_certificate_reuses_it_on_rerun(simulator, make_context, monkeypatch):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    real_deposit = ctx.custody.deposit_signing_identity
    calls = []

    def crash_on_the_full_identity(**fields):
        calls.append(fields["certificate_id"])
        if not fields["certificate_id"].startswith(PENDING_PREFIX):
            raise SystemExit("worker killed")  # the process dies between Apple's answer and our bookkeeping
        return real_deposit(**fields)

    monkeypatch.setattr(ctx.custody, "deposit_signing_identity", crash_on_the_full_identity)
    with pytest.raises(SystemExit):
        ensure_signing(ctx, Job(request=request_for(simulator), custody_id=custody_id))
    assert posts(simulator, "/v1/certificates") == 1
    assert calls[0].startswith(PENDING_PREFIX)

    rerun = make_context(simulator)
    result = ensure_signing(rerun, Job(request=request_for(simulator), custody_id=custody_id))
    assert not result.certificate_created
    assert posts(simulator, "/v1/certificates") == 1
    kept = [r for r in rerun.custody.list() if r.kind == "signing_identity"]
    assert [r.key_id for r in kept] == [result.certificate_id]


def test_at_the_certificate_limit_nothing_is_revoked_and_the_operator_is_told_what_to_ask(
    start_simulator, make_context
):
    apple = start_simulator(certificates=[CertificateSpec(name=f"Their CI {n}") for n in range(3)])
    ctx = make_context(apple)
    with pytest.raises(CertificateLimitReached) as failure:
        ensure_signing(ctx, Job(request=request_for(apple), custody_id=deposit(ctx, apple.admin_key)))
    assert "which of these certificates may be revoked" in failure.value.next_step
    theirs = apple.control.state()["certificates"]
    assert len(theirs) == 3
    assert all(cert["id"] in failure.value.what for cert in theirs)
    assert not [r for r in apple.control.requests() if r.method == "DELETE"]


def test_the_identity_is_kept_while_its_certificate_is_valid_and_a_lost_one_is_replaced(
    simulator, make_context
):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    first = ensure_signing(ctx, Job(request=request_for(simulator), custody_id=custody_id))
    (identity,) = [r for r in ctx.custody.list() if r.kind == "signing_identity"]
    # The service's identity outlives the customer's key (kept for the custody TTL only).
    assert first.certificate_expires is not None
    assert identity.expires_at == first.certificate_expires
    assert "certificate expires" in first.outcome()

    ctx.custody.destroy(identity.id, actor=ctx.actor)  # expired and swept, or lost
    second = ensure_signing(
        make_context(simulator), Job(request=request_for(simulator), custody_id=custody_id)
    )
    assert second.certificate_created
    assert second.certificate_id != first.certificate_id
    assert second.certificate_changes == [
        "made a new distribution certificate: no private key held for a valid one at Apple"
    ]
    assert "no private key held" in second.outcome()
    # The first certificate is not ascflow's to revoke once its key is gone: it stays.
    ids = {c["id"] for c in simulator.control.state()["certificates"]}
    assert {first.certificate_id, second.certificate_id} <= ids
