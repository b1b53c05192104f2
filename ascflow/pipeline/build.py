"""The build: uploaded (or found among those already uploaded), processed, export compliance answered."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ascflow.audit import Action
from ascflow.connect import Platform
from ascflow.connect.actions.apps import find_app
from ascflow.connect.actions.builds import set_export_compliance, upload_build, wait_for_build_processing
from ascflow.connect.actions.common import ActionFailed
from ascflow.connect.build_models import Build
from ascflow.connect.client import AppStoreConnect
from ascflow.pipeline.build_wait import BuildHandedOver
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.credentials import CredentialCheck
from ascflow.pipeline.job import Job, ResourceRow, StepResult
from ascflow.pipeline.request import OnboardingRequest
from ascflow.signing.ipa_check import check_ipa
from ascflow.signing.profiles import kept_profile


class BuildResult(StepResult):
    app_id: str
    build_id: str
    build_upload_id: str | None
    build_uploaded_now: bool

    # "uploaded", "upload resumed" (an earlier run's reservation, finished by this one), or "already at Apple".
    upload: str = "already at Apple"

    def outcome(self) -> str:
        return f"{self.upload}, processed"

    def resources(self) -> list[ResourceRow]:
        return [ResourceRow("build", self.build_id, self.upload)]


def prepare_build(ctx: StepContext, job: Job) -> BuildResult:
    """The build from the request, or the one the build system handed over (see build_wait.py)."""
    request = job.request
    handed = job.optional("await-build", BuildHandedOver)
    path = handed.ipa if handed else request.build.path
    number = handed.build_number if handed else request.build.build_number
    poll = ctx.settings.poll_interval_seconds
    checked = job.optional("validate-credentials", CredentialCheck)
    with ctx.apple(job.custody_id) as client:
        # Validate found the app in this pass of the run; the step run on its own looks it up.
        app_id = checked.app_id if checked and checked.app_id else find_app(client, request.bundle_id).id
        upload_id: str | None = None
        uploaded_now = False
        upload = "already at Apple"
        read: Build | None = None  # the build as read with its upload, if it was
        if path is None:
            read = _existing_build(client, app_id, request, number)
            build_id = read.id
        else:
            with _local_copy(ctx, path) as ipa:
                check_build(ctx, request, ipa, number, checked.team_id if checked else None)
                uploaded = upload_build(
                    client,
                    app_id=app_id,
                    ipa=ipa,
                    short_version=request.version,
                    version=number,
                    platform=Platform(request.platform),
                    poll_interval=poll,
                    timeout=ctx.settings.build_wait_seconds,
                )
            build_id, upload_id, uploaded_now = uploaded.build_id, uploaded.upload.id, uploaded.created
            read = uploaded.build
            if uploaded.created:
                upload = "uploaded"
            elif uploaded.sent_now:
                upload = "upload resumed"
            ctx.record(Action.BUILD_UPLOADED, "success", apple_type="buildUploads", apple_id=upload_id)
        processed = wait_for_build_processing(
            client,
            build_id,
            poll_interval=poll,
            timeout=ctx.settings.build_wait_seconds,
            read=read,
        )
        set_export_compliance(
            client, build_id, uses_non_exempt_encryption=request.uses_non_exempt_encryption, read=processed
        )
        ctx.record(Action.BUILD_PROCESSED, "success", apple_type="builds", apple_id=build_id)
    return BuildResult(
        app_id=app_id,
        build_id=build_id,
        build_upload_id=upload_id,
        build_uploaded_now=uploaded_now,
        upload=upload,
    )


def check_build(
    ctx: StepContext, request: OnboardingRequest, ipa: Path, number: str, team_id: str | None = None
) -> None:
    """Before a byte is sent: the .ipa is this app, version and build, signed with an App Store profile of the
    customer's team that has not expired. The team is the one Apple names in the certificate validate read in
    this pass (`team_id`), or, for a team that had none, the one of the profile Apple issued in ensure-signing
    (`upload_needs` makes this step wait for that step then)."""
    team = team_id or kept_profile(ctx.custody.store, ctx.tenant, request.bundle_id).team_id
    check_ipa(ipa, request.bundle_id, request.version, number, team, datetime.now(UTC))
    ctx.record(Action.BUILD_CHECKED, "success")


def _existing_build(client: AppStoreConnect, app_id: str, request: OnboardingRequest, number: str) -> Build:
    builds = client.builds.list(
        app_id=app_id, version=number, short_version=request.version, platform=Platform(request.platform)
    )
    exact = [b for b in builds if b.attributes.version == number]
    if not exact:
        raise ActionFailed(
            f"No build {request.version} ({number}) of {request.bundle_id} is in App Store Connect.",
            next_step="Give the build file to upload, or the build number of a build already uploaded.",
        )
    return exact[0]


@contextmanager
def _local_copy(ctx: StepContext, location: str) -> Iterator[Path]:
    """The .ipa as a local file: the path itself, or a temporary download of an s3:// object."""
    if not location.startswith("s3://"):
        path = Path(location)
        if not path.is_file():
            raise ActionFailed(
                f"build.path: {location!r} is not a readable file on this worker.",
                next_step="Give a path the worker can read, or an s3://bucket/key of the .ipa.",
            )
        yield path
        return
    bucket, _, key = location.removeprefix("s3://").partition("/")
    if not bucket or not key:
        raise ActionFailed(
            f"build.path: {location!r} is not an s3://bucket/key address.",
            next_step="Give the .ipa as s3://bucket/path/to/App.ipa.",
        )
    import boto3

    s3 = boto3.client("s3", endpoint_url=ctx.settings.aws_endpoint_url, region_name=ctx.settings.aws_region)
    with tempfile.TemporaryDirectory(prefix="ascflow-build-") as folder:
        target = Path(folder) / (Path(key).name or "App.ipa")
        s3.download_file(bucket, key, str(target))
        yield target
