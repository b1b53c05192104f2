"""The steps that act at Apple. Each may run again (retry, resume, rerun): every write is find-or-create."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import DEFAULT

from ascflow.pipeline.publish import PublishResult, ReviewStatus, check_review, publish
from ascflow.pipeline.request import OnboardingRequest
from ascflow.pipeline.signing import SigningResult, ensure_signing
from ascflow.pipeline.summary import Step
from ascflow.pipeline.team import InviteResult, invite_team
from tasks.locking import one_certificate_maker
from tasks.support import KEY_HANDLING, context, measured, transient_failure

# The steps decrypt the key but return only Apple IDs, so their results may be kept for the run: a resumed
# run (it starts again from the top) then skips the steps it finished, spends no Apple calls on them, and its
# summary still says what this run created. A new run has a new run ID, so it checks everything again.
APPLE_STEP: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": [10, 60, 300],
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": transient_failure,
    "cache_policy": DEFAULT,
    "persist_result": True,
}


@task(name="ensure-signing", **APPLE_STEP)
def ensure_signing_assets(request: OnboardingRequest, custody_id: str) -> Step[SigningResult]:
    ctx = context(request.tenant)
    with one_certificate_maker(request.tenant):
        return measured(ctx, lambda: ensure_signing(ctx, custody_id, request))


@task(name="invite-team", **APPLE_STEP)
def invite_publishing_team(request: OnboardingRequest, custody_id: str) -> Step[list[InviteResult]]:
    ctx = context(request.tenant)
    return measured(ctx, lambda: invite_team(ctx, custody_id, request.invitees))


@task(name="publish", **APPLE_STEP)
def publish_app(request: OnboardingRequest, custody_id: str) -> Step[PublishResult]:
    ctx = context(request.tenant)
    return measured(ctx, lambda: publish(ctx, custody_id, request))


@task(name="check-review", **{**APPLE_STEP, **KEY_HANDLING})
def check_review_state(tenant: str, custody_id: str, submission_id: str) -> Step[ReviewStatus]:
    ctx = context(tenant)
    return measured(ctx, lambda: check_review(ctx, custody_id, submission_id))
