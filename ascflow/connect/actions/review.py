"""Submitting the version for App Review through one open review submission, and reading its state."""

from __future__ import annotations

from ascflow.connect.actions.common import ActionFailed, Ensured, create_once, update_once
from ascflow.connect.client import AppStoreConnect
from ascflow.connect.models import Platform, ReviewSubmission, ReviewSubmissionState

# Apple allows one open submission per app; these are the states in which it is still open.
_OPEN = frozenset(
    {
        ReviewSubmissionState.READY_FOR_REVIEW,
        ReviewSubmissionState.WAITING_FOR_REVIEW,
        ReviewSubmissionState.IN_REVIEW,
        ReviewSubmissionState.UNRESOLVED_ISSUES,
        ReviewSubmissionState.CANCELING,
        ReviewSubmissionState.COMPLETING,
    }
)
# Submitted: nothing left for us to do but wait.
_WITH_APPLE = frozenset(
    {
        ReviewSubmissionState.WAITING_FOR_REVIEW,
        ReviewSubmissionState.IN_REVIEW,
        ReviewSubmissionState.COMPLETING,
    }
)
# Drafts we may (re)submit: a new one, or one Apple sent back that still holds our version.
_SUBMITTABLE = frozenset({ReviewSubmissionState.READY_FOR_REVIEW, ReviewSubmissionState.UNRESOLVED_ISSUES})
SUBMITTED = ("submitted",)
# Item states of a version Apple has reviewed and let through.
_REVIEWED_ITEM_STATES = frozenset({"ACCEPTED", "APPROVED"})


class SubmissionBlocked(ActionFailed):
    """Another open submission (holding something else) is in the way; we never cancel it ourselves."""


def ensure_review_submission_submitted(
    client: AppStoreConnect, *, app_id: str, version_id: str, platform: Platform = Platform.IOS
) -> Ensured[ReviewSubmission]:
    """The version in one open submission, submitted; `changes` is ("submitted",) when this call submitted it."""
    submissions = client.review_submissions.list(app_id=app_id, platform=platform)
    for submission in (s for s in submissions if s.attributes.state in _OPEN):
        held = set(_held_versions(client, submission.id))
        state = submission.attributes.state
        if held == {version_id} and state in _WITH_APPLE:
            return Ensured(submission, created=False)
        if held == {version_id} and state in _SUBMITTABLE:
            return Ensured(_submit(client, submission.id), created=False, changes=SUBMITTED)
        if not held and state is ReviewSubmissionState.READY_FOR_REVIEW:
            # An empty draft: an earlier run stopped between creating it and adding the version.
            _add_version(client, submission.id, version_id)
            return Ensured(_submit(client, submission.id), created=False, changes=SUBMITTED)
        raise SubmissionBlocked(
            f"Review submission {submission.id} is open ({state.value}) and holds "
            f"{', '.join(sorted(held)) or 'nothing'}, not only version {version_id}.",
            next_step=(
                "Apple allows one open submission per app. Ask the customer whether to cancel or finish that "
                "submission in App Store Connect (ascflow never cancels it), then retry this step."
            ),
        )
    # A rerun after Apple finished the review: the version went through once, it is not submitted again.
    for submission in (s for s in submissions if s.attributes.state is ReviewSubmissionState.COMPLETE):
        if _held_versions(client, submission.id).get(version_id) in _REVIEWED_ITEM_STATES:
            return Ensured(submission, created=False)

    def find_draft() -> ReviewSubmission | None:
        listed = client.review_submissions.list(app_id=app_id, platform=platform)
        return next((s for s in listed if s.attributes.state is ReviewSubmissionState.READY_FOR_REVIEW), None)

    draft = create_once(
        lambda: client.review_submissions.create(app_id=app_id, platform=platform), find_draft
    )
    _add_version(client, draft.id, version_id)
    return Ensured(_submit(client, draft.id), created=True, changes=SUBMITTED)


def _held_versions(client: AppStoreConnect, submission_id: str) -> dict[str, str | None]:
    """The App Store versions a submission holds, each with its item's state."""
    held: dict[str, str | None] = {}
    for item in client.review_submissions.items(submission_id):
        version = item.related_id("appStoreVersion")
        if version is not None:
            held[version] = item.attributes.state
    return held


def _add_version(client: AppStoreConnect, submission_id: str, version_id: str) -> None:
    def find() -> str | None:
        return version_id if version_id in _held_versions(client, submission_id) else None

    create_once(
        lambda: client.review_submissions.add_version(submission_id=submission_id, version_id=version_id).id,
        find,
    )


def _submit(client: AppStoreConnect, submission_id: str) -> ReviewSubmission:
    # Apple answers the PATCH with the submission in its new state: read it again only if no answer came.
    answers: list[ReviewSubmission | None] = []
    update_once(
        lambda: answers.append(client.review_submissions.submit(submission_id)),
        lambda: review_state(client, submission_id) not in _SUBMITTABLE,
    )
    return (answers[-1] if answers else None) or client.review_submissions.get(submission_id)


def review_state(client: AppStoreConnect, submission_id: str) -> ReviewSubmissionState:
    return client.review_submissions.get(submission_id).attributes.state
