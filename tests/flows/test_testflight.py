"""TestFlight under a real Prefect server, in one run: TestFlight only (no App Store submission), What to Test, the
internal group, and an external group through Beta App Review: the run suspends (holding no worker), the access
poller resumes it once Apple approves the build, and it ends with the key destroyed."""

from __future__ import annotations

import pytest
from prefect.client.schemas.objects import StateType

from ascflow.listing.model import DemoAccount
from ascflow.pipeline.request import ExternalGroup, ReviewContact
from ascflow.pipeline.request import Tester as BetaTester
from ascflow.pipeline.request import TestFlight as Beta
from tests.flows.conftest import flow_scenario
from tests.flows.stack import APPS, FlowStack, ended, state_of, suspended

pytestmark = pytest.mark.slow

TENANT = "testflight-games"
BUNDLE_ID = APPS["testflight"]
# Apple seconds at the suite's time scale (3600): Beta App Review takes about 10 s of wall time, so the run is
# still waiting when it first looks, on a busy machine too.
SLOW_BETA_REVIEW = {"beta_review_wait_seconds": 18_000.0, "beta_review_seconds": 18_000.0}
# The flow suite's workers hold this variable (tests/flows/conftest.py flow_env).
PASSWORD_ENV = "TALLY_DEMO_PASSWORD"
PASSWORD = "flow-suite-demo-password"


def external_group() -> ExternalGroup:
    return ExternalGroup(
        name="Friends",
        testers=[
            BetaTester(email="ann@example.org", first_name="Ann", last_name="Tester"),
            BetaTester(email="ANN@example.org", first_name="Ann", last_name="Again"),  # the same address
            BetaTester(email="bo@example.org", first_name="Bo", last_name="Tester"),
        ],
        description={"en-US": "Try the new levels."},
        review_contact=ReviewContact(
            first_name="Robin", last_name="Review", phone="+1 555 0100", email="robin@example.com"
        ),
        demo_account=DemoAccount(name="reviewer@example.com", password_env=PASSWORD_ENV),
    )


def test_testflight_only_tests_internally_and_externally_through_a_suspended_beta_review(
    flow_stack: FlowStack,
) -> None:
    key = flow_stack.new_key()
    custody_id = flow_stack.deposit(TENANT, BUNDLE_ID, key.key_id, key.p8)
    testflight = Beta(whats_new={"en-US": "Try the level editor."}, external_group=external_group())
    request = flow_stack.request(
        TENANT,
        BUNDLE_ID,
        custody_id,
        app_store=False,
        whats_new={},
        review_contact=None,
        testflight=testflight,
    )
    usual = flow_scenario(flow_stack.issuer_id).delays.model_dump()
    flow_stack.apple.control.update_settings(delays={**usual, **SLOW_BETA_REVIEW})
    try:
        run_id = flow_stack.start(request, idempotency_key=f"flows-testflight:{custody_id}")
        waiting, _ = flow_stack.wait_until(
            run_id, lambda r: suspended(r) or ended(r), timeout=120, what="suspended"
        )
    finally:
        flow_stack.apple.control.update_settings(delays=usual)
    assert suspended(waiting), waiting.state
    assert waiting.state is not None
    assert (waiting.state.state_details.pause_key or "").startswith("await-beta-review"), waiting.state
    apple = flow_stack.apple_state()
    app_id = apple.app(BUNDLE_ID)["id"]
    (build,) = apple.of("builds", app=app_id)
    (submission,) = apple.of("betaAppReviewSubmissions", build=build["id"])
    assert submission["attributes"]["betaReviewState"] in {"WAITING_FOR_REVIEW", "IN_REVIEW"}
    assert flow_stack.custody.receipt(custody_id) is None, "the key is needed to watch Beta App Review"

    run, _ = flow_stack.wait_until(run_id, ended, timeout=120, what="finished")
    assert state_of(run) is StateType.COMPLETED, run.state
    history = flow_stack.state_history(run_id)
    assert history.index("Suspended") < history.index("Resuming") < history.index("Completed"), history

    apple = flow_stack.apple_state()
    groups = {g["attributes"]["isInternalGroup"]: g for g in apple.of("betaGroups", app=app_id)}
    assert set(groups) == {True, False}
    assert all(g["relationships"]["builds"] == [build["id"]] for g in groups.values())
    emails = {t["id"]: t["attributes"]["email"].lower() for t in apple.of("betaTesters")}
    external = sorted(emails[t] for t in groups[False]["relationships"]["betaTesters"])
    assert external == ["ann@example.org", "bo@example.org"]  # Ann once
    (approved,) = apple.of("betaAppReviewSubmissions", build=build["id"])
    assert approved["attributes"]["betaReviewState"] == "APPROVED"
    (detail,) = apple.of("betaAppReviewDetails", app=app_id)
    assert detail["attributes"]["demoAccountPassword"] == PASSWORD

    posts = [f"{r.method} {r.path}" for r in flow_stack.apple_requests(key) if r.method == "POST"]
    # Resumed after Beta App Review, the run made nothing twice; TestFlight only sent nothing to App Review.
    assert posts.count("POST /v1/betaGroups") == 2
    assert posts.count("POST /v1/betaAppReviewSubmissions") == 1
    app_store = [
        p for p in posts if p.split(" ")[1].startswith(("/v1/appStoreVersion", "/v1/reviewSubmission"))
    ]
    assert app_store == []

    (summary,) = flow_stack.summary_artifacts(run_id)
    for row in (
        "| TestFlight internal testing |",
        "| TestFlight external testing |",
        "Beta App Review APPROVED",
    ):
        assert row in summary, summary
    assert "| submit for review |" not in summary
    assert "Destroyed at" in summary
    assert PASSWORD not in summary
    assert flow_stack.custody.receipt(custody_id) is not None
