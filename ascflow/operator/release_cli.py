"""`ascflow runs release`: start a `release-app` run (release a version held for the developer, or pause, resume
or complete its phased rollout) through Prefect's API at PREFECT_API_URL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import typer

from ascflow import contracts
from ascflow.operator.runs_cli import _client, _describe_start, _fail

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.objects import FlowRun

Action = Literal["release", "pause", "resume", "complete"]


def start_release(
    client: SyncPrefectClient,
    *,
    tenant: str,
    bundle_id: str,
    version: str,
    custody_id: str,
    action: Action = "release",
    operator: str = "operator",
) -> FlowRun:
    """A `release-app` run; Prefect refuses parameters that break the deployment's schema (409) before a run
    exists. No idempotency key: the flow itself writes nothing Apple already has, and pause and resume repeat."""
    deployment = client.read_deployment_by_name(contracts.RELEASE_DEPLOYMENT)
    return client.create_flow_run_from_deployment(
        deployment.id,
        parameters={
            "tenant": tenant,
            "bundle_id": bundle_id,
            "version": version,
            "custody_id": custody_id,
            "action": action,
            "operator": operator,
        },
        tags=[f"tenant:{tenant}", f"release:{action}"],
    )


def release(
    tenant: Annotated[str, typer.Option(help="The customer's slug, as in the onboarding request.")],
    bundle_id: Annotated[str, typer.Option(help="The app's bundle ID.")],
    version: Annotated[str, typer.Option(help="The version string, e.g. 1.2.0.")],
    custody_id: Annotated[
        str, typer.Option(help="The customer's key in custody (the onboarding run's summary names it).")
    ],
    action: Annotated[
        Action,
        typer.Option(help="release a version held for the developer; pause, resume or complete its rollout."),
    ] = "release",
    operator: Annotated[str, typer.Option(help="Who asks, for the audit trail.")] = "operator",
) -> None:
    """Start a release-app run; print its ID and where to follow it (its summary says where the key is)."""
    from prefect.exceptions import PrefectHTTPStatusError

    with _client() as client:
        try:
            run = start_release(
                client,
                tenant=tenant,
                bundle_id=bundle_id,
                version=version,
                custody_id=custody_id,
                action=action,
                operator=operator,
            )
        except PrefectHTTPStatusError as refused:
            if refused.response.status_code != 409:
                raise
            _fail(
                f"Prefect refused the parameters; nothing was started: {refused.response.json().get('detail')}",
                code=2,
            )
    _describe_start(run)
