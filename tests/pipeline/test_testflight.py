"""TestFlight through the step list, without Prefect: What to Test and the team in an internal group; an external
group through Beta App Review (a wait, then approved once the simulator's time has passed; a rejection stops with
the next step); TestFlight only sends nothing to App Review. A rerun writes nothing."""

from __future__ import annotations

import time

import pytest

from ascflow.listing.model import DemoAccount
from ascflow.pipeline.request import ExternalGroup, ReviewContact
from ascflow.pipeline.request import Tester as BetaTester
from ascflow.pipeline.request import TestFlight as Beta
from ascflow.pipeline.steps import run_in_process
from ascflow.pipeline.testflight import BetaReviewRejected, beta_review_ended
from ascflow.simulator.scenario import PersonSpec
from tests.fixtures.ipa import build_ipa
from tests.fixtures.simulator import FAST_DELAYS
from tests.pipeline.conftest import deposit, request_for

NOT_REVIEW = frozenset({"await-review"})
WRITES = ("POST", "PATCH", "PUT", "DELETE")
MEMBER = "lead@publisher.example"
PASSWORD = "beta-demo-password-1"


def writes(apple, since: int = 0) -> list[str]:
    return [f"{r.method} {r.path}" for r in apple.control.requests()[since:] if r.method in WRITES]


def of_type(apple, kind: str) -> list[dict]:
    return apple.control.state().get(kind, [])


@pytest.fixture
def simulator(start_simulator):
    # Beta App Review takes two seconds of wall time: a run on a busy machine still sees it under way.
    delays = FAST_DELAYS.model_copy(
        update={"beta_review_wait_seconds": 36_000, "beta_review_seconds": 36_000}
    )
    return start_simulator(delays=delays)


@pytest.fixture
def ipa(tmp_path, simulator):
    return build_ipa(tmp_path / "App.ipa", simulator.bundle_id, "1.0", "7")


def external() -> ExternalGroup:
    return ExternalGroup(
        name="Friends",
        testers=[
            BetaTester(email="ann@example.org", first_name="Ann", last_name="Tester"),
            BetaTester(email="ANN@example.org", first_name="Ann", last_name="Again"),  # the same address
            BetaTester(email="bo@example.org", first_name="Bo", last_name="Tester"),
        ],
        description={"en-US": "A demo app: try the levels."},
        review_contact=ReviewContact(
            first_name="Robin",
            last_name="Review",
            phone="+1 555 0100",
            email="robin@acme.example",
            notes="Hi",
        ),
        demo_account=DemoAccount(name="reviewer@acme.example", password_env="ACME_BETA_PASSWORD"),
    )


def wait_for_beta_review(ctx, custody_id: str, build_id: str) -> None:
    deadline = time.monotonic() + 10
    while not beta_review_ended(ctx, custody_id, build_id):
        assert time.monotonic() < deadline, "Beta App Review did not end in the simulator's time"
        time.sleep(0.05)


def test_internal_testing_gives_the_build_to_the_team_and_a_rerun_writes_nothing(
    simulator, make_context, ipa
):
    simulator.control.add_user(PersonSpec(email=MEMBER, first_name="Lee", last_name="Lead"))
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    invitees = [
        {"email": MEMBER, "first_name": "Lee", "last_name": "Lead"},
        {"email": "dev@publisher.example", "first_name": "Dev", "last_name": "Eloper"},
    ]
    request = request_for(
        simulator, ipa, invitees=invitees, testflight=Beta(whats_new={"en-US": "Try the new level."})
    )
    done, wait = run_in_process(ctx, request, custody_id, skip=NOT_REVIEW)
    assert wait is None
    internal = done["testflight-internal"]
    assert "testflight-external" not in done
    (group,) = of_type(simulator, "betaGroups")
    assert group["attributes"]["isInternalGroup"] is True
    assert group["attributes"]["name"] == "Publishing team"
    build_id = done["upload-build"].build_id  # type: ignore[attr-defined]
    assert group["relationships"]["builds"] == [build_id]
    testers = {t["id"]: t["attributes"]["email"] for t in of_type(simulator, "betaTesters")}
    assert [testers[t] for t in group["relationships"]["betaTesters"]] == [MEMBER]
    (what,) = of_type(simulator, "betaBuildLocalizations")
    assert what["attributes"]["whatsNew"] == "Try the new level."
    assert internal.not_yet_members == 1  # type: ignore[attr-defined]
    assert "1 invitee(s) not in the team yet" in internal.outcome()
    assert internal.resources()[0].this_run == "created"

    before = len(simulator.control.requests())
    done, wait = run_in_process(make_context(simulator), request, custody_id, skip=NOT_REVIEW)
    assert wait is None
    assert writes(simulator, before) == []
    assert done["testflight-internal"].resources()[0].this_run == "reused"


def test_external_testing_waits_for_beta_review_then_is_approved_and_a_rerun_writes_nothing(
    simulator, make_context, ipa, monkeypatch
):
    monkeypatch.setenv("ACME_BETA_PASSWORD", PASSWORD)
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    request = request_for(simulator, ipa, testflight=Beta(external_group=external()))
    done, wait = run_in_process(ctx, request, custody_id, skip=NOT_REVIEW)
    assert wait is not None
    assert wait.kind == "beta-review"
    build_id = done["upload-build"].build_id  # type: ignore[attr-defined]
    assert wait.submission_id == build_id
    assert "prepare-version" not in done  # the App Store steps come after the beta review
    (submission,) = of_type(simulator, "betaAppReviewSubmissions")
    assert submission["attributes"]["betaReviewState"] in {"WAITING_FOR_REVIEW", "IN_REVIEW"}
    group = next(g for g in of_type(simulator, "betaGroups") if not g["attributes"]["isInternalGroup"])
    assert len(group["relationships"]["betaTesters"]) == 2  # ann once, bo
    (detail,) = of_type(simulator, "betaAppReviewDetails")
    assert detail["attributes"]["demoAccountName"] == "reviewer@acme.example"
    assert detail["attributes"]["demoAccountPassword"] == PASSWORD
    assert PASSWORD not in done["testflight-external"].model_dump_json()

    wait_for_beta_review(make_context(simulator), custody_id, build_id)
    done, wait = run_in_process(make_context(simulator), request, custody_id, skip=NOT_REVIEW)
    assert wait is None
    assert done["await-beta-review"].outcome() == "Beta App Review APPROVED"
    assert done["submit-for-review"].submission_state == "WAITING_FOR_REVIEW"  # type: ignore[attr-defined]

    before = len(simulator.control.requests())
    run_in_process(make_context(simulator), request, custody_id, skip=NOT_REVIEW)
    assert writes(simulator, before) == []
    assert len(of_type(simulator, "betaTesters")) == 2
    assert not any(PASSWORD in record.model_dump_json() for record in ctx.audit.events())


def test_a_rejected_beta_review_stops_with_the_next_step(simulator, make_context, ipa, monkeypatch):
    monkeypatch.setenv("ACME_BETA_PASSWORD", PASSWORD)
    simulator.control.set_review_outcomes(beta_review="REJECTED")
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    request = request_for(simulator, ipa, testflight=Beta(external_group=external()), app_store=False)
    done, wait = run_in_process(ctx, request, custody_id)
    assert wait is not None
    wait_for_beta_review(ctx, custody_id, done["upload-build"].build_id)  # type: ignore[attr-defined]
    with pytest.raises(BetaReviewRejected) as rejected:
        run_in_process(make_context(simulator), request, custody_id)
    assert "REJECTED" in rejected.value.what
    assert "upload a new build" in rejected.value.next_step


def test_testflight_only_sends_nothing_to_app_review(simulator, make_context, ipa, monkeypatch):
    monkeypatch.setenv("ACME_BETA_PASSWORD", PASSWORD)
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    request = request_for(
        simulator, ipa, testflight=Beta(external_group=external()), app_store=False, review_contact=None
    )
    done, wait = run_in_process(ctx, request, custody_id)
    assert wait is not None
    assert wait.kind == "beta-review"
    wait_for_beta_review(ctx, custody_id, done["upload-build"].build_id)  # type: ignore[attr-defined]
    done, wait = run_in_process(make_context(simulator), request, custody_id)
    assert wait is None
    assert {"testflight-internal", "testflight-external", "await-beta-review"} <= done.keys()
    assert not {"prepare-version", "submit-for-review", "await-review"} & done.keys()
    app_store_writes = [
        w
        for w in writes(simulator)
        if w.split(" ")[1].startswith(("/v1/appStoreVersion", "/v1/reviewSubmission"))
    ]
    assert app_store_writes == []


def test_testflight_only_without_testflight_is_refused_naming_the_field(simulator):
    with pytest.raises(ValueError, match="app_store: off without testflight"):
        request_for(simulator, None, app_store=False)
