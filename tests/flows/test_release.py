"""The review's outcome and release control under a real Prefect server.

One app goes all the way: its MANUAL, phased request (with internal TestFlight) is rejected by App Review (the
run fails with Apple's states and the next step, the key kept), the operator's retry resubmits the same version
and ends approved with the key kept for the release; the summary's release command starts `release-app`, which
releases the version (a rerun writes nothing), and `release-app` with `complete` finishes the phased rollout and
destroys the key. A SCHEDULED release with a past date is refused before anything is done.
"""

from __future__ import annotations

import json
import re
import shlex
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.exceptions import PrefectHTTPStatusError
from prefect.settings import PREFECT_API_URL, temporary_settings
from typer.testing import CliRunner, Result

from ascflow import contracts
from ascflow.audit import Action
from ascflow.cli import app as ascflow_cli
from ascflow.operator.release_cli import Action as ReleaseAction
from ascflow.operator.release_cli import start_release
from ascflow.operator.retry import RETRY_OF, retry_run
from ascflow.pipeline.request import TestFlight as Beta
from ascflow.settings import get_settings
from tests.fixtures.keys import CustomerKey
from tests.flows.stack import APPS, NEW_VERSION, FlowStack, state_of

pytestmark = pytest.mark.slow

TENANT = "manual-games"
BUNDLE_ID = APPS["manual"]
WRITES = ("POST", "PATCH", "PUT", "DELETE")


@dataclass(frozen=True)
class Resubmitted:
    key: CustomerKey
    custody_id: str
    rejected: FlowRun
    retried: FlowRun
    custody_after_rejection: bool


@pytest.fixture(scope="module")
def resubmitted(flow_stack: FlowStack) -> Resubmitted:
    """A rejected run, then the operator's retry of it (`ascflow runs retry`'s path) after the customer's fix."""
    key = flow_stack.new_key()
    custody_id = flow_stack.deposit(TENANT, BUNDLE_ID, key.key_id, key.p8)
    request = flow_stack.request(
        TENANT,
        BUNDLE_ID,
        custody_id,
        release_type="MANUAL",
        phased_release=True,
        testflight=Beta(whats_new={"en-US": "Try the faster loading."}),
    )
    flow_stack.apple.control.set_review_outcomes(review="UNRESOLVED_ISSUES")
    try:
        run_id = flow_stack.start(request, idempotency_key=f"flows-manual:{custody_id}")
        rejected = flow_stack.wait_for_end(run_id, timeout=150)
    finally:
        flow_stack.apple.control.set_review_outcomes(review="COMPLETE")
    kept = flow_stack.custody.receipt(custody_id) is None
    with flow_stack.prefect.client() as client:
        retry = retry_run(client, run_id, custody=flow_stack.custody)
    retried = flow_stack.wait_for_end(retry.run.id, timeout=150)
    return Resubmitted(key, custody_id, rejected, retried, kept)


def test_a_rejected_review_fails_with_apples_state_and_the_retry_resubmits_the_same_version(
    flow_stack: FlowStack, resubmitted: Resubmitted
) -> None:
    assert state_of(resubmitted.rejected) is StateType.FAILED, resubmitted.rejected.state
    (failure,) = flow_stack.summary_artifacts(resubmitted.rejected.id)
    for said in ("version REJECTED", "submission UNRESOLVED_ISSUES", "**Next step:**", "then retry"):
        assert said in failure, failure
    assert "stays in custody" in failure
    assert resubmitted.custody_after_rejection, "a rejected run keeps the key for the resubmission"

    retried = resubmitted.retried
    assert state_of(retried) is StateType.COMPLETED, retried.state
    assert f"{RETRY_OF}{resubmitted.rejected.id}" in retried.tags
    posts = [f"{r.method} {r.path}" for r in flow_stack.apple_requests(resubmitted.key) if r.method == "POST"]
    assert posts.count("POST /v1/appStoreVersions") == 1, "the resubmission reuses the version"
    assert posts.count("POST /v1/reviewSubmissions") == 1, "and its review submission"
    app_id = flow_stack.apple_state().app(BUNDLE_ID)["id"]
    (submission,) = flow_stack.apple_state().of("reviewSubmissions", app=app_id)
    assert submission["attributes"]["state"] == "COMPLETE"

    (summary,) = flow_stack.summary_artifacts(retried.id)
    assert "| TestFlight internal testing |" in summary
    assert "| TestFlight external testing |" not in summary
    assert "approved (version PENDING_DEVELOPER_RELEASE" in summary, summary
    assert "Kept in custody on purpose" in summary
    assert f"--custody-id {resubmitted.custody_id}" in summary
    assert "Destroyed at" not in summary
    assert flow_stack.custody.receipt(resubmitted.custody_id) is None


def test_release_app_releases_the_manual_version_and_completes_its_rollout_then_destroys_the_key(
    flow_stack: FlowStack, resubmitted: Resubmitted
) -> None:
    (approved_summary,) = flow_stack.summary_artifacts(resubmitted.retried.id)
    command = next(re.finditer(r"`(ascflow runs release [^`]+)`", approved_summary)).group(1)
    printed = ascflow(flow_stack, *shlex.split(command)[1:])
    assert printed.exit_code == 0, printed.output
    released = UUID(re.search(r"run ID:\s+(\S+)", printed.output).group(1))  # type: ignore[union-attr]
    run = flow_stack.wait_for_end(released, timeout=90)
    assert state_of(run) is StateType.COMPLETED, run.state
    (summary,) = flow_stack.summary_artifacts(released)
    assert "release requested" in summary, summary
    # The rollout can still be paused or completed: the key stays, and the summary says how to finish.
    assert "Kept in custody on purpose" in summary
    assert "--action complete" in summary
    assert flow_stack.custody.receipt(resubmitted.custody_id) is None
    app_id = flow_stack.apple_state().app(BUNDLE_ID)["id"]
    version = live_version(flow_stack, app_id)
    assert version["attributes"]["versionString"] == NEW_VERSION

    (phased,) = flow_stack.apple_state().of("appStoreVersionPhasedReleases", appStoreVersion=version["id"])
    assert phased["attributes"]["phasedReleaseState"] == "ACTIVE"
    completed = release_app(flow_stack, resubmitted.custody_id, "complete")
    assert state_of(completed) is StateType.COMPLETED, completed.state
    (phased,) = flow_stack.apple_state().of("appStoreVersionPhasedReleases", appStoreVersion=version["id"])
    assert phased["attributes"]["phasedReleaseState"] == "COMPLETE"
    receipt = flow_stack.custody.receipt(resubmitted.custody_id)
    assert receipt is not None
    (summary,) = flow_stack.summary_artifacts(completed.id)
    assert "phased release set to COMPLETE" in summary, summary
    assert f"key `{receipt.key_id}`" in summary
    assert f"audit position {receipt.audit_seq}" in summary
    assert "revoke" in summary.lower()
    destroyed = next(
        e
        for e in flow_stack.audit.events(TENANT)
        if e.action is Action.CREDENTIALS_DESTROYED and e.target.custody_id == resubmitted.custody_id
    )
    assert destroyed.actor.kind == "operator"

    # The release again, with a new key (the first was destroyed): nothing is written, and with no rollout
    # left to control the key is destroyed after it.
    key = flow_stack.new_key()
    custody_id = flow_stack.deposit(TENANT, BUNDLE_ID, key.key_id, key.p8)
    again = release_app(flow_stack, custody_id, "release")
    assert state_of(again) is StateType.COMPLETED, again.state
    assert writes(flow_stack, key) == []
    (summary,) = flow_stack.summary_artifacts(again.id)
    assert "nothing sent" in summary, summary
    assert "Destroyed at" in summary
    assert flow_stack.custody.receipt(custody_id) is not None


def test_a_scheduled_release_in_the_past_and_an_unknown_release_action_are_refused(
    flow_stack: FlowStack, tmp_path: Path
) -> None:
    key = flow_stack.new_key()
    custody_id = flow_stack.deposit(TENANT, APPS["scheduled"], key.key_id, key.p8)
    past = datetime.now(UTC) - timedelta(hours=1)
    request = flow_stack.request(
        TENANT, APPS["scheduled"], custody_id, release_type="SCHEDULED", earliest_release_date=past
    )
    path = tmp_path / "request.json"
    path.write_text(request.model_dump_json())
    printed = ascflow(flow_stack, "runs", "start", "--request", str(path))
    assert printed.exit_code == 2, printed.output
    assert "earliest_release_date" in printed.output
    assert "in the past" in printed.output
    assert "nothing was started" in printed.output

    with flow_stack.prefect.client() as client:
        deployment = client.read_deployment_by_name(contracts.ONBOARD_DEPLOYMENT)
        run = client.create_flow_run_from_deployment(
            deployment.id, parameters={"request": json.loads(request.model_dump_json())}
        )
        with pytest.raises(PrefectHTTPStatusError) as schema:
            start_release(
                client,
                tenant=TENANT,
                bundle_id=APPS["scheduled"],
                version=NEW_VERSION,
                custody_id=custody_id,
                action="ship",  # type: ignore[arg-type]
            )
    assert schema.value.response.status_code == 409
    # A rule Prefect's schema check cannot hold (a time in the past): the run stops before its first step.
    ended = flow_stack.wait_for_end(run.id, timeout=90)
    assert state_of(ended) is StateType.FAILED, ended.state
    (summary,) = flow_stack.summary_artifacts(run.id)
    assert "earliest_release_date" in summary, summary
    assert "in the past" in summary
    assert flow_stack.apple_requests(key) == []
    assert flow_stack.custody.receipt(custody_id) is None


def release_app(flow_stack: FlowStack, custody_id: str, action: ReleaseAction) -> FlowRun:
    with flow_stack.prefect.client() as client:
        run = start_release(
            client,
            tenant=TENANT,
            bundle_id=BUNDLE_ID,
            version=NEW_VERSION,
            custody_id=custody_id,
            action=action,
            operator="flow-tests",
        )
    return flow_stack.wait_for_end(run.id, timeout=90)


def live_version(flow_stack: FlowStack, app_id: str) -> dict[str, Any]:
    """The version release-app released, once Apple has processed it for distribution (a few tenths of a s)."""
    deadline = time.monotonic() + 30
    while True:
        versions = flow_stack.apple_state().of("appStoreVersions", app=app_id)
        live = [v for v in versions if v["attributes"]["versionString"] == NEW_VERSION]
        if live and live[0]["attributes"]["appVersionState"] == "READY_FOR_DISTRIBUTION":
            return live[0]
        assert time.monotonic() < deadline, [v["attributes"] for v in versions]
        time.sleep(0.2)


def writes(flow_stack: FlowStack, key: CustomerKey) -> list[str]:
    return [f"{r.method} {r.path}" for r in flow_stack.apple_requests(key) if r.method in WRITES]


def ascflow(flow_stack: FlowStack, *args: str) -> Result:
    get_settings.cache_clear()
    try:
        with temporary_settings({PREFECT_API_URL: flow_stack.prefect.api_url}):
            return CliRunner().invoke(ascflow_cli, list(args), env=flow_stack.env)
    finally:
        get_settings.cache_clear()
