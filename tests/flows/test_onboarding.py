"""The whole onboarding run under a real Prefect server, and a second run for the same app.

One run (the `e2e` fixture): the customer's key is in custody but Apple does not accept it yet; the run is started
through Prefect's API with an idempotency key, suspends, the `access-poller` deployment resumes it once Apple
accepts the key, and it completes. The tests then read what it left behind: Apple's state and request log (from
the simulator), custody, the audit trail and the summary artifact.
"""

from __future__ import annotations

import base64
import re
from collections import Counter

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.client.schemas.objects import StateType

from ascflow.audit import Action
from ascflow.audit.verify import verify_log
from ascflow.pipeline.context import team_reference
from tasks.run import artifact_key
from tests.flows.stack import (
    CREATES,
    E2E_BUNDLE_ID,
    E2E_TENANT,
    NEW_VERSION,
    RELEASED_VERSION,
    AppleState,
    FinishedRun,
    FlowStack,
    creates,
    invitee_email,
    state_of,
)

pytestmark = pytest.mark.slow

TENANT = E2E_TENANT
BUNDLE_ID = E2E_BUNDLE_ID


def test_starting_twice_with_one_idempotency_key_gives_one_run(e2e: FinishedRun) -> None:
    assert e2e.started_again_id == e2e.run_id


def test_a_key_apple_does_not_accept_yet_suspends_the_run_and_the_poller_resumes_it(
    flow_stack: FlowStack, e2e: FinishedRun
) -> None:
    assert "Suspended" in e2e.seen, e2e.seen
    assert state_of(e2e.run) is StateType.COMPLETED, e2e.run.state
    history = flow_stack.state_history(e2e.run_id)
    assert history.index("Suspended") < history.index("Resuming") < history.index("Completed"), history
    # The run's page said what it waited for while suspended: the Suspended state's message.
    with flow_stack.prefect.client() as client:
        messages = [s.message for s in client.read_flow_run_states(e2e.run_id) if s.name == "Suspended"]
    assert messages == ["Waiting for Apple to accept the customer's key. Apple's answer: not active yet."], (
        messages
    )
    # Apple refused the key before the wait (a fresh key's 401), and the poller, not a person, resumed it.
    assert any(r.status == 401 for r in flow_stack.apple_requests(e2e.key))
    granted = [
        event
        for event in flow_stack.audit.events(TENANT)
        if event.action is Action.ACCESS_GRANTED and event.target.run_id == str(e2e.run_id)
    ]
    assert [(event.actor.kind, event.actor.id) for event in granted] == [("schedule", "access-poller")]


def test_apple_holds_one_of_everything_the_run_makes(flow_stack: FlowStack, e2e: FinishedRun) -> None:
    apple = flow_stack.apple_state()
    app_id = apple.app(BUNDLE_ID)["id"]
    bundle = next(b for b in apple.of("bundleIds") if b["attributes"]["identifier"] == BUNDLE_ID)

    certificate_id = held_certificate(flow_stack, apple)
    profile = apple.one("profiles", bundleId=bundle["id"])
    assert profile["attributes"]["profileType"] == "IOS_APP_STORE"
    assert profile["relationships"]["certificates"] == [certificate_id]
    invitations = [
        i for i in apple.of("userInvitations") if i["attributes"]["email"] == invitee_email(TENANT)
    ]
    assert len(invitations) == 1, invitations

    build = apple.one("builds", app=app_id)
    assert build["attributes"]["processingState"] == "VALID"
    apple.one("buildUploads", app=app_id)
    versions = {v["attributes"]["versionString"]: v for v in apple.of("appStoreVersions", app=app_id)}
    assert sorted(versions) == [RELEASED_VERSION, NEW_VERSION]
    assert versions[NEW_VERSION]["relationships"]["build"] == build["id"]

    submission = apple.one("reviewSubmissions", app=app_id)
    assert submission["attributes"].get("submittedDate"), submission
    assert submission["attributes"]["state"] in {"WAITING_FOR_REVIEW", "IN_REVIEW", "COMPLETE"}
    apple.one(
        "reviewSubmissionItems",
        reviewSubmission=submission["id"],
        appStoreVersion=versions[NEW_VERSION]["id"],
    )

    # Each thing was asked for once: no retry or resume made a second one that Apple then refused.
    assert Counter(creates(flow_stack.apple_requests(e2e.key))) == Counter(f"POST {path}" for path in CREATES)


def test_the_key_is_destroyed_with_a_signed_receipt(flow_stack: FlowStack, e2e: FinishedRun) -> None:
    custody = flow_stack.custody
    assert [r.id for r in custody.list() if r.kind == "api_key" and r.tenant == TENANT] == []
    receipt = custody.receipt(e2e.custody_id)
    assert receipt is not None
    assert receipt.key_id == e2e.key.key_id
    assert receipt.verify(custody.receipt_public_key)


def test_the_audit_trail_verifies_and_the_summary_artifact_is_published(
    flow_stack: FlowStack, e2e: FinishedRun
) -> None:
    report = verify_log(flow_stack.audit.backend, flow_stack.audit.key.public)
    assert report.ok, report.summary()
    actions = [e.action for e in flow_stack.audit.events(TENANT) if e.target.run_id == str(e2e.run_id)]
    assert actions[0] is Action.RUN_STARTED
    assert actions[-1] is Action.RUN_FINISHED
    assert Action.REVIEW_SUBMITTED in actions

    with flow_stack.prefect.client() as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[e2e.run_id]))
        )
    summaries = [a for a in artifacts if a.key == artifact_key(TENANT, BUNDLE_ID)]
    assert len(summaries) == 1, [a.key for a in artifacts]
    text = str(summaries[0].data)
    assert summaries[0].type == "markdown"
    # The flow run's own artifact (the UI's Artifacts tab names its flow run), not a task run's.
    assert (summaries[0].flow_run_id, summaries[0].task_run_id) == (e2e.run_id, None)
    assert f"# {BUNDLE_ID} {NEW_VERSION} for {TENANT}" in text
    assert held_certificate(flow_stack, flow_stack.apple_state()) in text
    assert f"signed receipt for custody `{e2e.custody_id}`" in text
    # The wait's row says how long it lasted, and that it ended (the run completed).
    assert re.search(
        r"\| wait \| access \(validate-credentials\), since [-0-9 :]+ UTC, waited \d+ (s|min) \|", text
    ), text
    assert "still waiting" not in text


def test_a_second_run_for_the_same_app_creates_nothing_new_at_apple(
    flow_stack: FlowStack, e2e: FinishedRun
) -> None:
    before = flow_stack.apple_state()
    key = flow_stack.new_key()  # the customer hands over a new key of the same team
    custody_id = flow_stack.deposit(TENANT, BUNDLE_ID, key.key_id, key.p8)
    run_id = flow_stack.start(
        flow_stack.request(TENANT, BUNDLE_ID, custody_id), idempotency_key=f"flows-e2e:{custody_id}"
    )
    run = flow_stack.wait_for_end(run_id, timeout=90)
    assert state_of(run) is StateType.COMPLETED, run.state

    requests = flow_stack.apple_requests(key)
    assert requests, "the second run made no Apple call with its key"
    assert creates(requests) == []
    after = flow_stack.apple_state()
    app_id = after.app(BUNDLE_ID)["id"]
    for kind in ("builds", "buildUploads", "appStoreVersions", "reviewSubmissions"):
        assert len(after.of(kind, app=app_id)) == len(before.of(kind, app=app_id)), kind
    for kind in ("certificates", "profiles", "userInvitations", "reviewSubmissionItems"):
        assert len(after.of(kind)) == len(before.of(kind)), kind
    assert flow_stack.custody.receipt(custody_id) is not None


def held_certificate(flow_stack: FlowStack, apple: AppleState) -> str:
    """The one certificate at Apple whose private key custody holds for the tenant (ours, not someone's)."""
    held = {
        serialization.load_pem_private_key(pem, password=None)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        for pem in flow_stack.custody.signing_keys(TENANT, team_reference(flow_stack.issuer_id))
    }
    ours = [
        certificate["id"]
        for certificate in apple.of("certificates")
        if x509.load_der_x509_certificate(base64.b64decode(certificate["attributes"]["certificateContent"]))
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        in held
    ]
    assert len(ours) == 1, f"{len(ours)} certificates of {TENANT} at Apple: {ours}"
    return ours[0]
