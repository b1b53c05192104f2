"""The customer's page in headless Chromium (Debian's, driven by Playwright) against the real stack.

Open the link, upload a broken key and see the field's error, upload the real key and see the success
message, then watch the status page move while the run (Prefect + simulator) goes to the end: the deletion
receipt and the reminder to revoke the key. Screenshots go to the test's own tmp_path.

And the guide on the same page, on a phone's screen: Apple's steps in order, a step's "If this goes wrong"
opened, and the anchor links (from the guide, and from a refused field's error to the step that explains it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, FilePayload, Page, ViewportSize, expect, sync_playwright

from tests.fixtures.keys import make_customer_key
from tests.intake.conftest import APPS, IntakeServer, Stack, make_ipa, make_request
from tests.intake.test_guide import STEPS, guide_intake

pytestmark = pytest.mark.slow

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RUN_TIMEOUT = 240.0
# An iPhone SE's screen in CSS pixels: the guide must read there without sideways scrolling.
PHONE = ViewportSize(width=375, height=667)
# The intake without Prefect and Apple, from the guide's HTTP test: showing the page needs neither.
__all__ = ["guide_intake"]


@pytest.fixture
def browser(chromium: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def fill_form(page: Page, issuer_id: str, key_id: str, filename: str, content: bytes) -> None:
    page.fill("#issuer_id", issuer_id)
    page.fill("#key_id", key_id)
    payload = FilePayload(name=filename, mimeType="application/octet-stream", buffer=content)
    page.set_input_files("#p8", files=payload)
    page.click("#submit")


def test_a_customer_hands_over_the_key_and_follows_the_run_to_the_receipt(
    stack: Stack, stack_intake: IntakeServer, browser: Browser, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    bundle_id = APPS["browsergame"].bundle_id
    request = make_request(bundle_id, tenant="browser-games").model_copy(
        update={
            "build": make_request(bundle_id).build.model_copy(
                update={"path": str(make_ipa(tmp_path, bundle_id))}
            )
        }
    )
    with stack_intake.operator() as api:
        created = api.post(
            "/api/onboardings", json={"request": request.model_dump(mode="json"), "start": True}
        )
    assert created.status_code == 201, created.text
    link = created.json()["link"]
    key = stack.add_key()

    page = browser.new_page()
    page.goto(link)
    expect(page.locator("h1")).to_contain_text("Hand over your App Store Connect API key")
    expect(page.locator("#p8-help")).to_contain_text("16 KiB")
    page.screenshot(path=shots / "01-form.png", full_page=True)

    # A damaged key: the page says which field, what is wrong and what to do.
    fill_form(page, key.issuer_id, key.key_id, key.filename, key.p8.encode()[:120])
    expect(page.locator("#p8-error")).to_be_visible()
    expect(page.locator("#p8-error")).to_contain_text(
        "Upload the AuthKey_<KEYID>.p8 file exactly as downloaded"
    )
    assert page.locator("#issuer_id").input_value() == "", "what the customer sent is not echoed back"
    page.screenshot(path=shots / "02-broken-key.png", full_page=True)

    fill_form(page, key.issuer_id, key.key_id, key.filename, key.p8.encode())
    expect(page.locator("#headline")).to_have_text("Your key works and has the Admin role.", timeout=60_000)
    page.screenshot(path=shots / "03-accepted.png", full_page=True)

    page.click("#status-link")
    phases: list[str] = []
    steps_seen = 0
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        phase = page.locator("#phase").get_attribute("data-phase") or ""
        if not phases or phases[-1] != phase:
            phases.append(phase)
            page.screenshot(path=shots / f"04-status-{len(phases):02d}-{phase}.png", full_page=True)
        steps_seen = max(steps_seen, page.locator("#steps li").count())
        if phase in ("done", "stopped"):
            break
        time.sleep(1.0)
        page.reload()
    assert phases[-1] == "done", f"phases seen: {phases}"
    assert len(phases) >= 2, f"the status page never showed the run in progress: {phases}"
    expect(page.locator("#receipt")).to_contain_text("Revoke the key now in App Store Connect")
    expect(page.locator("#receipt")).to_contain_text(key.key_id)
    # The audit trail's position and the server's file paths stay with the operator.
    expect(page.locator("#receipt")).not_to_contain_text("Audit log position")
    expect(page.locator("#receipt")).not_to_contain_text("file:")
    steps = page.locator("#steps").inner_text()
    for label in (
        "Your key was received and encrypted",
        "Submitted to Apple for review",
        "Your key was destroyed",
    ):
        assert label in steps
    page.screenshot(path=shots / "05-done.png", full_page=True)
    assert len(list(shots.glob("*.png"))) >= 5
    kept = [
        r for r in stack_intake.intake.custody.list() if r.tenant == "browser-games" and r.kind == "api_key"
    ]
    assert kept == [], "the customer's key is gone from custody"
    with stack.prefect.client() as client:
        runs = [run for run in client.read_flow_runs() if "tenant:browser-games" in run.tags]
    assert [run.state_name for run in runs] == ["Completed"], "one run, and the status page started no other"


def test_the_guide_on_a_phone_walks_through_the_steps_and_its_links_work(
    guide_intake: IntakeServer, browser: Browser, tmp_path: Path
) -> None:
    _, link = guide_intake.new_link(make_request("com.example.guide"))
    page = browser.new_page(viewport=PHONE)
    page.goto(guide_intake.base_url + link)
    steps = page.locator("#steps > li")
    expect(steps).to_have_count(len(STEPS))
    assert [steps.nth(i).get_attribute("id") for i in range(len(STEPS))] == STEPS
    assert [steps.nth(i).locator("h3").inner_text() for i in range(len(STEPS))] == [
        "Request access to the App Store Connect API",
        "Generate a team key with the Admin role",
        "Note the issuer ID and the key ID",
        "Download the key file, once",
        "Send the key here",
    ]
    wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 0, f"the page scrolls {wide} px sideways on a phone"
    page.screenshot(path=tmp_path / "guide-phone.png", full_page=True)

    # A step's advice is folded until the customer opens it.
    lost = steps.nth(3).get_by_text("The key was already downloaded and the file is lost")
    expect(lost).to_be_hidden()
    steps.nth(3).get_by_text("If this goes wrong").click()
    expect(lost).to_be_visible()
    expect(steps.nth(3).locator("details")).to_contain_text("Revoke that key")

    # "Go to step 5" takes the customer to the form.
    page.click("#skip-to-upload")
    page.wait_for_url("**#step-upload")
    expect(page.locator("#key-form")).to_be_in_viewport()

    # A refused key file: the error links to the step that explains the key, and the link goes there.
    key = make_customer_key()
    fill_form(page, key.issuer_id, key.key_id, key.filename, b"-----BEGIN ")
    expect(page.locator("#p8-error")).to_be_visible()
    page.click("#error-step")
    page.wait_for_url("**#step-generate")
    expect(page.locator("#step-generate h3")).to_be_in_viewport()
