"""The status page's "Check now" over real HTTP, against the session's Prefect server and served access poller.

The run is a real flow run of the onboarding deployment, made suspended in its access wait (the wait recorded
beside it as the flow does), with a key in custody that Apple has not activated: the served poller checks it
with Apple for real, and no onboarding flow runs (this test costs no flow run of its own).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from uuid import UUID

import pytest
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.states import Cancelled, Suspended
from pydantic import SecretStr

from ascflow import contracts
from ascflow.audit import Action, Actor
from ascflow.custody import CustodyInput
from ascflow.pipeline.check_schedule import CheckAsked, CheckMark
from ascflow.pipeline.waiting import Waiting
from tests.intake.conftest import CSRF_FIELD, Browser, IntakeServer, Stack, make_request

pytestmark = pytest.mark.slow
PAUSE_KEY = "validate-1"


@dataclass
class WaitingRun:
    run_id: UUID
    link: str

    @property
    def check_url(self) -> str:
        return f"{self.link}/check"


@pytest.fixture
def waiting_run(stack: Stack, stack_intake: IntakeServer) -> Iterator[WaitingRun]:
    intake = stack_intake.intake
    request = make_request("com.example.checknow", tenant="check-now-co")
    onboarding_id, link = stack_intake.new_link(request)
    key = stack.add_key(active_after_seconds=10**12)
    custody_id = intake.custody.deposit(
        CustodyInput(
            tenant=request.tenant, key_id=key.key_id, issuer_id=SecretStr(key.issuer_id), p8=SecretStr(key.p8)
        ),
        actor=Actor(kind="customer", id=request.tenant),
    ).id
    with stack.prefect.client() as client:
        deployment = client.read_deployment_by_name(contracts.ONBOARD_DEPLOYMENT)
        run = client.create_flow_run_from_deployment(
            deployment.id,
            parameters={
                "request": request.model_copy(update={"custody_id": custody_id}).model_dump(mode="json")
            },
            state=Suspended(timeout_seconds=3600, pause_key=PAUSE_KEY),
        )
        waiting = Waiting.of(request, "access", step="validate", custody_id=custody_id)
        client.create_flow_run_input(run.id, Waiting.input_key(PAUSE_KEY), waiting.model_dump_json())
    intake.store.set_run(onboarding_id, str(run.id))
    assert intake.store.claim_custody(onboarding_id, custody_id)
    yield WaitingRun(run.id, link)
    with stack.prefect.client() as client:  # the poller stops checking it
        client.set_flow_run_state(run.id, Cancelled(), force=True)


def inputs(stack: Stack, run_id: UUID) -> dict[str, str]:
    with stack.prefect.client() as client:
        stored = client.filter_flow_run_input(
            flow_run_id=run_id, key_prefix="ascflow-", limit=100, exclude_keys=set()
        )
    return {item.key: item.value for item in stored}


def check_now_polls(stack: Stack) -> int:
    with stack.prefect.client() as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["check-now"]))
        )
    return len(runs)


def asked_events(stack_intake: IntakeServer, run_id: UUID) -> list[str]:
    return [
        e.actor.id
        for e in stack_intake.intake.audit.events(tenant="check-now-co")
        if e.action is Action.WAIT_CHECK_ASKED and e.target.run_id == str(run_id)
    ]


def page_token(browser: Browser, link: str) -> str:
    page = browser.get(f"{link}/status")
    assert page.status_code == 200, page.text
    assert 'id="check-now"' in page.text, page.text
    match = CSRF_FIELD.search(page.text)
    assert match, "the check-now form has no CSRF token"
    return match.group(1)


def test_check_now_asks_the_poller_at_once_once_a_minute_and_only_from_the_page(
    stack: Stack,
    stack_intake: IntakeServer,
    waiting_run: WaitingRun,
    browser_session: Callable[[str], Browser],
) -> None:
    browser = browser_session(stack_intake.base_url)
    polls_before = check_now_polls(stack)
    first = page_token(browser, waiting_run.link)

    # Not from the page: no token, a token of another browser, the token in a body that is not the form.
    assert browser.post(waiting_run.check_url, data={}).status_code == 403
    stranger = browser_session(stack_intake.base_url)
    lifted = page_token(stranger, waiting_run.link)
    refused = browser.post(waiting_run.check_url, data={"csrf": lifted})
    assert refused.status_code == 403
    assert "security token" in refused.text
    assert browser.post(waiting_run.check_url, json={"csrf": first}).status_code == 403
    assert Waiting.asked_key(PAUSE_KEY) not in inputs(stack, waiting_run.run_id)
    assert asked_events(stack_intake, waiting_run.run_id) == []
    assert check_now_polls(stack) == polls_before

    asked = browser.post(waiting_run.check_url, data={"csrf": first})
    assert asked.status_code == 202, asked.text
    assert "We will check with Apple now" in asked.text
    assert "whether Apple accepts your key" in asked.text
    stored = CheckAsked.model_validate_json(inputs(stack, waiting_run.run_id)[Waiting.asked_key(PAUSE_KEY)])
    assert check_now_polls(stack) == polls_before + 1, "a poll was started"
    assert asked_events(stack_intake, waiting_run.run_id) == ["check-now-co"]

    # The poller answers it: a check (Apple's 401: the key is not active) recorded against this request.
    deadline = time.monotonic() + 60
    answered = None
    while time.monotonic() < deadline:
        mark = inputs(stack, waiting_run.run_id).get(Waiting.checked_key(PAUSE_KEY))
        answered = CheckMark.model_validate_json(mark) if mark else None
        if answered is not None and answered.answered == stored.at:
            break
        time.sleep(0.3)
    assert answered is not None
    assert answered.answered == stored.at, answered
    assert answered.at >= stored.at

    # Again within the minute: refused with the time to wait, and nothing started, stored or audited.
    again = browser.post(waiting_run.check_url, data={"csrf": page_token(browser, waiting_run.link)})
    assert again.status_code == 429, again.text
    assert "You can ask again in" in again.text
    assert "Our last check was" in again.text
    assert 1 <= int(again.headers["Retry-After"]) <= 60
    assert check_now_polls(stack) == polls_before + 1
    assert asked_events(stack_intake, waiting_run.run_id) == ["check-now-co"]
    assert (
        CheckAsked.model_validate_json(inputs(stack, waiting_run.run_id)[Waiting.asked_key(PAUSE_KEY)])
        == stored
    )

    # A form is spent once.
    assert browser.post(waiting_run.check_url, data={"csrf": first}).status_code == 403

    # A run no longer waiting for Apple: the page offers no button, and there is nothing to check.
    spare = page_token(browser, waiting_run.link)
    with stack.prefect.client() as client:
        client.set_flow_run_state(waiting_run.run_id, Cancelled(), force=True)
    assert 'id="check-now"' not in browser.get(f"{waiting_run.link}/status").text
    late = browser.post(waiting_run.check_url, data={"csrf": spare})
    assert late.status_code == 409, late.text
    assert "nothing to check" in late.text
