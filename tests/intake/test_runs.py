"""The operator API and the upload against the real stack: Prefect server, served flows, simulator.

Each test uses its own app of the session's simulated team, so runs never queue on one app's lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
import pytest
from openapi_schema_validator import OAS30Validator
from prefect.states import Cancelled

from ascflow.intake.onboardings import Onboarding
from tests.fixtures.canary import Canary
from tests.intake.conftest import APPS, Browser, IntakeServer, Stack, make_request

pytestmark = pytest.mark.slow


def wait_for(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def create(api: httpx.Client, bundle_id: str, *, start: bool = True, **changes: Any) -> dict[str, Any]:
    request = make_request(bundle_id, **changes).model_dump(mode="json")
    response = api.post("/api/onboardings", json={"request": request, "start": start})
    assert response.status_code == 201, response.text
    return response.json()


def test_the_operator_api_needs_the_bearer_token(stack_intake: IntakeServer) -> None:
    with httpx.Client(base_url=stack_intake.base_url) as anonymous:
        assert anonymous.get("/api/onboardings").status_code == 401
        wrong = anonymous.get("/api/onboardings", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == "Bearer"
        created = anonymous.post("/api/onboardings", json={"request": {}})
        assert created.status_code == 401


def test_the_openapi_document_describes_every_operation(stack_intake: IntakeServer) -> None:
    with stack_intake.operator() as api:
        document = api.get("/api/openapi.json").json()
    paths = document["paths"]
    assert set(paths) >= {
        "/api/onboardings",
        "/api/onboardings/{onboarding_id}",
        "/api/onboardings/{onboarding_id}/link",
        "/api/onboardings/{onboarding_id}/start",
        "/api/onboardings/{onboarding_id}/retry",
        "/api/onboardings/{onboarding_id}/destroy-credentials",
        "/api/onboardings/{onboarding_id}/receipt",
    }
    # Other parts mount their operations here too (signing export, run retry), all under /api.
    assert all(path.startswith("/api/") for path in paths), "customer pages are not part of the API"
    schema = {**document["components"]["schemas"]["CreatedOnboarding"], "components": document["components"]}
    OAS30Validator.check_schema(schema)


def test_validation_errors_do_not_echo_the_input(stack_intake: IntakeServer) -> None:
    request = make_request(APPS["spare"].bundle_id).model_dump(mode="json")
    request["tenant"] = "NOT A SLUG with-secret-ish-value"
    with stack_intake.operator() as api:
        response = api.post("/api/onboardings", json={"request": request})
    assert response.status_code == 422
    assert "tenant" in response.text
    assert "secret-ish-value" not in response.text


def test_create_start_list_link_and_a_pending_key_that_waits_for_apple_then_destroy(
    stack: Stack, stack_intake: IntakeServer, browser_session: Callable[[str], Browser]
) -> None:
    bundle_id = APPS["pendinggame"].bundle_id
    with stack_intake.operator() as api:
        created = create(api, bundle_id)
        link = created["link"].removeprefix(stack_intake.base_url)
        assert created["phase"] in ("awaiting_key", "working")
        listed = wait_for(
            lambda: api.get(f"/api/onboardings/{created['id']}").json(),
            lambda o: o["run_state"] == "Suspended",
        )
        assert listed["phase"] == "awaiting_key"
        assert listed["waiting_on"] == "you"
        assert created["id"] in [o["id"] for o in api.get("/api/onboardings").json()]
        # Starting again is idempotent: the same run.
        assert (
            api.post(f"/api/onboardings/{created['id']}/start").json()["flow_run_id"]
            == created["flow_run_id"]
        )
        # A new link revokes the old one.
        replaced = api.post(f"/api/onboardings/{created['id']}/link").json()["link"]
        browser = browser_session(stack_intake.base_url)
        assert browser.get(link).status_code == 410
        link = replaced.removeprefix(stack_intake.base_url)

        # Apple has not approved API access yet: the key is kept, the run resumes and waits for Apple.
        key = stack.add_key(active_after_seconds=10 * 24 * 3600 * 10_000)
        accepted = browser.upload(link, key)
        assert accepted.status_code == 200, accepted.text
        assert "Apple does not accept it yet" in accepted.text
        onboarding = stack_intake.intake.store.get(created["id"])
        assert onboarding.custody_id in [r.id for r in stack_intake.intake.custody.list()]
        assert onboarding.flow_run_id == created["flow_run_id"], "the waiting run was resumed, not replaced"
        status = wait_for(lambda: browser.get(f"{link}/status"), lambda r: "Waiting for Apple" in r.text)
        assert "Waiting for Apple to accept your key" in status.text
        assert "Your key was received and encrypted" in status.text
        assert "Apple" in status.text

        # The form is not offered twice; retry is refused while the run waits.
        assert "We have your key" in browser.get(link).text
        assert api.post(f"/api/onboardings/{created['id']}/retry").status_code == 409

        destroyed = api.post(f"/api/onboardings/{created['id']}/destroy-credentials")
        assert destroyed.status_code == 202, destroyed.text
        receipt_page = wait_for(lambda: browser.get(f"{link}/status"), lambda r: 'id="receipt"' in r.text)
        assert "Revoke the key now in App Store Connect" in receipt_page.text
        signed = api.get(f"/api/onboardings/{created['id']}/receipt").json()
        assert signed["key_id"] == key.key_id
        for operator_only in (signed["audit_hash"], signed["signature"], *signed["removed"]):
            assert operator_only not in receipt_page.text
        assert api.get(f"/api/onboardings/{created['id']}").json()["key_destroyed"] is True

        # The operator gives up on this run; a retry starts a new one, and the link asks for a new key.
        with stack.prefect.client() as client:
            client.set_flow_run_state(UUID(created["flow_run_id"]), Cancelled(), force=True)
        retried = api.post(f"/api/onboardings/{created['id']}/retry")
        assert retried.status_code == 200, retried.text
        assert retried.json()["flow_run_id"] != created["flow_run_id"]
        again = api.get(f"/api/onboardings/{created['id']}").json()
        assert (again["attempt"], again["custody_id"]) == (2, None)
        assert 'id="key-form"' in browser.get(link).text


def test_a_double_submission_starts_one_run(
    stack: Stack, stack_intake: IntakeServer, browser_session: Callable[[str], Browser]
) -> None:
    with stack_intake.operator() as api:
        created = create(api, APPS["apigame"].bundle_id, start=False, tenant="double-click")
    link = created["link"].removeprefix(stack_intake.base_url)
    browser = browser_session(stack_intake.base_url)
    key = stack.add_key(active_after_seconds=10 * 24 * 3600 * 10_000)
    csrf = browser.open_form(link)
    first = browser.upload(link, key, csrf=csrf)
    second = browser.upload(link, key, csrf=csrf)
    assert first.status_code == 200, first.text
    assert second.status_code == 409
    onboarding: Onboarding = stack_intake.intake.store.get(created["id"])
    assert onboarding.flow_run_id is not None
    with stack.prefect.client() as client:
        runs = client.read_flow_runs()
    mine = [run for run in runs if run.idempotency_key == onboarding.idempotency_key]
    assert [str(run.id) for run in mine] == [onboarding.flow_run_id]
    keys = [r for r in stack_intake.intake.custody.list() if r.tenant == "double-click"]
    assert len(keys) == 1


def test_the_canary_key_never_reaches_a_response_log_store_or_audit_trail(
    stack: Stack,
    stack_intake: IntakeServer,
    browser_session: Callable[[str], Browser],
    captured_logs: pytest.LogCaptureFixture,
) -> None:
    key = stack.add_key(active_after_seconds=10 * 24 * 3600 * 10_000)
    canary = Canary.from_pem(key.p8)
    with stack_intake.operator() as api:
        created = create(api, APPS["canarygame"].bundle_id, tenant="canary-co")
        link = created["link"].removeprefix(stack_intake.base_url)
        browser = browser_session(stack_intake.base_url)
        # Refused first (wrong key ID for the file, then a broken copy of the key), then accepted.
        browser.upload(link, key, key_id="ABCDEFGHIJ")
        browser.upload(link, key, p8=key.p8.encode()[:-40])
        accepted = browser.upload(link, key)
        assert accepted.status_code == 200, accepted.text
        wait_for(lambda: browser.get(f"{link}/status"), lambda r: "Waiting for Apple" in r.text)
        listed = api.get("/api/onboardings").text
    findings = canary.scan_strings(
        [(f"response {i}", r.content) for i, r in enumerate(browser.responses)]
        + [("operator list", listed)]
        + [(f"log {i}", record.getMessage()) for i, record in enumerate(captured_logs.records)]
    )
    data_dir = stack.settings.data_dir
    findings += canary.scan_tree(data_dir / "intake")
    findings += canary.scan_tree(data_dir / "audit")
    findings += canary.scan_tree(data_dir / "custody")  # sealed: the ciphertext must not hold it either
    findings += canary.scan_tree(stack.prefect.home)  # Prefect's database, results and logs
    assert findings == []
    assert any("upload refused" in record.getMessage() for record in captured_logs.records)


def test_missing_agreements_are_accepted_and_the_customer_is_told_who_must_act(
    stack: Stack, stack_intake: IntakeServer, browser_session: Callable[[str], Browser]
) -> None:
    with stack_intake.operator() as api:
        created = create(api, APPS["spare"].bundle_id, start=False, tenant="no-agreements")
    link = created["link"].removeprefix(stack_intake.base_url)
    browser = browser_session(stack_intake.base_url)
    key = stack.add_key()
    stack.apple.control.set_agreements(False)
    try:
        accepted = browser.upload(link, key)
    finally:
        stack.apple.control.set_agreements(True)
    assert accepted.status_code == 200, accepted.text
    assert "refuses it until your team&#39;s agreements are accepted" in accepted.text
    assert "Account Holder" in accepted.text
    onboarding = stack_intake.intake.store.get(created["id"])
    assert onboarding.custody_id in [r.id for r in stack_intake.intake.custody.list()]
    assert onboarding.flow_run_id is not None, "with no run waiting, the upload started one"
