"""The service's real order under a real Prefect server: the run configures the account, then suspends for the
build (holding no worker); the build system hands the signed .ipa over through Prefect's API, or uploads the
build itself and the access poller finds it at Apple; either way the run completes."""

from __future__ import annotations

import pytest
from prefect.client.schemas.objects import StateType

from ascflow.audit import Action
from ascflow.pipeline.request import BuildSource
from ascflow.simulator.scenario import BuildSpec
from tests.fixtures.ipa import build_ipa
from tests.flows.stack import APPS, BUILD_NUMBER, NEW_VERSION, FlowStack, ended, state_of, suspended

pytestmark = pytest.mark.slow

TENANT = "await-games"


def start_waiting_run(flow_stack: FlowStack, bundle_id: str):
    key = flow_stack.new_key()
    custody_id = flow_stack.deposit(TENANT, bundle_id, key.key_id, key.p8)
    request = flow_stack.request(
        TENANT,
        bundle_id,
        custody_id,
        destroy_credentials="after_submission",
        build=BuildSource(build_number=BUILD_NUMBER, wait_for_build=True),
    )
    run_id = flow_stack.start(request, idempotency_key=f"flows-await:{custody_id}")
    run, _ = flow_stack.wait_until(run_id, lambda r: suspended(r) or ended(r), timeout=90, what="suspended")
    assert suspended(run), run.state
    assert run.state is not None
    assert run.state.state_details.pause_key == "await-build-1"
    done = [e.action for e in flow_stack.audit.events(TENANT) if e.target.run_id == str(run_id)]
    assert Action.SIGNING_PROFILE_ENSURED in done
    assert Action.TEAM_INVITED in done
    assert Action.BUILD_UPLOADED not in done
    return run_id, key


def test_the_build_system_hands_over_the_ipa_through_prefects_api(flow_stack: FlowStack, tmp_path) -> None:
    run_id, key = start_waiting_run(flow_stack, APPS["await"])
    ipa = build_ipa(tmp_path / "Signed.ipa", APPS["await"], NEW_VERSION, BUILD_NUMBER, extra_size=64 * 1024)
    with flow_stack.prefect.client() as client:
        client.resume_flow_run(run_id, run_input={"ipa": str(ipa), "checked_by": "build-machine-7"})
    run = flow_stack.wait_for_end(run_id, timeout=120)
    assert state_of(run) is StateType.COMPLETED, run.state
    posts = [r.path for r in flow_stack.apple_requests(key) if r.method == "POST"]
    assert posts.count("/v1/buildUploads") == 1


def test_a_build_uploaded_by_the_build_system_resumes_the_run_through_the_poller(
    flow_stack: FlowStack,
) -> None:
    run_id, key = start_waiting_run(flow_stack, APPS["await-poller"])
    app_id = flow_stack.apple_state().app(APPS["await-poller"])["id"]
    flow_stack.apple.control.add_build(
        app_id, BuildSpec(version=NEW_VERSION, build_number=BUILD_NUMBER, uses_non_exempt_encryption=False)
    )
    run = flow_stack.wait_for_end(run_id, timeout=120)
    assert state_of(run) is StateType.COMPLETED, run.state
    assert "Resuming" in flow_stack.state_history(run_id)
    assert not [
        r for r in flow_stack.apple_requests(key) if r.method == "POST" and r.path == "/v1/buildUploads"
    ]
