"""The intake page's guide to Apple's steps, as served over HTTP: each step in order, with its own facts.

The intake runs under uvicorn on loopback without Prefect (a page and refused uploads never reach it) and
without Apple: every upload here is refused before a key would be checked there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.fixtures.keys import CustomerKey
from tests.intake.conftest import Browser, IntakeServer, NoPrefect, intake_settings, make_request

STEPS = ["step-access", "step-generate", "step-ids", "step-download", "step-upload"]
# What each step must say: Apple's steps and words (App Store Connect Help, "App Store Connect API";
# "Creating API Keys for App Store Connect API"), and what to do when the step fails.
FACTS = {
    "step-access": [
        "Account Holder",
        "Users and Access",
        "Integrations",
        "Request Access",
        "checkbox to agree to the terms",
        "case by case",
        "48 hours",
        "If this goes wrong",
    ],
    "step-generate": [
        "Team Keys",
        "Generate API Key",
        "Access",
        "Admin",
        "cannot be changed",
        "Revoke",
        "If this goes wrong",
    ],
    "step-ids": ["Issuer ID", "above the table of keys", "Key ID", "AuthKey_", "If this goes wrong"],
    "step-download": [
        "Download API Key",
        "only once",
        "Revoke that key",
        "generate a new one",
        "If this goes wrong",
    ],
    "step-upload": ['id="key-form"', "Send the key", "Admin role", "If this goes wrong"],
}
# An unusable file (a few bytes of a PEM header): refused by the intake's own check, before Apple.
NOT_A_KEY = b"-----BEGIN "


class Steps(HTMLParser):
    """The markup of each element whose id is a step, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.order: list[str] = []
        self.markup: dict[str, list[str]] = {}
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        step = dict(attrs).get("id")
        if step in STEPS:
            self.order.append(step)
            self.markup[step] = []
        if tag not in ("input", "br", "meta", "link"):
            self._open.append((tag, step if step in STEPS else None))
        self._add(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        self._add(f"</{tag}>")
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        self._add(data)

    def _add(self, text: str) -> None:
        for _, step in self._open:
            if step is not None:
                self.markup[step].append(text)

    def text(self, step: str) -> str:
        return " ".join("".join(self.markup[step]).split())


def steps_of(page: str) -> Steps:
    parser = Steps()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture
def guide_intake(tmp_path: Path) -> Iterator[IntakeServer]:
    # Port 9 on loopback refuses: a request that reached "Apple" would fail the test with a 503.
    settings = intake_settings(tmp_path / "data", "http://127.0.0.1:9")
    server = IntakeServer(settings, NoPrefect()).start()
    yield server
    server.stop()


@pytest.fixture
def customer(guide_intake: IntakeServer, browser_session: Callable[[str], Browser]) -> tuple[Browser, str]:
    _, link = guide_intake.new_link(make_request("com.example.guide"))
    return browser_session(guide_intake.base_url), link


def test_the_page_walks_the_customer_through_apples_steps_in_order(customer: tuple[Browser, str]) -> None:
    browser, link = customer
    page = browser.get(link)
    assert page.status_code == 200
    steps = steps_of(page.text)
    assert steps.order == STEPS
    for step, facts in FACTS.items():
        text = steps.text(step)
        missing = [fact for fact in facts if fact not in text]
        assert missing == [], f"{step} does not say {missing}"
    # Each step's own advice, and only the upload step holds the form.
    for step in STEPS:
        assert steps.text(step).count("<summary>If this goes wrong</summary>") == 1, step
    assert [step for step in STEPS if 'id="key-form"' in steps.text(step)] == ["step-upload"]
    assert "ascflow" in steps.text("step-generate"), "the key's suggested name says what it is for"
    # The page's own links point at steps that exist.
    for anchor in ('href="#step-upload"', 'href="#step-access"', 'href="#step-generate"'):
        assert anchor in page.text


@pytest.mark.parametrize(
    ("fields", "p8", "field", "step"),
    [
        ({"key_id": "abc"}, None, "key_id", "#step-ids"),
        ({"issuer_id": "not-a-uuid"}, None, "issuer_id", "#step-ids"),
        ({}, NOT_A_KEY, "p8", "#step-generate"),
    ],
)
def test_a_refused_field_points_to_the_step_that_explains_it(
    customer: tuple[Browser, str],
    customer_key: CustomerKey,
    fields: dict[str, str],
    p8: bytes | None,
    field: str,
    step: str,
) -> None:
    browser, link = customer
    refused = browser.upload(link, customer_key, p8=p8, **fields)
    assert refused.status_code in (400, 422), refused.text
    assert f'id="{field}-error"' in refused.text
    assert f'<a href="{step}" id="error-step">' in refused.text
    # With an error on the page, the upload step's advice is open, not hidden behind a click.
    assert "<details open>" in steps_of(refused.text).text("step-upload")
