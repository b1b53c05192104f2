"""The credential-cleanup deployment: the backstop that destroys what no run destroyed before it expired."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from prefect.client.schemas.objects import StateType
from pydantic import SecretStr

from ascflow.audit import Action, Actor
from ascflow.custody import CustodyInput, open_custody
from tests.flows.stack import FlowStack, state_of

pytestmark = pytest.mark.slow

TENANT = "expired-games"
CLEANUP = "credential-cleanup/credential-cleanup"


def test_the_cleanup_flow_destroys_an_expired_record(flow_stack: FlowStack) -> None:
    key = flow_stack.make_key()
    # Deposited for one second, as if the customer had uploaded it days ago and no run ever used it.
    brief = open_custody(
        flow_stack.settings.model_copy(update={"custody_ttl_hours": 1 / 3600}), audit=flow_stack.audit
    )
    record = brief.deposit(
        CustodyInput(
            tenant=TENANT, key_id=key.key_id, issuer_id=SecretStr(key.issuer_id), p8=SecretStr(key.p8)
        ),
        actor=Actor(kind="customer", id=TENANT),
    )
    time.sleep(max(0.0, (record.expires_at - datetime.now(UTC)).total_seconds()))

    with flow_stack.prefect.client() as client:
        run = client.create_flow_run_from_deployment(client.read_deployment_by_name(CLEANUP).id)
    finished = flow_stack.wait_for_end(run.id, timeout=60)

    assert state_of(finished) is StateType.COMPLETED, finished.state
    assert record.id not in {r.id for r in flow_stack.custody.list()}
    receipt = flow_stack.custody.receipt(record.id)
    assert receipt is not None
    assert receipt.verify(flow_stack.custody.receipt_public_key)
    destroyed = [
        e
        for e in flow_stack.audit.events(TENANT)
        if e.action is Action.CREDENTIALS_DESTROYED and e.target.custody_id == record.id
    ]
    assert [(e.actor.kind, e.actor.id, e.outcome) for e in destroyed] == [
        ("schedule", "credential-cleanup", "success")
    ]
    assert receipt.audit_seq == destroyed[0].seq
