"""Release control against the simulator over real HTTP: the review's outcome, the manual release request (only
from PENDING_DEVELOPER_RELEASE, once) and the phased release (start, pause, resume, complete)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from ascflow.connect.actions.common import ActionFailed, poll_until
from ascflow.connect.actions.release import ensure_localizations, ensure_review_details
from ascflow.connect.actions.release_control import (
    ReviewDecision,
    ReviewOutcome,
    ensure_phased_release,
    release_version,
    review_outcome,
)
from ascflow.connect.actions.review import ensure_review_submission_submitted
from ascflow.connect.models import AppStoreReviewDetailAttributes, AppVersionState, ReviewSubmissionState
from ascflow.connect.testflight_models import PhasedReleaseState
from ascflow.simulator.faults import FaultPlan, FaultRule
from ascflow.simulator.scenario import AppSpec, BuildSpec, SubmissionSpec, VersionSpec
from tests.connect.conftest import POLL, Apple

APP_ID = "6400000088"
LIVE_ID = "a1b2c3d4-0000-4000-8000-000000000009"
VERSION_ID = "a1b2c3d4-0000-4000-8000-000000000010"
SUBMISSION_ID = "a1b2c3d4-0000-4000-8000-000000000020"
CONTACT = AppStoreReviewDetailAttributes(
    contact_first_name="Rita",
    contact_last_name="Reviewer",
    contact_phone="+1 555 0100",
    contact_email="rita@example.com",
)
ACTIVE, PAUSED, COMPLETE, INACTIVE = (
    PhasedReleaseState.ACTIVE,
    PhasedReleaseState.PAUSED,
    PhasedReleaseState.COMPLETE,
    PhasedReleaseState.INACTIVE,
)


@dataclass
class Release:
    apple: Apple

    def mark(self) -> int:
        return len(self.apple.transport.requests)

    def writes(self, since: int = 0) -> list[str]:
        return [
            f"{r.method} {r.url.path}" for r in self.apple.transport.requests[since:] if r.method != "GET"
        ]

    def state_of(self, version_id: str = VERSION_ID) -> AppVersionState:
        return self.apple.client.versions.get(version_id).attributes.app_version_state

    def wait_for(self, state: AppVersionState) -> None:
        poll_until(self.state_of, lambda now: now is state, what=state.value, poll_interval=POLL, timeout=10)


def start(
    make_apple: Callable[..., Apple],
    state: str = "PENDING_DEVELOPER_RELEASE",
    submission: str | None = None,
    **fields: object,
) -> Release:
    """Version 0.9 live and 1.0 (MANUAL) in `state`, optionally in a review submission in `submission`."""
    app = AppSpec(
        id=APP_ID,
        name="Tally",
        bundle_id="com.example.tally.release",
        sku="TALLY-8",
        versions=[
            VersionSpec(id=LIVE_ID, version_string="0.9", state="READY_FOR_DISTRIBUTION"),
            VersionSpec(id=VERSION_ID, version_string="1.0", state=state, release_type="MANUAL"),
        ],
        review_submissions=(
            [SubmissionSpec(id=SUBMISSION_ID, state=submission, items=["1.0"])] if submission else []
        ),
    )
    return Release(make_apple(apps=[app], **fields))


def test_a_manual_release_is_requested_once_and_a_rerun_reads_the_state(
    make_apple: Callable[..., Apple],
) -> None:
    release = start(make_apple)
    client = release.apple.client
    made = release_version(client, VERSION_ID)
    assert (made.created, made.changes) == (True, ("release requested",))
    assert made.resource.attributes.app_version_state in {
        AppVersionState.PROCESSING_FOR_DISTRIBUTION,
        AppVersionState.READY_FOR_DISTRIBUTION,
    }
    assert release.writes() == ["POST /v1/appStoreVersionReleaseRequests"]
    release.wait_for(AppVersionState.READY_FOR_DISTRIBUTION)
    assert release.state_of(LIVE_ID) is AppVersionState.REPLACED_WITH_NEW_VERSION

    mark = release.mark()
    again = release_version(client, VERSION_ID)
    assert (again.created, again.changes, release.writes(mark)) == (False, (), [])


@pytest.mark.parametrize(
    ("state", "next_step"),
    [
        ("WAITING_FOR_REVIEW", "Wait until App Review approves"),
        ("PREPARE_FOR_SUBMISSION", "Submit the version for review"),
        ("REJECTED", "after fixing the cause of a rejection"),
        ("PENDING_APPLE_RELEASE", "Apple releases this version itself"),
    ],
)
def test_a_release_outside_pending_developer_release_is_refused_naming_the_state(
    make_apple: Callable[..., Apple], state: str, next_step: str
) -> None:
    release = start(make_apple, state)
    with pytest.raises(ActionFailed, match=f"Version 1.0 is {state}: .*PENDING_DEVELOPER_RELEASE") as refused:
        release_version(release.apple.client, VERSION_ID)
    assert next_step in refused.value.next_step
    assert release.writes() == []


def test_a_lost_answer_to_the_release_request_is_not_sent_again(make_apple: Callable[..., Apple]) -> None:
    rule = FaultRule(
        kind="drop_after_write", path="/v1/appStoreVersionReleaseRequests", methods=["POST"], count=1
    )
    release = start(make_apple, faults=FaultPlan(rules=[rule]))
    made = release_version(release.apple.client, VERSION_ID)
    assert made.created
    assert [r.fault for r in release.apple.log()].count("drop_after_write") == 1
    assert release.writes() == ["POST /v1/appStoreVersionReleaseRequests"]
    assert release.apple.count("appStoreVersionReleaseRequests") == 1


def phase(release: Release) -> PhasedReleaseState | None:
    phased = release.apple.client.phased_releases.for_version(VERSION_ID)
    return None if phased is None else phased.attributes.phased_release_state


def test_a_phased_release_set_up_before_release_starts_pauses_resumes_and_completes(
    make_apple: Callable[..., Apple],
) -> None:
    release = start(make_apple)
    client = release.apple.client
    made = ensure_phased_release(client, VERSION_ID, INACTIVE)
    assert (made.created, made.changes) == (True, ("phased release: INACTIVE",))
    mark = release.mark()
    assert ensure_phased_release(client, VERSION_ID, INACTIVE).changes == ()
    assert release.writes(mark) == []

    release_version(client, VERSION_ID)
    release.wait_for(AppVersionState.READY_FOR_DISTRIBUTION)
    assert phase(release) is ACTIVE  # it starts when the version goes live
    mark = release.mark()
    assert ensure_phased_release(client, VERSION_ID, ACTIVE).changes == ()
    steps = [
        (PAUSED, "ACTIVE -> PAUSED"),
        (PAUSED, None),
        (ACTIVE, "PAUSED -> ACTIVE"),
        (COMPLETE, "ACTIVE -> COMPLETE"),
    ]
    for wanted, change in steps:
        done = ensure_phased_release(client, VERSION_ID, wanted)
        assert done.changes == ((f"phased release: {change}",) if change else ())
        assert done.resource.attributes.phased_release_state is wanted
        assert phase(release) is wanted
    assert [w.split()[0] for w in release.writes(mark)] == ["PATCH", "PATCH", "PATCH"]

    mark = release.mark()
    with pytest.raises(ActionFailed, match="from COMPLETE to PAUSED: the rollout is complete") as refused:
        ensure_phased_release(client, VERSION_ID, PAUSED)
    assert "a complete rollout stays complete" in refused.value.next_step
    assert release.writes(mark) == []


def test_phased_release_changes_apple_refuses_are_named(make_apple: Callable[..., Apple]) -> None:
    release = start(make_apple)
    client = release.apple.client
    with pytest.raises(ActionFailed, match="from none to PAUSED: the version has no phased release"):
        ensure_phased_release(client, VERSION_ID, PAUSED)
    assert release.writes() == []

    ensure_phased_release(client, VERSION_ID, INACTIVE)
    with pytest.raises(ActionFailed, match=r"from INACTIVE to PAUSED: Apple refused it \(.*has not started"):
        ensure_phased_release(client, VERSION_ID, PAUSED)
    assert phase(release) is INACTIVE

    live = start(make_apple, "READY_FOR_DISTRIBUTION")
    with pytest.raises(
        ActionFailed, match=r"from none to ACTIVE: Apple refused it \(.*before the version is released"
    ):
        ensure_phased_release(live.apple.client, VERSION_ID, ACTIVE)
    assert live.apple.count("appStoreVersionPhasedReleases") == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/appStoreVersionPhasedReleases"), ("PATCH", "/v1/appStoreVersionPhasedReleases/*")],
)
def test_a_lost_answer_to_a_phased_release_write_is_read_back(
    make_apple: Callable[..., Apple], method: str, path: str
) -> None:
    rule = FaultRule(kind="drop_after_write", path=path, methods=[method], count=1)
    release = start(make_apple, faults=FaultPlan(rules=[rule]))
    client = release.apple.client
    ensure_phased_release(client, VERSION_ID, INACTIVE)
    ensure_phased_release(client, VERSION_ID, ACTIVE)
    assert [r.fault for r in release.apple.log()].count("drop_after_write") == 1
    assert [w.split()[0] for w in release.writes()] == ["POST", "PATCH"]
    assert release.apple.count("appStoreVersionPhasedReleases") == 1
    assert phase(release) is ACTIVE


@pytest.mark.parametrize(
    ("version", "submission", "decision", "next_step"),
    [
        ("PENDING_DEVELOPER_RELEASE", "COMPLETE", ReviewDecision.APPROVED, "ascflow runs release --tenant"),
        ("READY_FOR_DISTRIBUTION", "COMPLETE", ReviewDecision.APPROVED, "on the App Store"),
        ("REJECTED", "UNRESOLVED_ISSUES", ReviewDecision.REJECTED, "resubmit"),
        ("WAITING_FOR_REVIEW", "WAITING_FOR_REVIEW", ReviewDecision.IN_REVIEW, "still reviewing"),
    ],
)
def test_the_review_outcome_is_read_from_apple_with_the_next_step(
    make_apple: Callable[..., Apple], version: str, submission: str, decision: ReviewDecision, next_step: str
) -> None:
    # Apple time stands still here (time scale 1): a waiting review stays waiting while it is read.
    release = start(make_apple, version, submission, time_scale=1.0)
    outcome = review_outcome(release.apple.client, SUBMISSION_ID, VERSION_ID)
    assert (outcome.version_state.value, outcome.submission_state.value) == (version, submission)
    assert outcome.decision is decision
    assert next_step in outcome.next_step
    assert release.writes() == []


def test_a_rejection_is_named_by_either_state() -> None:
    """Apple marks a rejection on the version (REJECTED, METADATA_REJECTED) or on the submission only."""
    sent_back = ReviewOutcome(AppVersionState.WAITING_FOR_REVIEW, ReviewSubmissionState.UNRESOLVED_ISSUES)
    assert sent_back.decision is ReviewDecision.REJECTED
    assert "UNRESOLVED_ISSUES" in sent_back.next_step
    metadata = ReviewOutcome(AppVersionState.METADATA_REJECTED, ReviewSubmissionState.COMPLETE)
    assert metadata.decision is ReviewDecision.REJECTED
    withdrawn = ReviewOutcome(AppVersionState.DEVELOPER_REJECTED, ReviewSubmissionState.COMPLETE)
    assert withdrawn.decision is ReviewDecision.WITHDRAWN
    draft = ReviewOutcome(AppVersionState.PREPARE_FOR_SUBMISSION, ReviewSubmissionState.READY_FOR_REVIEW)
    assert draft.decision is ReviewDecision.NOT_SUBMITTED


def submitted_update(make_apple: Callable[..., Apple]) -> tuple[Release, str]:
    """Update 1.0 (MANUAL) of a released app with its build, What's New and review contact, submitted."""
    app = AppSpec(
        id=APP_ID,
        name="Tally",
        bundle_id="com.example.tally.release",
        sku="TALLY-8",
        app_privacy_published=True,
        builds=[BuildSpec(version="1.0", build_number="3", uses_non_exempt_encryption=False)],
        versions=[
            VersionSpec(id=LIVE_ID, version_string="0.9", state="READY_FOR_DISTRIBUTION"),
            VersionSpec(
                id=VERSION_ID,
                version_string="1.0",
                state="PREPARE_FOR_SUBMISSION",
                release_type="MANUAL",
                build_number="3",
            ),
        ],
    )
    release = Release(make_apple(apps=[app]))
    client = release.apple.client
    ensure_localizations(client, VERSION_ID, {"en-US": "Counts faster."})
    ensure_review_details(client, VERSION_ID, CONTACT)
    submission = ensure_review_submission_submitted(client, app_id=APP_ID, version_id=VERSION_ID)
    return release, submission.resource.id


def wait_for_review(release: Release, submission_id: str) -> ReviewOutcome:
    return poll_until(
        lambda: review_outcome(release.apple.client, submission_id, VERSION_ID),
        # Apple moves the submission and the version one after the other: wait until both have moved on.
        lambda outcome: (
            outcome.decision is not ReviewDecision.IN_REVIEW
            and outcome.version_state.value not in ("WAITING_FOR_REVIEW", "IN_REVIEW")
        ),
        what="the review",
        poll_interval=POLL,
        timeout=10,
    )


def test_an_approved_manual_release_waits_for_the_developer_then_is_released(
    make_apple: Callable[..., Apple],
) -> None:
    release, submission_id = submitted_update(make_apple)
    outcome = wait_for_review(release, submission_id)
    assert (outcome.decision, outcome.version_state) == (
        ReviewDecision.APPROVED,
        AppVersionState.PENDING_DEVELOPER_RELEASE,
    )
    assert "release-app" in outcome.next_step
    assert release_version(release.apple.client, VERSION_ID).created
    release.wait_for(AppVersionState.READY_FOR_DISTRIBUTION)
    assert review_outcome(release.apple.client, submission_id, VERSION_ID).decision is ReviewDecision.APPROVED


def test_a_rejected_review_is_read_as_rejected_and_cannot_be_released(
    make_apple: Callable[..., Apple],
) -> None:
    release, submission_id = submitted_update(make_apple)
    release.apple.control.set_review_outcomes(review="UNRESOLVED_ISSUES")
    outcome = wait_for_review(release, submission_id)
    assert outcome.decision is ReviewDecision.REJECTED
    assert outcome.submission_state is ReviewSubmissionState.UNRESOLVED_ISSUES
    assert "resubmit" in outcome.next_step
    mark = release.mark()
    with pytest.raises(ActionFailed, match=f"is {outcome.version_state.value}"):
        release_version(release.apple.client, VERSION_ID)
    assert release.writes(mark) == []
