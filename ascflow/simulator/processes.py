"""Apple's processes over time: a committed upload is processed into a build (or fails), a build turns VALID, a
submitted review waits, is reviewed and ends (an approved version is then released as release_state.py says)."""

from __future__ import annotations

from ascflow.simulator.ipa import BundleInfo
from ascflow.simulator.release_state import version_approved
from ascflow.simulator.state import PROCESSES, Resource, Team, add_build


def advance(team: Team) -> None:
    """Move every Apple-side process whose time has come (called before each request is handled).

    Each step is timed from when the previous one was due, not from when someone looked, so a long gap
    between requests moves a process through all the steps it would have taken.
    """
    now = team.now()
    delays = team.scenario.delays
    for upload in team.all("buildUploads"):
        due = upload.hidden.get("due")
        if upload.attributes["state"]["state"] == "PROCESSING" and due is not None and due <= now:
            _complete_upload(team, upload, due)
    for build in team.all("builds"):
        due = build.hidden.get("due")
        if build.attributes["processingState"] == "PROCESSING" and due is not None and due <= now:
            build.attributes["processingState"] = "VALID"
    for submission in team.all("reviewSubmissions"):
        while (due := submission.hidden.get("due")) is not None and due <= now:
            state = submission.attributes["state"]
            if state == "WAITING_FOR_REVIEW":
                _set_submission(team, submission, "IN_REVIEW", due + delays.review_seconds)
            elif state == "IN_REVIEW":
                _finish_review(team, submission, due)
            else:  # CANCELING
                _set_submission(team, submission, "COMPLETE", None)
    # Last: the store listing's processes follow the states the review has just reached.
    for process in PROCESSES:
        process(team, now)


def _complete_upload(team: Team, upload: Resource, now: float) -> None:
    """Processing ends: the build exists, or the upload FAILED with what reading the .ipa found."""
    upload.hidden.pop("due", None)
    problems: list[dict[str, str]] = upload.hidden.pop("problems", [])
    files = team.related(upload, "buildUploadFiles")
    if problems:
        upload.attributes["state"].update(state="FAILED", errors=problems)
        for file in files:
            file.attributes["assetDeliveryState"].update(state="FAILED", errors=problems)
        return
    upload.attributes["state"]["state"] = "COMPLETE"
    bundle: BundleInfo | None = upload.hidden.pop("bundle", None)
    attributes = upload.attributes
    build = add_build(
        team,
        team.related(upload, "app")[0],
        short_version=bundle.short_version if bundle else attributes["cfBundleShortVersionString"],
        build_number=bundle.build_number if bundle else attributes["cfBundleVersion"],
        platform=attributes["platform"],
        uploaded=now,
        processing_state="PROCESSING",
        uses_non_exempt_encryption=(
            bundle.uses_non_exempt_encryption
            if bundle and bundle.uses_non_exempt_encryption is not None
            else team.scenario.uses_non_exempt_encryption
        ),
        min_os_version=bundle.minimum_os_version if bundle else None,
    )
    build.relationships["buildUpload"] = ("buildUploads", upload.id)
    upload.relationships["build"] = ("builds", build.id)
    for file in files:
        file.attributes["assetDeliveryState"]["state"] = "COMPLETE"


def _set_submission(team: Team, submission: Resource, state: str, due: float | None) -> None:
    submission.attributes["state"] = state
    submission.hidden["due"] = due
    version = team.version_of(submission)
    if version is not None and state in {"WAITING_FOR_REVIEW", "IN_REVIEW"}:
        team.set_version_state(version, state)


def _finish_review(team: Team, submission: Resource, at: float) -> None:
    approved = team.scenario.review_outcome == "COMPLETE"
    _set_submission(team, submission, "COMPLETE" if approved else "UNRESOLVED_ISSUES", None)
    for item in team.items_of(submission):
        item.attributes["state"] = "APPROVED" if approved else "REJECTED"
    version = team.version_of(submission)
    if version is not None:
        if approved:
            version_approved(team, version, at)
        else:
            team.set_version_state(version, "REJECTED")
