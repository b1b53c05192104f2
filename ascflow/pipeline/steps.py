"""The onboarding's steps, in order: the one list the flow runs, the summary reports and the demo shows.

Adding a step is one function `(ctx: StepContext, job: Job) -> StepResult | Wait` in `ascflow/pipeline/` and one
line here; the flow gives every step its own Prefect task (named after it) with the Apple retry policy. Steps run
in this order, each after the ones before it, except a `background` step, which runs beside the steps after it
(the run waits for it before it ends, or when a later step `needs` it or names it in `also_waits_for`). A step reads
the results of the steps it `needs` (`job.get(name, ResultType)`). A step that returns `Wait` suspends the run
(holding no worker) and runs again once the run is resumed. Every step may run again (retry, resume, a new
run): its Apple writes are find-or-create, so a rerun writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ascflow.audit import Action
from ascflow.connect import AgreementsMissing
from ascflow.connect.actions.common import one_call_at_a_time
from ascflow.pipeline.build import prepare_build
from ascflow.pipeline.build_wait import await_build
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.credentials import CredentialCheck, access_wait, validate_credentials
from ascflow.pipeline.job import Job, StepResult, Wait
from ascflow.pipeline.listing import check_listing
from ascflow.pipeline.listing_apply import apply_app_listing, apply_pricing, apply_version_listing
from ascflow.pipeline.release import phased_release, schedule_release
from ascflow.pipeline.request import OnboardingRequest
from ascflow.pipeline.review import await_review, submit_for_review
from ascflow.pipeline.signing import ensure_signing
from ascflow.pipeline.team import invite_team
from ascflow.pipeline.testflight import await_beta_review, testflight_external, testflight_internal
from ascflow.pipeline.version import prepare_version


def always(request: OnboardingRequest) -> bool:
    return True


def watches_review(request: OnboardingRequest) -> bool:
    return request.app_store and request.destroy_credentials == "after_review"


def submits(request: OnboardingRequest) -> bool:
    """Not for TestFlight only: the version, its listing and the App Review submission."""
    return request.app_store


def tests_internally(request: OnboardingRequest) -> bool:
    return request.testflight is not None


def tests_externally(request: OnboardingRequest) -> bool:
    return request.testflight is not None and request.testflight.external_group is not None


def schedules(request: OnboardingRequest) -> bool:
    return request.app_store and request.listing is None and request.release_type == "SCHEDULED"


def phases(request: OnboardingRequest) -> bool:
    return request.app_store and request.phased_release


def one_certificate_maker(request: OnboardingRequest) -> str:
    """Apps of one tenant share its distribution certificate: one run at a time may decide to make it."""
    return f"ascflow-signing-{request.tenant}"


@dataclass(frozen=True)
class StepDef:
    name: str
    title: str
    run: Callable[[StepContext, Job], StepResult | Wait]
    needs: tuple[str, ...] = ()
    applies: Callable[[OnboardingRequest], bool] = always
    # Results are kept for the run (a resumed run skips what it finished) unless the step must look at Apple
    # afresh every time the run passes it, like a gate or a wait.
    keeps_result: bool = True
    # A lock across runs and workers, by name, for steps that must not overlap between runs.
    exclusive: Callable[[OnboardingRequest], str] | None = None
    background: bool = False
    # More steps to wait for (not given to the step), decided from the results of `needs`: for a step that can
    # often start early. The step's input stays the same either way, so a later pass of the run still finds the
    # step's kept result.
    also_waits_for: Callable[[Mapping[str, Any]], tuple[str, ...]] | None = None

    def waits_for(self, results: Mapping[str, Any]) -> tuple[str, ...]:
        """Every step that must have finished before this one starts, given the results of `needs`."""
        return self.needs + (self.also_waits_for(results) if self.also_waits_for else ())


def signing_unless_team_known(results: Mapping[str, Any]) -> tuple[str, ...]:
    """The .ipa check needs the customer's team: validate read it from a certificate of the team, or (a team
    with none yet) the profile ensure-signing makes names it, so the upload waits for that step."""
    checked = results.get("validate-credentials")
    return () if isinstance(checked, CredentialCheck) and checked.team_id else ("ensure-signing",)


def waits_for_build(request: OnboardingRequest) -> bool:
    return request.build.wait_for_build


def has_listing(request: OnboardingRequest) -> bool:
    return request.app_store and request.listing is not None


STEPS: tuple[StepDef, ...] = (
    # Read afresh on every pass: an operator who fixed the file and retried the run gets the fixed listing.
    StepDef("check-listing", "check listing", check_listing, applies=has_listing, keeps_result=False),
    StepDef("validate-credentials", "validate credentials", validate_credentials, keeps_result=False),
    # Beside the upload, the version and the listing; the steps that need it (the build machines waiting for
    # the identity, the submission, TestFlight) wait for it, and the upload does when it needs the team.
    StepDef(
        "ensure-signing", "ensure signing", ensure_signing, exclusive=one_certificate_maker, background=True
    ),
    # An invitation e-mails a person: it goes out only once nothing left can stop the run (signing stops at
    # Apple's certificate limit), so it waits for signing, beside the upload.
    StepDef("invite-team", "invite team", invite_team, needs=("ensure-signing",), background=True),
    StepDef(
        "apply-app-listing",
        "apply app listing",
        apply_app_listing,
        needs=("validate-credentials", "check-listing"),
        applies=has_listing,
        background=True,
    ),
    StepDef(
        "apply-pricing",
        "apply price and availability",
        apply_pricing,
        needs=("validate-credentials", "check-listing"),
        applies=has_listing,
        background=True,
    ),
    StepDef(
        "await-build",
        "await build",
        await_build,
        needs=("ensure-signing", "invite-team"),
        applies=waits_for_build,
        keeps_result=False,
    ),
    StepDef(
        "upload-build",
        "upload build",
        prepare_build,
        needs=("validate-credentials", "await-build"),
        also_waits_for=signing_unless_team_known,
    ),
    StepDef(
        "testflight-internal",
        "TestFlight internal testing",
        testflight_internal,
        needs=("upload-build", "invite-team", "ensure-signing"),
        applies=tests_internally,
    ),
    StepDef(
        "testflight-external",
        "TestFlight external testing",
        testflight_external,
        needs=("upload-build",),
        applies=tests_externally,
    ),
    StepDef(
        "await-beta-review",
        "await Beta App Review",
        await_beta_review,
        needs=("upload-build", "testflight-external"),
        applies=tests_externally,
        keeps_result=False,
    ),
    StepDef(
        "prepare-version",
        "prepare version",
        prepare_version,
        needs=("upload-build", "check-listing"),
        applies=submits,
    ),
    StepDef(
        "schedule-release",
        "schedule release",
        schedule_release,
        needs=("prepare-version",),
        applies=schedules,
    ),
    StepDef(
        "apply-version-listing",
        "apply version listing",
        apply_version_listing,
        needs=("check-listing", "prepare-version"),
        applies=has_listing,
    ),
    # The background steps are needed here: the submission waits until they are done (a run whose signing
    # failed submits nothing).
    StepDef(
        "submit-for-review",
        "submit for review",
        submit_for_review,
        needs=("upload-build", "prepare-version", "apply-app-listing", "apply-pricing", "ensure-signing"),
        applies=submits,
    ),
    StepDef(
        "phased-release",
        "phased release",
        phased_release,
        needs=("prepare-version", "submit-for-review"),
        applies=phases,
    ),
    StepDef(
        "await-review",
        "await review",
        await_review,
        needs=("submit-for-review", "prepare-version"),
        applies=watches_review,
        keeps_result=False,
    ),
)


def run_step(step: StepDef, ctx: StepContext, job: Job) -> StepResult | Wait:
    """A step as a run runs it. Apple's agreements can lapse at any step (Apple publishes new ones at any time):
    that waits exactly like a key refused at the start, until the Account Holder has accepted them."""
    try:
        return step.run(ctx, job)
    except AgreementsMissing as missing:
        ctx.record(Action.ACCESS_WAITING, "denied", custody_id=job.custody_id, error_code=missing.code)
        return access_wait(job, "agreements_missing")


def run_in_process(
    ctx: StepContext,
    request: OnboardingRequest,
    custody_id: str,
    *,
    skip: frozenset[str] = frozenset(),
    answers: Mapping[str, dict[str, Any]] | None = None,
) -> tuple[dict[str, StepResult], Wait | None]:
    """The step list one step after another in this process, without Prefect (for benchmarks, tests and dry
    runs): every result by step name, and the wait that stopped it, if one did. `answers` stands for the
    Resume forms filled in: what a waiting step is resumed with, by step name. Independent Apple calls are made
    one after another here (`one_call_at_a_time`); the flow makes them together."""
    results: dict[str, StepResult] = {}
    # The simple way, which the benchmarks compare the flow with: every Apple call after the one before.
    with one_call_at_a_time():
        for step in STEPS:
            if step.name in skip or not step.applies(request):
                continue
            job = Job(
                request=request,
                custody_id=custody_id,
                results={n: results[n] for n in step.needs if n in results},
                resumed_with=(answers or {}).get(step.name, {}),
            )
            result = run_step(step, ctx, job)
            if isinstance(result, Wait):
                return results, result
            results[step.name] = result
    return results, None


def step_named(name: str) -> StepDef:
    """Looked up when the step runs, so the list may be extended (a test inserts a step) before a run starts."""
    for step in STEPS:
        if step.name == name:
            return step
    raise KeyError(f"no step {name!r} in ascflow.pipeline.steps.STEPS")
