"""Runs that cannot succeed: they stop at once, say what the operator must do, and keep or destroy the key."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from prefect.client.schemas.objects import StateType

from ascflow.audit import Action
from ascflow.simulator.scenario import AppSpec, CertificateSpec, KeySpec, Scenario
from ascflow.simulator.server import SimulatorServer
from tests.fixtures.keys import new_key_id
from tests.flows.run_directly import RESULT
from tests.flows.stack import APPS, TIME_SCALE, FlowStack, message_of, state_of

pytestmark = pytest.mark.slow

LIMIT_TENANT = "limit-games"
LIMIT_BUNDLE_ID = "com.example.flows.limit"
DISTRIBUTION_LIMIT = 3
INVALID_TENANT = "invalid-games"


def test_a_key_at_the_certificate_limit_fails_with_the_operators_next_step(flow_stack: FlowStack) -> None:
    key = flow_stack.make_key()
    # The customer's team already holds as many distribution certificates as Apple allows, none of them ours.
    full_team = Scenario(
        issuer_id=flow_stack.issuer_id,
        keys=[KeySpec(key_id=key.key_id, public_key_pem=key.public_pem, role="ADMIN")],
        apps=[AppSpec(name="Limit Game", bundle_id=LIMIT_BUNDLE_ID, sku="LIMIT-001")],
        certificates=[CertificateSpec(name=f"Customer's own {n}") for n in range(DISTRIBUTION_LIMIT)],
        certificate_limits={"DISTRIBUTION": DISTRIBUTION_LIMIT, "IOS_DISTRIBUTION": DISTRIBUTION_LIMIT},
        time_scale=TIME_SCALE,
    )
    custody_id = flow_stack.deposit(LIMIT_TENANT, LIMIT_BUNDLE_ID, key.key_id, key.p8)
    request = flow_stack.request(LIMIT_TENANT, LIMIT_BUNDLE_ID, custody_id)
    with SimulatorServer(full_team) as apple:
        blocking = [c["id"] for c in apple.control.state()["certificates"]]
        outcome = run_directly(flow_stack, request.model_dump_json(), asc_base_url=apple.base_url)
        log = apple.control.requests()
        after = [c["id"] for c in apple.control.state()["certificates"]]

    assert outcome["type"] == StateType.FAILED.value, outcome
    run = flow_stack.flow_run(UUID(outcome["flow_run_id"]))
    assert state_of(run) is StateType.FAILED
    for text in (outcome["error"], message_of(run)):
        assert text, outcome
        for certificate_id in blocking:
            assert certificate_id in text, f"{certificate_id} not named in: {text}"
        assert "Ask the customer which of these certificates may be revoked" in text, text
    assert sorted(after) == sorted(blocking)
    assert not [r for r in log if r.method == "DELETE" and r.path.startswith("/v1/certificates")]
    # Nobody was e-mailed an invitation to a run that stopped before it could publish anything.
    assert not [r for r in log if r.method == "POST" and r.path == "/v1/userInvitations"]
    (summary,) = flow_stack.summary_artifacts(UUID(outcome["flow_run_id"]))
    assert "stays in custody until it expires" in summary, summary
    assert "Destroyed at" not in summary
    assert custody_id in {r.id for r in flow_stack.custody.list() if r.kind == "api_key"}
    assert flow_stack.custody.receipt(custody_id) is None


def test_an_invalid_key_fails_fast_and_is_destroyed(flow_stack: FlowStack) -> None:
    key_id = new_key_id()
    custody_id = flow_stack.deposit(INVALID_TENANT, APPS["invalid"], key_id, p384_key())
    run_id = flow_stack.start(
        flow_stack.request(INVALID_TENANT, APPS["invalid"], custody_id),
        idempotency_key=f"flows-invalid:{custody_id}",
    )
    run = flow_stack.wait_for_end(run_id, timeout=60)

    assert state_of(run) is StateType.FAILED, run.state
    assert run.total_run_time.total_seconds() < 10, run.total_run_time
    assert "Suspended" not in flow_stack.state_history(run_id)
    message = message_of(run)
    assert "CredentialsRejected" in message, message
    assert "checked here, before asking Apple" in message, message
    assert "generate a new Admin team key" in message, message
    # The strict loader refused it before anything reached Apple.
    assert [r for r in flow_stack.apple.control.requests() if r.key_id == key_id] == []
    assert custody_id not in {r.id for r in flow_stack.custody.list()}
    receipt = flow_stack.custody.receipt(custody_id)
    assert receipt is not None
    assert receipt.verify(flow_stack.custody.receipt_public_key)
    # The failure summary says what happened to the key: destroyed, with its receipt and the reminder.
    (summary,) = flow_stack.summary_artifacts(run_id)
    assert "stays in custody" not in summary, summary
    assert f"signed receipt for custody `{custody_id}`" in summary, summary
    assert receipt.next_step in summary
    assert "Revoke" in receipt.next_step
    validated = [
        e
        for e in flow_stack.audit.events(INVALID_TENANT)
        if e.action is Action.CREDENTIALS_VALIDATED and e.target.custody_id == custody_id
    ]
    assert [(e.outcome, e.error_code) for e in validated] == [("denied", "INVALID_KEY")]


def run_directly(flow_stack: FlowStack, request_json: str, *, asc_base_url: str) -> dict[str, Any]:
    """Run the flow in a new process against the suite's Prefect server and another App Store Connect."""
    env = {**flow_stack.prefect.env, "ASCFLOW_ASC_BASE_URL": asc_base_url}
    done = subprocess.run(
        [sys.executable, "-m", "tests.flows.run_directly", request_json],
        env=env,
        cwd=flow_stack.prefect.project_dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith(RESULT))
    outcome: dict[str, Any] = json.loads(line.removeprefix(RESULT))
    return outcome


def p384_key() -> str:
    """A readable private key that App Store Connect never issues (its keys are P-256)."""
    return (
        ec.generate_private_key(ec.SECP384R1())
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
