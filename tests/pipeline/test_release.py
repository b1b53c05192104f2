"""The review's outcome and release control through the step list, without Prefect: a rejection ends with
Apple's state and the next step, and a resubmission after the fix reuses the version; a phased release is set up
with the submission and starts when the version goes live; SCHEDULED with its date (a past one is refused at the
form); a version held for the developer is released by `release_now`. A rerun writes nothing."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from ascflow.connect.actions.common import ActionFailed
from ascflow.pipeline.release import release_now
from ascflow.pipeline.review import ReviewRejected
from ascflow.pipeline.steps import run_in_process
from ascflow.simulator.scenario import Delays
from tests.fixtures.ipa import build_ipa
from tests.pipeline.conftest import deposit, request_for

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


def until_the_review_ends(make_context, simulator, request, custody_id):
    """Runs the step list again (as the poller's resume does) until await-review stops waiting."""
    deadline = time.monotonic() + 30
    while True:
        done, wait = run_in_process(make_context(simulator), request, custody_id)
        if wait is None or wait.kind != "review":
            return done, wait
        assert time.monotonic() < deadline, "App Review did not end in the simulator's time"
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
        until_the_review_ends(make_context, simulator, request, custody_id)
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
    done, wait = until_the_review_ends(make_context, simulator, request, custody_id)
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
    done, wait = until_the_review_ends(make_context, simulator, request, custody_id)
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


def test_a_manual_release_is_released_once_by_release_now(simulator, make_context, ipa):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    request = request_for(simulator, ipa, release_type="MANUAL")
    _, wait = run_in_process(ctx, request, custody_id)
    assert wait is not None
    with pytest.raises(ActionFailed, match=r"WAITING_FOR_REVIEW|IN_REVIEW") as too_early:
        release_now(ctx, custody_id, simulator.bundle_id, "1.0")
    assert "Wait until App Review approves" in too_early.value.next_step
    done, wait = until_the_review_ends(make_context, simulator, request, custody_id)
    assert wait is None
    assert done["await-review"].version_state == "PENDING_DEVELOPER_RELEASE"

    released = release_now(make_context(simulator), custody_id, simulator.bundle_id, "1.0")
    assert released.requested_now
    assert released.state in {"PROCESSING_FOR_DISTRIBUTION", "READY_FOR_DISTRIBUTION"}
    before = len(simulator.control.requests())
    again = release_now(make_context(simulator), custody_id, simulator.bundle_id, "1.0")
    assert not again.requested_now
    assert writes(simulator, before) == []
