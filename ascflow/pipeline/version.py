"""The App Store version to submit: the editable version with the build attached, What's New and review details."""

from __future__ import annotations

from pydantic import Field

from ascflow.audit import Action
from ascflow.connect import Platform
from ascflow.connect.actions.release import ensure_localizations, ensure_review_details, ensure_version
from ascflow.pipeline.build import BuildResult
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.job import Job, ResourceRow, StepResult, made


class VersionResult(StepResult):
    version_id: str
    version_created: bool
    changes: list[str] = Field(default_factory=list)
    localizations_changed: int
    review_detail_id: str

    def outcome(self) -> str:
        return "; ".join(self.changes) or ("created" if self.version_created else "ready")

    def resources(self) -> list[ResourceRow]:
        return [ResourceRow("App Store version", self.version_id, made(self.version_created))]


def prepare_version(ctx: StepContext, job: Job) -> VersionResult:
    request = job.request
    build = job.get("upload-build", BuildResult)
    with ctx.apple(job.custody_id) as client:
        version = ensure_version(
            client,
            app_id=build.app_id,
            version_string=request.version,
            build_id=build.build_id,
            platform=Platform(request.platform),
            release_type=request.release_type,
        )
        version_id = version.resource.id
        localizations = ensure_localizations(client, version_id, request.whats_new)
        detail = ensure_review_details(client, version_id, request.review_contact.apple())
        ctx.record(Action.VERSION_PREPARED, "success", apple_type="appStoreVersions", apple_id=version_id)
    return VersionResult(
        version_id=version_id,
        version_created=version.created,
        changes=list(version.changes),
        localizations_changed=sum(1 for loc in localizations if loc.created or loc.updated),
        review_detail_id=detail.resource.id,
    )
