"""Agreements that lapse in the middle of a run (Apple publishes new ones at any time) make the run wait exactly
as at the start: suspended with the Resume form, resumed by the poller once the Account Holder has accepted
them, and then it goes on where it stopped. The advice it prints ("resume the run") works in that state."""

from __future__ import annotations

import pytest
from prefect.client.schemas.objects import StateType
from prefect.input import read_flow_run_input
from prefect.settings import PREFECT_API_URL, temporary_settings

from ascflow.audit import Action
from ascflow.pipeline.waiting import Waiting
from ascflow.simulator.faults import FaultPlan, FaultRule
from tests.flows.stack import APPS, FlowStack, ended, state_of, suspended

pytestmark = pytest.mark.slow

TENANT = "agreements-games"
BUNDLE_ID = APPS["agreements"]


def test_agreements_lapsing_mid_run_suspend_it_and_the_poller_resumes_it(flow_stack: FlowStack) -> None:
    key = flow_stack.new_key()
    custody_id = flow_stack.deposit(TENANT, BUNDLE_ID, key.key_id, key.p8)
    request = flow_stack.request(TENANT, BUNDLE_ID, custody_id, destroy_credentials="after_submission")
    apple = flow_stack.apple.control
    # The build's reservation is held back long enough for the agreements to lapse while the run is in it.
    apple.set_faults(
        FaultPlan(
            rules=[
                FaultRule(
                    kind="latency", path="/v1/buildUploads", methods=["POST"], latency_seconds=4, count=1
                )
            ]
        )
    )
    try:
        run_id = flow_stack.start(request, idempotency_key=f"flows-agreements:{custody_id}")
        flow_stack.wait_until(
            run_id,
            lambda r: (
                ended(r)
                or any(
                    e.action is Action.SIGNING_PROFILE_ENSURED and e.target.run_id == str(r.id)
                    for e in flow_stack.audit.events(TENANT)
                )
            ),
            timeout=90,
            what="signed",
        )
        apple.set_agreements(False)
        run, _ = flow_stack.wait_until(
            run_id, lambda r: suspended(r) or ended(r), timeout=60, what="suspended"
        )
        assert suspended(run), run.state
        pause_key = run.state.state_details.pause_key if run.state else None
        # The upload (held back by the latency) or the invitations beside it: whichever Apple refused first.
        assert pause_key in ("upload-build-1", "invite-team-1"), pause_key
        with temporary_settings({PREFECT_API_URL: flow_stack.prefect.api_url}):
            waiting = Waiting.model_validate(
                read_flow_run_input(Waiting.input_key(pause_key), flow_run_id=run_id)
            )
        assert (waiting.kind, waiting.step, waiting.custody_id) == ("access", pause_key[:-2], custody_id)
        # While Apple refuses, the poller leaves it waiting.
        flow_stack.wait_until(run_id, suspended, timeout=10, what="still suspended")
    finally:
        apple.set_agreements(True)
        apple.clear_faults()

    run, _history = flow_stack.wait_until(run_id, ended, timeout=120, what="finished")
    assert state_of(run) is StateType.COMPLETED, run.state
    assert "Resuming" in flow_stack.state_history(run_id)
    events = [e for e in flow_stack.audit.events(TENANT) if e.target.run_id == str(run_id)]
    waited = [e for e in events if e.action is Action.ACCESS_WAITING]
    # Every step Apple refused meanwhile (the invitations run beside the upload) waited, none failed.
    assert waited
    assert {(e.outcome, e.error_code) for e in waited} == {
        ("denied", "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED")
    }
    # What Apple made (refused attempts aside): nothing twice.
    posts = [
        f"{r.method} {r.path}"
        for r in flow_stack.apple_requests(key)
        if r.method == "POST" and r.status is not None and r.status < 300
    ]
    assert posts.count("POST /v1/certificates") <= 1
    assert posts.count("POST /v1/userInvitations") == 1
    assert posts.count("POST /v1/reviewSubmissions") == 1
