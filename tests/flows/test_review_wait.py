"""Waiting for Apple's review without holding a worker: the run suspends after submitting, the access poller sees
the review end and resumes it, and only then is the key destroyed (the request's `after_review` policy)."""

from __future__ import annotations

import re

import pytest
from prefect.client.schemas.objects import StateType

from ascflow.audit import Action
from tests.flows.conftest import flow_scenario
from tests.flows.stack import APPS, FlowStack, ended, message_of, state_of, suspended

pytestmark = pytest.mark.slow

TENANT = "review-games"
BUNDLE_ID = APPS["review"]
# Apple seconds at the suite's time scale (3600): the review takes about 15 s of wall time.
SLOW_REVIEW = {"review_wait_seconds": 36_000.0, "review_seconds": 18_000.0}


def test_the_run_waits_for_the_review_suspended_and_destroys_the_key_after_it(flow_stack: FlowStack) -> None:
    key = flow_stack.new_key()
    custody_id = flow_stack.deposit(TENANT, BUNDLE_ID, key.key_id, key.p8)
    request = flow_stack.request(TENANT, BUNDLE_ID, custody_id, destroy_credentials="after_review")
    usual = flow_scenario(flow_stack.issuer_id).delays.model_dump()
    flow_stack.apple.control.update_settings(delays={**usual, **SLOW_REVIEW})
    try:
        run_id = flow_stack.start(request, idempotency_key=f"flows-review:{custody_id}")
        waiting, _ = flow_stack.wait_until(
            run_id, lambda r: suspended(r) or ended(r), timeout=90, what="suspended"
        )
    finally:
        flow_stack.apple.control.update_settings(delays=usual)
    # The run's page says what it waits for (the state message), not only its Resume form.
    assert re.fullmatch(
        r"Waiting for Apple's review\. Review submission \S+ is [A-Z_]+\.", message_of(waiting)
    ), waiting.state

    submitted = [e.action for e in flow_stack.audit.events(TENANT) if e.target.run_id == str(run_id)]
    assert Action.REVIEW_SUBMITTED in submitted, "the run must suspend after submitting, not before"
    assert Action.CREDENTIALS_DESTROYED not in submitted, "the key is needed to watch the review"
    assert [r.id for r in flow_stack.custody.list() if r.id == custody_id] == [custody_id]

    run, _ = flow_stack.wait_until(run_id, ended, timeout=120, what="finished")
    assert state_of(run) is StateType.COMPLETED, run.state
    history = flow_stack.state_history(run_id)
    assert history.index("Suspended") < history.index("Resuming") < history.index("Completed"), history
    events = list(flow_stack.audit.events(TENANT))
    outcome = next(e for e in events if e.action is Action.REVIEW_OUTCOME and e.target.run_id == str(run_id))
    assert (outcome.outcome, outcome.actor.kind) == ("success", "flow")
    destroyed = next(
        e for e in events if e.action is Action.CREDENTIALS_DESTROYED and e.target.custody_id == custody_id
    )
    assert outcome.seq < destroyed.seq
    assert flow_stack.custody.receipt(custody_id) is not None
    # Resumed after the review, the run did not redo its Apple steps: each was made once.
    posts = [f"{r.method} {r.path}" for r in flow_stack.apple_requests(key) if r.method == "POST"]
    assert posts.count("POST /v1/reviewSubmissions") == 1
    assert posts.count("POST /v1/appStoreVersions") == 1
    # The summary's row for the wait says how long it lasted, and that it ended.
    summary = next(text for text in flow_stack.summary_artifacts(run_id) if "| wait |" in text)
    assert re.search(
        r"\| wait \| review \(await-review\), since [-0-9 :]+ UTC, waited \d+ (s|min) \|", summary
    ), summary
    assert "still waiting" not in summary
