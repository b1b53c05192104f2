"""The review's outcome and release control through the step list, without Prefect: a rejection ends with
Apple's state and the next step, and a resubmission after the fix reuses the version; a phased release is set up
with the submission and starts when the version goes live; SCHEDULED with its date (a past one is refused at the
form); release-app's work: a version held for the developer released, its phased rollout paused, resumed and
completed, the key kept while the rollout is open, a destroyed or foreign key refused. A rerun writes nothing."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from ascflow import contracts
from ascflow.connect.actions.common import ActionFailed
from ascflow.pipeline.job import Job, Wait
from ascflow.pipeline.release_app import (
    KeyGone,
    KeyNotHeld,
    after_release,
    check_key,
    control_release,
    release_command,
)
from ascflow.pipeline.review import ReviewRejected
from ascflow.pipeline.steps import run_in_process, run_step, step_named
from ascflow.pipeline.teardown import destroy_credentials
from ascflow.simulator.scenario import Delays
from tests.fixtures.ipa import build_ipa
from tests.pipeline.conftest import TENANT, deposit, request_for

WRITES = ("POST", "PATCH", "PUT", "DELETE")
SLOW_REVIEW = Delays(
    upload_processing_seconds=120, build_processing_seconds=600, review_wait_seconds=7200, review_seconds=7200
)


def writes(apple, since: int = 0) -> list[str]:
    return [f"{r.method} {r.path}" for r in apple.control.requests()[since:] if r.method in WRITES]


def of_type(apple, kind: str) -> list[dict]:
    return apple.control.state().get(kind, [])


@pytest.fixture
def simulator(start_simulator):
    # An hour of Apple time a second: processing takes a fraction of a second, App Review four seconds, so a
    # run (on a busy machine too) sees the review under way before it ends.
    return start_simulator(time_scale=3600.0, delays=SLOW_REVIEW)


@pytest.fixture
def ipa(tmp_path, simulator):
    return build_ipa(tmp_path / "App.ipa", simulator.bundle_id, "1.0", "7")


def until_the_review_ends(make_context, simulator, request, custody_id, done):
    """Runs await-review again with the results the run already has, as a resumed flow run does (its earlier
    steps' results are cached for the run), until it stops waiting. Rerunning the whole list would be a retry:
    its submit step submits a rejected version again, which is the resubmission, not the resume."""
    step = step_named("await-review")
    deadline = time.monotonic() + 60
    while True:
        job = Job(
            request=request, custody_id=custody_id, results={n: done[n] for n in step.needs if n in done}
        )
        result = run_step(step, make_context(simulator), job)
        if not isinstance(result, Wait):
            return {**done, step.name: result}, None
        states = [
            (kind, r["attributes"].get("state") or r["attributes"].get("appVersionState"))
            for kind in ("reviewSubmissions", "appStoreVersions")
            for r in of_type(simulator, kind)
        ]
        assert time.monotonic() < deadline, f"App Review did not end in the simulator's time: {states}"
        time.sleep(0.05)


def test_a_rejected_review_ends_with_the_state_and_a_resubmission_reuses_the_version(
    simulator, make_context, ipa
):
    simulator.control.set_review_outcomes(review="UNRESOLVED_ISSUES")
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    request = request_for(simulator, ipa)
    done, wait = run_in_process(ctx, request, custody_id)
    assert wait is not None
    assert wait.kind == "review"
    version_id = done["prepare-version"].version_id  # type: ignore[attr-defined]
    submission_id = done["submit-for-review"].submission_id  # type: ignore[attr-defined]

    with pytest.raises(ReviewRejected) as rejected:
        until_the_review_ends(make_context, simulator, request, custody_id, done)
    assert "version REJECTED" in rejected.value.what
    assert "submission UNRESOLVED_ISSUES" in rejected.value.what
    assert "the version is reused and submitted again" in rejected.value.next_step
    outcomes = [(e.action.value, e.outcome, e.error_code) for e in ctx.audit.events()]
    assert ("review.outcome", "failure", "UNRESOLVED_ISSUES") in outcomes

    # The customer fixed the cause; the retry submits the same version through the same submission.
    simulator.control.set_review_outcomes(review="COMPLETE")
    versions_before = len(of_type(simulator, "appStoreVersions"))
    done, wait = run_in_process(make_context(simulator), request, custody_id)
    assert wait is not None
    assert done["prepare-version"].version_id == version_id  # type: ignore[attr-defined]
    assert done["submit-for-review"].submission_id == submission_id  # type: ignore[attr-defined]
    assert len(of_type(simulator, "appStoreVersions")) == versions_before
    done, wait = until_the_review_ends(make_context, simulator, request, custody_id, done)
    assert wait is None
    review = done["await-review"]
    assert review.decision == "approved"
    assert review.version_state == "READY_FOR_DISTRIBUTION"
    assert "nothing to do" in review.outcome()


def test_a_phased_release_is_set_up_with_the_submission_and_starts_when_the_version_goes_live(
    simulator, make_context, ipa
):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    request = request_for(simulator, ipa, phased_release=True)
    done, wait = run_in_process(ctx, request, custody_id)
    assert wait is not None
    assert done["phased-release"].outcome() == "phased release INACTIVE"
    assert done["phased-release"].resources()[0].this_run == "created"
    done, wait = until_the_review_ends(make_context, simulator, request, custody_id, done)
    assert wait is None
    assert done["await-review"].version_state == "READY_FOR_DISTRIBUTION"
    (phased,) = of_type(simulator, "appStoreVersionPhasedReleases")
    assert phased["attributes"]["phasedReleaseState"] == "ACTIVE"

    before = len(simulator.control.requests())
    done, wait = run_in_process(make_context(simulator), request, custody_id)
    assert wait is None
    assert writes(simulator, before) == []
    assert done["phased-release"].outcome() == "phased release ACTIVE"


def test_without_phased_release_none_is_made(simulator, make_context, ipa):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    done, _ = run_in_process(ctx, request_for(simulator, ipa), custody_id)
    assert "phased-release" not in done
    assert of_type(simulator, "appStoreVersionPhasedReleases") == []


def test_a_scheduled_release_with_a_past_date_is_refused_at_the_form(simulator):
    past = datetime.now(UTC) - timedelta(hours=1)
    with pytest.raises(ValidationError) as refused:
        request_for(simulator, None, release_type="SCHEDULED", earliest_release_date=past)
    (problem,) = refused.value.errors()
    assert problem["loc"] == ("earliest_release_date",)
    assert "in the past" in problem["msg"]
    with pytest.raises(ValidationError, match="earliest_release_date: give it exactly when"):
        request_for(simulator, None, release_type="SCHEDULED")


def test_a_scheduled_release_writes_its_date_once(simulator, make_context, ipa):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    when = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0, second=0)
    request = request_for(simulator, ipa, release_type="SCHEDULED", earliest_release_date=when)
    skip = frozenset({"await-review"})
    done, wait = run_in_process(ctx, request, custody_id, skip=skip)
    assert wait is None
    assert done["schedule-release"].outcome() == "release date written"
    version = next(
        v
        for v in of_type(simulator, "appStoreVersions")
        if v["id"] == done["prepare-version"].version_id  # type: ignore[attr-defined]
    )
    assert version["attributes"]["releaseType"] == "SCHEDULED"
    assert datetime.fromisoformat(version["attributes"]["earliestReleaseDate"]) == when

    before = len(simulator.control.requests())
    done, _ = run_in_process(make_context(simulator), request, custody_id, skip=skip)
    assert writes(simulator, before) == []
    assert done["schedule-release"].outcome() == "nothing to change"


def test_a_manual_release_is_released_once_by_release_app(simulator, make_context, ipa):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    request = request_for(simulator, ipa, release_type="MANUAL")

    def release():
        return control_release(make_context(simulator), custody_id, simulator.bundle_id, "1.0", "release")

    done, wait = run_in_process(ctx, request, custody_id)
    assert wait is not None
    with pytest.raises(ActionFailed, match=r"WAITING_FOR_REVIEW|IN_REVIEW") as too_early:
        release()
    assert "Wait until App Review approves" in too_early.value.next_step
    done, wait = until_the_review_ends(make_context, simulator, request, custody_id, done)
    assert wait is None
    assert done["await-review"].version_state == "PENDING_DEVELOPER_RELEASE"

    released = release()
    assert released.changed
    assert released.version_state in {"PROCESSING_FOR_DISTRIBUTION", "READY_FOR_DISTRIBUTION"}
    # Without a phased rollout nothing is left for the key to do: release-app destroys it.
    assert after_release(ctx, released, TENANT, simulator.bundle_id, "1.0", custody_id) is None
    before = len(simulator.control.requests())
    again = release()
    assert not again.changed
    assert writes(simulator, before) == []
    with pytest.raises(ActionFailed, match=r"no version 9\.9"):
        control_release(make_context(simulator), custody_id, simulator.bundle_id, "9.9", "release")


def until_live(simulator, version_id: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        version = next(v for v in of_type(simulator, "appStoreVersions") if v["id"] == version_id)
        if version["attributes"]["appVersionState"] == "READY_FOR_DISTRIBUTION":
            return
        assert time.monotonic() < deadline, version["attributes"]
        time.sleep(0.05)


def test_release_app_releases_a_phased_manual_version_and_controls_its_rollout_keeping_the_key_until_complete(
    simulator, make_context, ipa
):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    request = request_for(simulator, ipa, release_type="MANUAL", phased_release=True)
    done, _ = run_in_process(ctx, request, custody_id)
    done, wait = until_the_review_ends(make_context, simulator, request, custody_id, done)
    assert wait is None
    command = release_command(TENANT, simulator.bundle_id, "1.0", custody_id)
    assert command in done["await-review"].next_step
    version_id = done["prepare-version"].version_id

    def control(action):
        return control_release(make_context(simulator), custody_id, simulator.bundle_id, "1.0", action)

    with pytest.raises(ActionFailed, match="cannot be paused yet") as too_early:
        control("pause")
    assert "Release it first" in too_early.value.next_step
    released = control("release")
    assert released.changed
    assert released.phased_state == "INACTIVE"
    kept = after_release(ctx, released, TENANT, simulator.bundle_id, "1.0", custody_id)
    assert kept is not None
    assert kept.command == release_command(TENANT, simulator.bundle_id, "1.0", custody_id, "complete")
    until_live(simulator, version_id)

    paused = control("pause")
    assert (paused.changed, paused.phased_state) == (True, "PAUSED")
    before = len(simulator.control.requests())
    for action, state in (("pause", "PAUSED"), ("release", "PAUSED")):
        again = control(action)
        assert (again.changed, again.phased_state) == (False, state)
    assert writes(simulator, before) == []
    assert control("resume").phased_state == "ACTIVE"
    completed = control("complete")
    assert (completed.changed, completed.phased_state) == (True, "COMPLETE")
    assert after_release(ctx, completed, TENANT, simulator.bundle_id, "1.0", custody_id) is None
    with pytest.raises(ActionFailed, match="from COMPLETE to PAUSED"):
        control("pause")


def test_release_app_refuses_a_destroyed_key_or_another_customers_before_asking_apple(
    simulator, make_context
):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    with pytest.raises(KeyNotHeld, match="not other-games"):
        check_key(ctx, custody_id, "other-games", simulator.bundle_id)
    check_key(ctx, custody_id, TENANT, simulator.bundle_id)
    receipt = destroy_credentials(ctx, custody_id)
    before = len(simulator.control.requests())
    with pytest.raises(KeyGone) as gone:
        check_key(ctx, custody_id, TENANT, simulator.bundle_id)
    assert gone.value.receipt == receipt
    assert "nothing was asked of Apple" in gone.value.what
    with pytest.raises(KeyNotHeld):
        check_key(ctx, "NoSuchRecord01", TENANT, simulator.bundle_id)
    assert len(simulator.control.requests()) == before


def test_release_app_and_onboarding_share_the_apps_lock(simulator):
    request = request_for(simulator, None)
    assert contracts.app_lock(request.tenant, request.bundle_id) == request.concurrency_key
