"""Release control, an operator's action: release a version App Review approved for a manual release
(PENDING_DEVELOPER_RELEASE), or pause, resume or complete its phased rollout. The key is destroyed once nothing
is left for it to do (released without a rollout, or the rollout complete); the summary says which."""

from __future__ import annotations

from typing import Annotated, Any

from prefect import Flow, flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import FlowRun
from prefect.states import State
from pydantic import BaseModel, Field

from ascflow import contracts
from ascflow.audit import Actor
from ascflow.pipeline.release_app import (
    NOT_HELD,
    VERSION_PATTERN,
    KeyGone,
    KeyNotHeld,
    ReleaseAction,
    ReleaseControlResult,
    after_release,
    check_key,
    control_release,
)
from ascflow.pipeline.request import BUNDLE_ID_PATTERN, TENANT_PATTERN
from ascflow.pipeline.summary import failure_markdown, release_markdown
from ascflow.pipeline.teardown import KeptKey, ReceiptSummary
from tasks.credentials import destroy
from tasks.locking import exclusive
from tasks.run import artifact_key
from tasks.support import KEY_HANDLING, context, transient_failure


class ReleaseReport(BaseModel):
    tenant: str
    bundle_id: str
    version: str
    result: ReleaseControlResult
    receipt: ReceiptSummary | None = None
    kept: KeptKey | None = None


@task(
    name="release-control",
    retries=3,
    retry_delay_seconds=[10, 60, 300],
    retry_condition_fn=transient_failure,
    **KEY_HANDLING,
)
def control(
    tenant: str, custody_id: str, bundle_id: str, version: str, action: ReleaseAction
) -> ReleaseControlResult:
    ctx = context(tenant)
    check_key(ctx, custody_id, tenant, bundle_id)
    return control_release(ctx, custody_id, bundle_id, version, action)


@flow(name=contracts.RELEASE_FLOW, persist_result=True, log_prints=False)
def release_app(
    tenant: Annotated[str, Field(pattern=TENANT_PATTERN)],
    bundle_id: Annotated[str, Field(pattern=BUNDLE_ID_PATTERN)],
    version: Annotated[str, Field(pattern=VERSION_PATTERN)],
    custody_id: Annotated[str, Field(pattern=contracts.CUSTODY_ID_PATTERN)],
    action: ReleaseAction = "release",
    operator: Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,64}$")] = "operator",
) -> ReleaseReport:
    """Release a version, or control its phased rollout, with the customer's key in custody.

    Args:
        tenant: The customer's slug, e.g. acme-games.
        bundle_id: The app, e.g. com.acme.game.
        version: The version string, e.g. 1.2.0.
        custody_id: The customer's key in custody (the onboarding run's summary names the one it kept).
        action: release (a version waiting for the developer); pause, resume or complete (its phased rollout).
        operator: Who asks, for the audit trail.
    """
    with exclusive(contracts.app_lock(tenant, bundle_id)):
        result = control(tenant, custody_id, bundle_id, version, action)
    report = ReleaseReport(tenant=tenant, bundle_id=bundle_id, version=version, result=result)
    report.kept = after_release(context(tenant), result, tenant, bundle_id, version, custody_id)
    if report.kept is None:
        report.receipt = destroy(tenant, custody_id, Actor(kind="operator", id=operator))
    create_markdown_artifact(
        markdown=release_markdown(tenant, bundle_id, version, result, report.receipt, report.kept),
        key=release_artifact_key(tenant, bundle_id),
        description=f"release-app {action} of {bundle_id} {version} for {tenant}",
    )
    return report


@release_app.on_failure
def record_failure(flow: Flow[Any, Any], flow_run: FlowRun, state: State[Any]) -> None:
    """Nothing was released or changed beyond what Apple's state shows; the key stays in custody (or was
    destroyed before: its receipt)."""
    params = flow_run.parameters
    tenant, bundle_id = str(params.get("tenant", "unknown")), str(params.get("bundle_id", "unknown"))
    try:
        state.result()
        error: BaseException | None = None
    except Exception as failed:
        error = failed
    receipt = error.receipt if isinstance(error, KeyGone) else None
    credentials = NOT_HELD if isinstance(error, KeyNotHeld) else None
    create_markdown_artifact(
        markdown=failure_markdown(
            tenant, bundle_id, str(params.get("version", "")), error, receipt, credentials
        ),
        key=release_artifact_key(tenant, bundle_id),
        description=f"Failed release-app run for {bundle_id} ({tenant})",
    )


def release_artifact_key(tenant: str, bundle_id: str) -> str:
    return "release-" + artifact_key(tenant, bundle_id).removeprefix("onboarding-")
