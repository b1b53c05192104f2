"""The App Store version to submit: the editable version with the build attached, What's New and review details."""

from __future__ import annotations

from pydantic import Field

from ascflow.audit import Action
from ascflow.connect import Platform
from ascflow.connect.actions.common import both
from ascflow.connect.actions.release import (
    ensure_localizations,
    ensure_review_details,
    ensure_version,
    never_released,
)
from ascflow.connect.models import AppStoreReviewDetailAttributes
from ascflow.pipeline.build import BuildResult
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.job import Job, ResourceRow, StepResult, made
from ascflow.pipeline.listing import ListingChecked, review_details_of


class VersionResult(StepResult):
    version_id: str
    version_created: bool
    first_version: bool = False
    changes: list[str] = Field(default_factory=list)
    localizations_changed: int
    review_detail_id: str

    def outcome(self) -> str:
        return "; ".join(self.changes) or ("created" if self.version_created else "ready")

    def resources(self) -> list[ResourceRow]:
        return [ResourceRow("App Store version", self.version_id, made(self.version_created))]


def prepare_version(ctx: StepContext, job: Job) -> VersionResult:
    """The editable version with the build. Without a listing this step also writes What's New (an update only:
    Apple refuses it on a first version) and the request's review contact; with one, the listing steps do."""
    request = job.request
    build = job.get("upload-build", BuildResult)
    checked = job.optional("check-listing", ListingChecked)
    platform = Platform(request.platform)
    with ctx.apple(job.custody_id) as client:
        # One read of the app's versions, with their builds, review details and (when this step writes What's
        # New) localizations: it finds the editable one, tells a first release apart, and on a rerun proves
        # everything this step writes is there.
        read = client.versions.list_with_details(
            app_id=build.app_id, platform=platform, localizations=checked is None
        )
        versions = read.versions
        version = ensure_version(
            client,
            listed=versions,
            builds=read.builds,
            app_id=build.app_id,
            version_string=request.version,
            build_id=build.build_id,
            platform=platform,
            # SCHEDULED goes with its date: the schedule-release step writes both.
            release_type=None
            if checked or request.release_type == "SCHEDULED"
            else (request.release_type or "AFTER_APPROVAL"),
            rename=request.editable_version == "reuse",
        )
        version_id = version.resource.id
        if any(change.startswith("renamed") for change in version.changes):
            ctx.record(Action.VERSION_RENAMED, "success", apple_type="appStoreVersions", apple_id=version_id)
        first = never_released(versions, version_id=version_id)
        # What the read included is this version's unless the version was made (or found on reading back)
        # after it: Apple copies an update's localizations and review detail from the last version on create.
        listed = any(v.id == version_id for v in versions)
        changes = list(version.changes)
        if checked is None and request.whats_new and first:
            changes.append("What's New not sent: Apple refuses it on an app's first version")
        writes_whats_new = checked is None and not first
        contact = review_details_of(checked.listing) if checked else _request_contact(job)
        # The localizations and the review detail are apart at Apple: both are made sure of at once.
        localizations, detail = both(
            lambda: (
                ensure_localizations(
                    client,
                    version_id,
                    request.whats_new,
                    read.localizations.get(version_id) if listed else None,
                )
                if writes_whats_new
                else []
            ),
            lambda: ensure_review_details(
                client, version_id, contact, read.review_details.get(version_id) if listed else "unread"
            ),
        )
        changed = sum(1 for loc in localizations if loc.created or loc.updated)
        ctx.record(Action.VERSION_PREPARED, "success", apple_type="appStoreVersions", apple_id=version_id)
    return VersionResult(
        version_id=version_id,
        version_created=version.created,
        first_version=first,
        changes=changes,
        localizations_changed=changed,
        review_detail_id=detail.resource.id,
    )


def _request_contact(job: Job) -> AppStoreReviewDetailAttributes:
    if job.request.review_contact is None:
        raise LookupError("a request without a listing has a review contact (the request model says so)")
    return job.request.review_contact.apple()
