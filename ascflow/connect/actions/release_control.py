"""After App Review: what Apple decided, the version's phased release, and releasing a version held for the
developer. Each reads Apple's state first, so a rerun writes nothing and a lost answer is not written twice."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ascflow.connect.actions.common import ActionFailed, Ensured, create_once, update_once
from ascflow.connect.client import AppStoreConnect
from ascflow.connect.errors import Conflict
from ascflow.connect.models import (
    EDITABLE_VERSION_STATES,
    IN_REVIEW_VERSION_STATES,
    AppStoreVersion,
    AppVersionState,
    ReviewSubmissionState,
)
from ascflow.connect.testflight_models import PhasedRelease, PhasedReleaseState

# The release request was taken: Apple is putting the version on the store, or it is there.
RELEASING_STATES = frozenset(
    {AppVersionState.PROCESSING_FOR_DISTRIBUTION, AppVersionState.READY_FOR_DISTRIBUTION}
)
APPROVED_STATES = frozenset(
    {AppVersionState.PENDING_DEVELOPER_RELEASE, AppVersionState.PENDING_APPLE_RELEASE, *RELEASING_STATES}
)
REJECTED_STATES = frozenset(
    {AppVersionState.REJECTED, AppVersionState.METADATA_REJECTED, AppVersionState.INVALID_BINARY}
)
_SUBMISSION_WITH_APPLE = frozenset(
    {
        ReviewSubmissionState.WAITING_FOR_REVIEW,
        ReviewSubmissionState.IN_REVIEW,
        ReviewSubmissionState.COMPLETING,
    }
)


class ReviewDecision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    IN_REVIEW = "in_review"
    NOT_SUBMITTED = "not_submitted"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class ReviewOutcome:
    """The version's and the submission's state as Apple has them, what that means, and what to do next."""

    version_state: AppVersionState
    submission_state: ReviewSubmissionState

    @property
    def decision(self) -> ReviewDecision:
        if (
            self.version_state in REJECTED_STATES
            or self.submission_state is ReviewSubmissionState.UNRESOLVED_ISSUES
        ):
            return ReviewDecision.REJECTED
        if self.version_state in APPROVED_STATES:
            return ReviewDecision.APPROVED
        if self.submission_state in _SUBMISSION_WITH_APPLE or self.version_state in IN_REVIEW_VERSION_STATES:
            return ReviewDecision.IN_REVIEW
        if self.submission_state is ReviewSubmissionState.READY_FOR_REVIEW:
            return ReviewDecision.NOT_SUBMITTED
        return ReviewDecision.WITHDRAWN

    @property
    def next_step(self) -> str:
        decision = self.decision
        if decision is ReviewDecision.REJECTED:
            return (
                f"App Review sent it back (version {self.version_state.value}, submission "
                f"{self.submission_state.value}): read Apple's message in App Store Connect (App Review), have the "
                "customer fix the cause, then resubmit; the version is reused and submitted again."
            )
        if decision is ReviewDecision.APPROVED:
            return _APPROVED_NEXT[self.version_state]
        if decision is ReviewDecision.IN_REVIEW:
            return "Apple is still reviewing it: wait for the review to end."
        if decision is ReviewDecision.NOT_SUBMITTED:
            return "The submission was never submitted: run the submission step again."
        return (
            f"The review ended without Apple's decision (version {self.version_state.value}, submission "
            f"{self.submission_state.value}; withdrawn or cancelled): submit the version again when the customer "
            "asks for it."
        )


_APPROVED_NEXT = {
    # The run's summary fills in the placeholders (it knows the tenant, the app and the key's custody ID).
    AppVersionState.PENDING_DEVELOPER_RELEASE: "Approved and held for a manual release (PENDING_DEVELOPER_RELEASE): "
    "release it when the customer asks, with the release-app deployment: ascflow runs release --tenant TENANT "
    "--bundle-id BUNDLE_ID --version VERSION --custody-id CUSTODY_ID.",
    AppVersionState.PENDING_APPLE_RELEASE: "Approved: Apple releases it itself (on the scheduled date); nothing to do.",
    AppVersionState.PROCESSING_FOR_DISTRIBUTION: "Approved and being released by Apple; nothing to do.",
    AppVersionState.READY_FOR_DISTRIBUTION: "Approved and on the App Store; nothing to do.",
}


def review_outcome(client: AppStoreConnect, submission_id: str, version_id: str) -> ReviewOutcome:
    """What Apple decided about the submission that holds the version (read, never written)."""
    version_state = client.versions.get(version_id).attributes.app_version_state
    submission_state = client.review_submissions.get(submission_id).attributes.state
    return ReviewOutcome(version_state, submission_state)


def _not_releasable_next_step(state: AppVersionState) -> str:
    if state in IN_REVIEW_VERSION_STATES:
        return "Wait until App Review approves the version (PENDING_DEVELOPER_RELEASE), then release it."
    if state in REJECTED_STATES or state in EDITABLE_VERSION_STATES:
        return "Submit the version for review (again, after fixing the cause of a rejection); release it once approved."
    if state is AppVersionState.PENDING_APPLE_RELEASE:
        return "Apple releases this version itself (scheduled release); nothing to release by hand."
    return "Nothing to release: this version cannot be released any more; publish a new version instead."


def release_version(client: AppStoreConnect, version_id: str) -> Ensured[AppStoreVersion]:
    """Release a version Apple approved for a manual release (appStoreVersionReleaseRequests). A version already
    being released or on the store is left as it is: its state says the request was taken."""
    version = client.versions.get(version_id)
    state = version.attributes.app_version_state
    if state in RELEASING_STATES:
        return Ensured(version, created=False)
    if state is not AppVersionState.PENDING_DEVELOPER_RELEASE:
        raise ActionFailed(
            f"Version {version.attributes.version_string} is {state.value}: Apple releases by request only a "
            "version in PENDING_DEVELOPER_RELEASE.",
            next_step=_not_releasable_next_step(state),
        )

    def released() -> AppStoreVersion | None:
        now = client.versions.get(version_id)
        return now if now.attributes.app_version_state in RELEASING_STATES else None

    def request() -> AppStoreVersion:
        client.release_requests.create(version_id)
        return client.versions.get(version_id)

    try:
        made = create_once(request, released)
    except Conflict as refused:
        raise ActionFailed(
            f"Apple refused to release version {version.attributes.version_string}: {_reason(refused)}",
            next_step="Read the version's state in App Store Connect; release it there or run this step again.",
        ) from None
    return Ensured(made, created=True, changes=("release requested",))


def _reason(refused: Conflict) -> str:
    return refused.detail or refused.title or refused.code or f"HTTP {refused.status}"


def _refuse(
    version_id: str, current: PhasedRelease | None, wanted: PhasedReleaseState, why: str
) -> ActionFailed:
    held = current.attributes.phased_release_state.value if current is not None else "none"
    return ActionFailed(
        f"Version {version_id}'s phased release cannot go from {held} to {wanted.value}: {why}",
        next_step="Ask for a change Apple allows: ACTIVE (start or resume), PAUSED (while ACTIVE) or COMPLETE "
        "(release to everyone); a complete rollout stays complete.",
    )


def ensure_phased_release(
    client: AppStoreConnect, version_id: str, state: PhasedReleaseState
) -> Ensured[PhasedRelease]:
    """The version's phased release in `state`: INACTIVE (set up before release), ACTIVE (start or resume),
    PAUSED or COMPLETE. Read first; a change from COMPLETE, or a pause or completion without a phased release,
    is refused before any write, and a change Apple refuses (409) is raised as `ActionFailed` with its reason."""
    current = client.phased_releases.for_version(version_id)
    held = current.attributes.phased_release_state if current is not None else None
    if held is state and current is not None:
        return Ensured(current, created=False)
    if held is PhasedReleaseState.COMPLETE:
        raise _refuse(version_id, current, state, "the rollout is complete.")
    if current is None and state in {PhasedReleaseState.PAUSED, PhasedReleaseState.COMPLETE}:
        raise _refuse(version_id, current, state, "the version has no phased release to pause or complete.")

    def in_state() -> PhasedRelease | None:
        now = client.phased_releases.for_version(version_id)
        return now if now is not None and now.attributes.phased_release_state is state else None

    try:
        if current is None:
            # After a lost answer, any phased release of the version is the one this call made.
            made = create_once(
                lambda: client.phased_releases.create(version_id=version_id, state=state),
                lambda: client.phased_releases.for_version(version_id),
            )
            return Ensured(made, created=True, changes=(f"phased release: {state.value}",))
        phased_id = current.id
        update_once(lambda: client.phased_releases.update(phased_id, state), lambda: in_state() is not None)
    except Conflict as refused:
        raise _refuse(version_id, current, state, f"Apple refused it ({_reason(refused)}).") from None
    return Ensured(
        in_state() or current,
        created=False,
        changes=(f"phased release: {held.value if held else 'none'} -> {state}",),
    )
