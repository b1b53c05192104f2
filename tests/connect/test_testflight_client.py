"""TestFlight actions against the simulator over real HTTP: What to Test, groups, testers, test information,
beta review details and the beta app review submission; each written once, a rerun writes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr

from ascflow.connect.actions.common import ActionFailed, Ensured, poll_until
from ascflow.connect.actions.testflight import (
    DemoAccount,
    ReviewContact,
    beta_review_state,
    ensure_beta_app_description,
    ensure_beta_group,
    ensure_beta_review_details,
    ensure_beta_review_submitted,
    ensure_beta_whats_new,
    ensure_group_has_build,
    ensure_testers,
)
from ascflow.connect.errors import Conflict
from ascflow.connect.testflight_models import BetaReviewState
from ascflow.simulator.faults import FaultPlan, FaultRule
from ascflow.simulator.scenario import AppSpec, BetaGroupSpec, BetaTesterSpec, BuildSpec, PersonSpec
from tests.connect.conftest import POLL, Apple

APP_ID = "6400000077"
BUILD_ID = "b7c1e2d3-0000-4000-8000-000000000001"
PASSWORD = "hunter2-demo-only"
CONTACT = ReviewContact(
    first_name="Rita", last_name="Reviewer", phone="+1 555 0100", email="rita@example.com"
)
DEMO = DemoAccount(username="demo@example.com", password=SecretStr(PASSWORD))
TESTERS = [("ann@example.com", "Ann", "Lee"), ("bob@example.com", "Bob", "Ray")]


@dataclass
class BetaApp:
    apple: Apple

    def mark(self) -> int:
        return len(self.apple.transport.requests)

    def writes(self, since: int = 0) -> list[str]:
        return [
            f"{r.method} {r.url.path}" for r in self.apple.transport.requests[since:] if r.method != "GET"
        ]

    def bodies(self, method: str, since: int = 0) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.apple.transport.requests[since:] if r.method == method]

    def state(self, resource: str) -> list[dict[str, Any]]:
        return self.apple.control.state().get(resource, [])


def start(
    make_apple: Callable[..., Apple], groups: list[BetaGroupSpec] | None = None, **fields: object
) -> BetaApp:
    app = AppSpec(
        id=APP_ID,
        name="Tally",
        bundle_id="com.example.tally",
        sku="TALLY-7",
        builds=[
            BuildSpec(id=BUILD_ID, version="1.0", build_number="7", uses_non_exempt_encryption=False),
        ],
        beta_groups=groups or [],
    )
    users = [PersonSpec(email="dev@example.com", first_name="Dev", last_name="Eloper")]
    return BetaApp(make_apple(apps=[app], users=users, **fields))


@pytest.fixture
def tf(make_apple: Callable[..., Apple]) -> BetaApp:
    return start(make_apple)


def external_testing(tf: BetaApp) -> list[Ensured[Any]]:
    """Every step of external testing for the build, in the pipeline's order."""
    client = tf.apple.client
    group = ensure_beta_group(client, APP_ID, "Friends", internal=False)
    return [
        ensure_beta_whats_new(client, BUILD_ID, {"en-US": "Try the widgets.", "de-DE": "Teste die Widgets."}),
        group,
        ensure_group_has_build(client, group.resource.id, BUILD_ID),
        ensure_testers(client, group.resource.id, TESTERS),
        ensure_beta_app_description(client, APP_ID, "en-US", "A counter for anything."),
        ensure_beta_review_details(client, APP_ID, CONTACT, DEMO, "Sign in with the demo account."),
        ensure_beta_review_submitted(client, BUILD_ID),
    ]


def test_external_testing_writes_each_thing_once_and_a_rerun_writes_nothing(tf: BetaApp) -> None:
    first = external_testing(tf)
    assert sorted(tf.writes()) == sorted(
        [
            "POST /v1/betaBuildLocalizations",
            "POST /v1/betaBuildLocalizations",
            "POST /v1/betaGroups",
            f"POST /v1/betaGroups/{first[1].resource.id}/relationships/builds",
            "POST /v1/betaTesters",
            "POST /v1/betaTesters",
            "POST /v1/betaAppLocalizations",
            f"PATCH /v1/betaAppReviewDetails/{tf.state('betaAppReviewDetails')[0]['id']}",
            "POST /v1/betaAppReviewSubmissions",
        ]
    )
    assert all(one.created or one.changes for one in first)
    mark = tf.mark()
    again = external_testing(tf)
    assert tf.writes(mark) == []
    assert [(one.created, one.changes) for one in again] == [(False, ())] * len(again)
    testers = tf.state("betaTesters")
    assert sorted(t["attributes"]["email"] for t in testers) == ["ann@example.com", "bob@example.com"]


def test_what_to_test_patches_a_locale_that_exists_and_creates_only_the_missing_one(tf: BetaApp) -> None:
    client = tf.apple.client
    ensure_beta_whats_new(client, BUILD_ID, {"en-US": "Try the widgets."})
    mark = tf.mark()
    changed = ensure_beta_whats_new(
        client, BUILD_ID, {"en-US": "Try sharing.", "fr-FR": "Essayez le partage."}
    )
    assert changed.changes == ("What to Test (en-US): updated", "What to Test (fr-FR): created")
    assert [w.split()[0] for w in tf.writes(mark)] == ["PATCH", "POST"]
    assert tf.bodies("PATCH", mark)[0]["data"]["attributes"] == {"whatsNew": "Try sharing."}
    held = {
        loc["attributes"]["locale"]: loc["attributes"]["whatsNew"]
        for loc in tf.state("betaBuildLocalizations")
    }
    assert held == {"en-US": "Try sharing.", "fr-FR": "Essayez le partage."}
    assert {k: v.attributes.whats_new for k, v in changed.resource.items()} == held


def test_testers_present_or_invited_elsewhere_are_not_added_twice_whatever_their_case(
    make_apple: Callable[..., Apple],
) -> None:
    tf = start(
        make_apple,
        groups=[
            BetaGroupSpec(
                name="Friends", testers=[BetaTesterSpec(email="Ann@Example.com", first_name="Ann")]
            ),
            BetaGroupSpec(name="Family", testers=[BetaTesterSpec(email="bob@example.com", first_name="Bob")]),
        ],
    )
    client = tf.apple.client
    friends = ensure_beta_group(client, APP_ID, "Friends", internal=False)
    assert not friends.created
    rows = [
        ("ann@example.com", "Ann", "Lee"),
        ("BOB@example.com", "Bob", "Ray"),
        ("cy@example.com", "Cy", "Oh"),
    ]
    made = ensure_testers(client, friends.resource.id, rows)
    assert made.changes == (
        "testers: 1 known tester(s) added to the group",
        "testers: 1 new tester(s) invited",
    )
    group_path = f"/v1/betaGroups/{friends.resource.id}/relationships/betaTesters"
    assert tf.writes() == [f"POST {group_path}", "POST /v1/betaTesters"]
    assert len(tf.state("betaTesters")) == 3
    assert sorted((t.attributes.email or "").lower() for t in made.resource) == [
        "ann@example.com",
        "bob@example.com",
        "cy@example.com",
    ]
    mark = tf.mark()
    again = ensure_testers(client, friends.resource.id, [(e.upper(), f, last) for e, f, last in rows])
    assert (again.created, again.changes, tf.writes(mark)) == (False, (), [])


def test_bad_tester_rows_are_refused_by_position_before_any_call(tf: BetaApp) -> None:
    with pytest.raises(ValueError, match=r"testers\[1\] email: 'bob at example.com'"):
        ensure_testers(tf.apple.client, "G1", [TESTERS[0], ("bob at example.com", "Bob", "Ray")])
    with pytest.raises(ValueError, match=r"testers\[0\] first/last name"):
        ensure_testers(tf.apple.client, "G1", [("ann@example.com", " ", "Lee")])
    assert tf.apple.transport.requests == []


def test_a_group_of_the_other_kind_is_refused_not_duplicated(make_apple: Callable[..., Apple]) -> None:
    tf = start(make_apple, groups=[BetaGroupSpec(name="Team", internal=True)])
    with pytest.raises(ActionFailed, match="already has an internal beta group named 'Team'") as refused:
        ensure_beta_group(tf.apple.client, APP_ID, "Team", internal=False)
    assert "another group name" in refused.value.next_step
    assert tf.writes() == []
    internal = ensure_beta_group(tf.apple.client, APP_ID, "Team", internal=True)
    assert (internal.created, tf.writes()) == (False, [])


def test_an_internal_group_takes_team_users_and_apple_names_a_stranger(tf: BetaApp) -> None:
    client = tf.apple.client
    team = ensure_beta_group(client, APP_ID, "Team", internal=True)
    assert team.created
    assert team.resource.attributes.is_internal_group
    made = ensure_testers(client, team.resource.id, [("Dev@Example.com", "Dev", "Eloper")])
    assert made.changes == ("testers: 1 new tester(s) invited",)
    with pytest.raises(Conflict, match="not a user of this team") as refused:
        ensure_testers(client, team.resource.id, [("stranger@example.com", "Sam", "Stone")])
    assert refused.value.code == "STATE_ERROR"
    assert len(tf.state("betaTesters")) == 1


def test_a_beta_review_submission_apple_refuses_names_what_is_missing(tf: BetaApp) -> None:
    client = tf.apple.client
    with pytest.raises(Conflict) as refused:
        ensure_beta_review_submitted(client, BUILD_ID)
    details = [error.detail or "" for error in refused.value.errors]
    assert any("Beta App Description is required" in d for d in details)
    assert any("contactFirstName" in d for d in details)
    assert tf.state("betaAppReviewSubmissions") == []
    assert beta_review_state(client, BUILD_ID) is None


def test_beta_review_details_patch_only_the_difference_and_show_the_password_nowhere_else(
    tf: BetaApp,
) -> None:
    client = tf.apple.client
    made = ensure_beta_review_details(client, APP_ID, CONTACT, DEMO, None)
    (body,) = tf.bodies("PATCH")
    assert body["data"]["attributes"] == {
        "contactFirstName": "Rita",
        "contactLastName": "Reviewer",
        "contactPhone": "+1 555 0100",
        "contactEmail": "rita@example.com",
        "demoAccountRequired": True,
        "demoAccountName": "demo@example.com",
        "demoAccountPassword": PASSWORD,
    }
    assert PASSWORD not in repr(made)
    assert PASSWORD not in " ".join(made.changes)
    assert made.changes == (
        "beta review details: contactFirstName, contactLastName, contactPhone, contactEmail, "
        "demoAccountRequired, demoAccountName, demoAccountPassword",
    )

    mark = tf.mark()
    assert ensure_beta_review_details(client, APP_ID, CONTACT, DEMO, None).changes == ()
    noted = ensure_beta_review_details(client, APP_ID, CONTACT, DEMO, "Tap Sign in.")
    assert noted.changes == ("beta review details: notes",)
    assert [b["data"]["attributes"] for b in tf.bodies("PATCH", mark)] == [{"notes": "Tap Sign in."}]
    new_password = DemoAccount(username="demo@example.com", password=SecretStr("another-one"))
    mark = tf.mark()
    ensure_beta_review_details(client, APP_ID, CONTACT, new_password, "Tap Sign in.")
    assert [b["data"]["attributes"] for b in tf.bodies("PATCH", mark)] == [
        {"demoAccountPassword": "another-one"}
    ]


def test_beta_app_description_is_updated_in_place(tf: BetaApp) -> None:
    client = tf.apple.client
    assert ensure_beta_app_description(client, APP_ID, "en-US", "A counter.").created
    mark = tf.mark()
    changed = ensure_beta_app_description(client, APP_ID, "en-US", "A counter for anything.")
    assert (changed.created, changed.changes) == (False, ("beta app description (en-US): updated",))
    assert [w.split()[0] for w in tf.writes(mark)] == ["PATCH"]
    assert changed.resource.attributes.description == "A counter for anything."
    assert len(tf.state("betaAppLocalizations")) == 1


@pytest.mark.parametrize("outcome", [BetaReviewState.APPROVED, BetaReviewState.REJECTED])
def test_beta_review_is_submitted_once_per_build_and_its_state_read(
    make_apple: Callable[..., Apple], outcome: BetaReviewState
) -> None:
    tf = start(make_apple, beta_review_outcome=outcome.value)
    client = tf.apple.client
    assert beta_review_state(client, BUILD_ID) is None
    external_testing(tf)
    assert tf.writes().count("POST /v1/betaAppReviewSubmissions") == 1
    ended = poll_until(
        lambda: beta_review_state(client, BUILD_ID),
        lambda state: state in {BetaReviewState.APPROVED, BetaReviewState.REJECTED},
        what="beta review",
        poll_interval=POLL,
        timeout=10,
    )
    assert ended is outcome
    mark = tf.mark()
    again = ensure_beta_review_submitted(client, BUILD_ID)
    assert (again.created, again.resource.attributes.beta_review_state, tf.writes(mark)) == (
        False,
        outcome,
        [],
    )


def _group_id(tf: BetaApp) -> str:
    return ensure_beta_group(tf.apple.client, APP_ID, "Friends", internal=False).resource.id


LOST_ANSWERS: list[tuple[str, str, str, Callable[[BetaApp], object]]] = [
    ("POST", "/v1/betaGroups", "betaGroups", _group_id),
    (
        "POST",
        "/v1/betaBuildLocalizations",
        "betaBuildLocalizations",
        lambda tf: ensure_beta_whats_new(tf.apple.client, BUILD_ID, {"en-US": "Try it."}),
    ),
    (
        "POST",
        "/v1/betaTesters",
        "betaTesters",
        lambda tf: ensure_testers(tf.apple.client, _group_id(tf), TESTERS[:1]),
    ),
    (
        "POST",
        "/v1/betaAppLocalizations",
        "betaAppLocalizations",
        lambda tf: ensure_beta_app_description(tf.apple.client, APP_ID, "en-US", "A counter."),
    ),
    (
        "POST",
        "/v1/betaAppReviewSubmissions",
        "betaAppReviewSubmissions",
        lambda tf: external_testing(tf),
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "resource", "action"), LOST_ANSWERS, ids=[p for _, p, _, _ in LOST_ANSWERS]
)
def test_a_lost_answer_creates_nothing_twice(
    make_apple: Callable[..., Apple],
    method: str,
    path: str,
    resource: str,
    action: Callable[[BetaApp], object],
) -> None:
    rule = FaultRule(kind="drop_after_write", path=path, methods=[method], count=1)
    tf = start(make_apple, faults=FaultPlan(rules=[rule]))
    action(tf)
    assert [r.fault for r in tf.apple.log()].count("drop_after_write") == 1
    # The one write was applied and its answer lost: it was read back, not sent again.
    assert tf.writes().count(f"{method} {path}") == 1
    assert len(tf.state(resource)) == 1


def test_a_lost_answer_to_linking_the_build_or_patching_details_is_read_back(
    make_apple: Callable[..., Apple],
) -> None:
    rules = [
        FaultRule(
            kind="drop_after_write", path="/v1/betaGroups/*/relationships/builds", methods=["POST"], count=1
        ),
        FaultRule(kind="drop_after_write", path="/v1/betaAppReviewDetails/*", methods=["PATCH"], count=1),
    ]
    tf = start(make_apple, faults=FaultPlan(rules=rules))
    group_id = _group_id(tf)
    linked = ensure_group_has_build(tf.apple.client, group_id, BUILD_ID)
    details = ensure_beta_review_details(tf.apple.client, APP_ID, CONTACT, None, "Notes.")
    assert linked.created
    assert details.changes
    assert [r.fault for r in tf.apple.log()].count("drop_after_write") == 2
    assert tf.writes().count(f"POST /v1/betaGroups/{group_id}/relationships/builds") == 1
    assert tf.writes().count(f"PATCH /v1/betaAppReviewDetails/{details.resource.id}") == 1


def test_a_lost_answer_to_adding_a_known_tester_to_a_group_is_read_back(
    make_apple: Callable[..., Apple],
) -> None:
    rule = FaultRule(
        kind="drop_after_write", path="/v1/betaGroups/*/relationships/betaTesters", methods=["POST"], count=1
    )
    family = BetaGroupSpec(name="Family", testers=[BetaTesterSpec(email="bob@example.com", first_name="Bob")])
    tf = start(make_apple, groups=[family], faults=FaultPlan(rules=[rule]))
    group_id = _group_id(tf)
    made = ensure_testers(tf.apple.client, group_id, [("Bob@Example.com", "Bob", "Ray")])
    assert made.changes == ("testers: 1 known tester(s) added to the group",)
    assert [r.fault for r in tf.apple.log()].count("drop_after_write") == 1
    assert tf.writes().count(f"POST /v1/betaGroups/{group_id}/relationships/betaTesters") == 1
    assert len(tf.state("betaTesters")) == 1
