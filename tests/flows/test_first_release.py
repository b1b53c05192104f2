"""A first release under a real Prefect server: the listing applied, the run suspended until the App Privacy
answers are published (by a person, here through the simulator's control API), resumed by the poller, and
submitted; a second run for the same release writes nothing at Apple and uploads no screenshot."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from prefect.client.schemas.objects import StateType

from ascflow.listing import ListingSource, write_example_screenshots
from tests.fixtures.ipa import build_ipa
from tests.flows.stack import APPS, BUILD_NUMBER, FlowStack, ended, state_of, suspended

pytestmark = pytest.mark.slow

TENANT = "first-games"
BUNDLE_ID = APPS["first"]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "listing.yaml"
WRITES = ("POST", "PATCH", "PUT", "DELETE")


def test_a_first_release_waits_for_app_privacy_is_submitted_and_a_rerun_writes_nothing(
    flow_stack: FlowStack, tmp_path: Path
) -> None:
    listing = tmp_path / "listing.yaml"
    shutil.copyfile(EXAMPLE, listing)
    write_example_screenshots(tmp_path / "screenshots")
    key = flow_stack.new_key()
    custody_id = flow_stack.deposit(TENANT, BUNDLE_ID, key.key_id, key.p8)
    first_release: dict[str, object] = {
        "version": "1.0",
        "whats_new": {},
        "review_contact": None,
        "listing": ListingSource(path=str(listing)),
        "destroy_credentials": "after_submission",
    }
    request = flow_stack.request(TENANT, BUNDLE_ID, custody_id, **first_release)
    request = request.model_copy(
        update={"build": request.build.model_copy(update={"path": str(ipa(flow_stack, tmp_path))})}
    )
    run_id = flow_stack.start(request, idempotency_key=f"flows-first:{custody_id}")
    run, _ = flow_stack.wait_until(run_id, lambda r: suspended(r) or ended(r), timeout=120, what="suspended")
    assert suspended(run), run.state
    assert run.state is not None
    assert (run.state.state_details.pause_key or "").startswith("submit-for-review"), run.state

    app_id = flow_stack.apple_state().app(BUNDLE_ID)["id"]
    flow_stack.apple.control.publish_app_privacy(app_id)  # the invited team member, in App Store Connect
    run, _ = flow_stack.wait_until(run_id, ended, timeout=120, what="finished")
    assert state_of(run) is StateType.COMPLETED, run.state
    apple = flow_stack.apple_state()
    (submission,) = apple.of("reviewSubmissions", app=app_id)
    assert submission["attributes"]["state"] in ("WAITING_FOR_REVIEW", "IN_REVIEW", "COMPLETE")
    assert len(apple.of("appScreenshots")) >= 3
    (summary,) = flow_stack.summary_artifacts(run_id)
    for title in (
        "check listing",
        "apply app listing",
        "apply price and availability",
        "apply version listing",
    ):
        assert f"| {title} |" in summary, summary

    rerun_started = time.time()
    again_key = flow_stack.new_key()
    again_custody = flow_stack.deposit(TENANT, BUNDLE_ID, again_key.key_id, again_key.p8)
    again = flow_stack.start(
        request.model_copy(update={"custody_id": again_custody}),
        idempotency_key=f"flows-first:{again_custody}",
    )
    run = flow_stack.wait_for_end(again, timeout=120)
    assert state_of(run) is StateType.COMPLETED, run.state
    writes = [f"{r.method} {r.path}" for r in flow_stack.apple_requests(again_key) if r.method in WRITES]
    assert writes == [], writes
    # Upload parts carry no key: no part was sent to Apple at all since the second run began.
    parts = [r for r in flow_stack.apple.control.requests() if r.method == "PUT" and r.time >= rerun_started]
    assert parts == []


def ipa(flow_stack: FlowStack, folder: Path) -> Path:
    return build_ipa(folder / "First.ipa", BUNDLE_ID, "1.0", BUILD_NUMBER, extra_size=64 * 1024)
