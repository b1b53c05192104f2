"""The signing identity across releases: ascflow keeps it while its certificate is valid; when the next
release finds no private key for it (it expired and the cleanup destroyed it), the run makes a new certificate
within Apple's limit, never revoking the old one, and its summary says so and shows the expiry date."""

from __future__ import annotations

import pytest
from prefect.client.schemas.objects import StateType

from ascflow.audit import Actor
from tests.flows.stack import APPS, FlowStack, state_of

pytestmark = pytest.mark.slow

TENANT = "renew-games"
BUNDLE_ID = APPS["renew"]
SWEEP = Actor(kind="schedule", id="credential-cleanup")


def test_the_release_after_the_signing_identity_expired_makes_a_new_certificate_and_says_so(
    flow_stack: FlowStack,
) -> None:
    runs = []
    for release in (1, 2):
        key = flow_stack.new_key()
        custody_id = flow_stack.deposit(TENANT, BUNDLE_ID, key.key_id, key.p8)
        request = flow_stack.request(TENANT, BUNDLE_ID, custody_id, destroy_credentials="after_submission")
        run_id = flow_stack.start(request, idempotency_key=f"flows-renew:{custody_id}")
        run = flow_stack.wait_for_end(run_id, timeout=120)
        assert state_of(run) is StateType.COMPLETED, run.state
        runs.append(run_id)
        if release == 1:
            kept = [
                r for r in flow_stack.custody.list() if r.kind == "signing_identity" and r.tenant == TENANT
            ]
            assert len(kept) == 1
            flow_stack.custody.destroy(
                kept[0].id, actor=Actor(kind="schedule", id="credential-cleanup")
            )  # what the sweep does at expiry

    first, second = (flow_stack.summary_artifacts(run_id)[0] for run_id in runs)
    assert "certificate expires" in first
    assert "made a new distribution certificate: no private key held for a valid one at Apple" in second
    assert "certificate expires" in second
    kept = [r for r in flow_stack.custody.list() if r.kind == "signing_identity" and r.tenant == TENANT]
    assert len(kept) == 1
