"""Release control in the step list: a SCHEDULED release's date (without a listing; with one the listing step
writes it), and the phased release set up with the submission (Apple starts it when the version goes live).
Releasing a version held for the developer is the `release-app` deployment's (`ascflow.pipeline.release_app`)."""

from __future__ import annotations

from ascflow.connect.actions.common import update_once
from ascflow.connect.actions.release_control import ensure_phased_release
from ascflow.connect.testflight_models import PhasedReleaseState
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.job import Job, ResourceRow, StepResult, made
from ascflow.pipeline.version import VersionResult


class ScheduleResult(StepResult):
    version_id: str
    changed: bool

    def outcome(self) -> str:
        return "release date written" if self.changed else "nothing to change"


class PhasedReleaseResult(StepResult):
    phased_release_id: str
    created: bool
    state: str

    def outcome(self) -> str:
        return f"phased release {self.state}"

    def resources(self) -> list[ResourceRow]:
        return [ResourceRow("phased release", self.phased_release_id, made(self.created))]


def schedule_release(ctx: StepContext, job: Job) -> ScheduleResult:
    """SCHEDULED and its earliest release date on the version (the request model made sure the date is a
    future time when the run was created); read first, so a rerun writes nothing."""
    when = job.request.earliest_release_date
    if when is None:
        raise LookupError("schedule-release runs only with an earliest release date (its `applies` says so)")
    version_id = job.get("prepare-version", VersionResult).version_id
    with ctx.apple(job.custody_id) as client:

        def scheduled() -> bool:
            held = client.version_listings.get(version_id)[0].attributes
            return held.release_type == "SCHEDULED" and held.earliest_release_date == when

        if scheduled():
            return ScheduleResult(version_id=version_id, changed=False)
        update_once(
            lambda: client.version_listings.update(
                version_id, release_type="SCHEDULED", earliest_release_date=when
            ),
            scheduled,
        )
    return ScheduleResult(version_id=version_id, changed=True)


def phased_release(ctx: StepContext, job: Job) -> PhasedReleaseResult:
    """The version's phased release, set up INACTIVE: Apple starts it when the version goes live. One held in
    any state (started, paused, complete) is left as it is."""
    version_id = job.get("prepare-version", VersionResult).version_id
    with ctx.apple(job.custody_id) as client:
        held = client.phased_releases.for_version(version_id)
        if held is not None:
            return PhasedReleaseResult(
                phased_release_id=held.id, created=False, state=held.attributes.phased_release_state.value
            )
        made_now = ensure_phased_release(client, version_id, PhasedReleaseState.INACTIVE)
    phased = made_now.resource
    return PhasedReleaseResult(
        phased_release_id=phased.id,
        created=made_now.created,
        state=phased.attributes.phased_release_state.value,
    )
