"""Waiting for the build: the service's real order is to configure the customer's account (certificate,
profile, team), let the build machines sign the app with the exported identity, and upload that build. With
`build.wait_for_build` the run suspends after signing and the invitations, holding no worker, until the build
system hands over the `.ipa` (a path or s3:// URL) or the number of a build it uploaded itself; the access
poller also resumes it when a build with the expected number appears at Apple."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ascflow.connect import Platform
from ascflow.connect.actions.apps import find_app
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.job import Job, StepResult, Wait
from ascflow.pipeline.request import BUILD_NUMBER_PATTERN, OnboardingRequest

BUILD_FORM = "build"


class BuildArrived(BaseModel):
    """How the build system (or an operator) resumes a run that waits for its build."""

    ipa: str | None = Field(
        default=None,
        max_length=1024,
        description="Path on the worker or s3://bucket/key of the signed .ipa; empty if the build system "
        "uploaded the build itself.",
    )
    build_number: str | None = Field(
        default=None,
        pattern=BUILD_NUMBER_PATTERN,
        description="CFBundleVersion, if other than the request's.",
    )
    checked_by: str = Field(default="build system", max_length=64)


class BuildHandedOver(StepResult):
    ipa: str | None
    build_number: str
    found_at_apple: bool

    def outcome(self) -> str:
        if self.ipa:
            return f"build {self.build_number} handed over as a file"
        return f"build {self.build_number} found at Apple"


def await_build(ctx: StepContext, job: Job) -> BuildHandedOver | Wait:
    request = job.request
    arrived = BuildArrived.model_validate(job.resumed_with) if job.resumed_with else BuildArrived()
    number = arrived.build_number or request.build.build_number
    if arrived.ipa:
        return BuildHandedOver(ipa=arrived.ipa, build_number=number, found_at_apple=False)
    if build_at_apple(ctx, job.custody_id, request.bundle_id, request.version, number):
        return BuildHandedOver(ipa=None, build_number=number, found_at_apple=True)
    return Wait(kind="build", form=BUILD_FORM, description=explain_build_wait(request, number))


def build_at_apple(ctx: StepContext, custody_id: str, bundle_id: str, version: str, number: str) -> bool:
    """Is a build of this version with this number at Apple (the build system uploaded it)? Two reads."""
    with ctx.apple(custody_id) as client:
        app_id = find_app(client, bundle_id).id
        builds = client.builds.list(
            app_id=app_id, version=number, short_version=version, platform=Platform.IOS
        )
    return any(b.attributes.version == number for b in builds)


def explain_build_wait(request: OnboardingRequest, number: str) -> str:
    return (
        f"### Waiting for the build\n\nThe customer's account is ready: distribution certificate, App Store "
        f"profile and team. Sign {request.bundle_id} {request.version} (build {number}) with the exported "
        "identity (`ascflow signing export`), then either resume this run with the signed `.ipa` (a path on "
        "the worker or an s3:// URL) in **ipa**, or upload the build yourself and resume it (or let the access "
        "poller find the build at Apple)."
    )
