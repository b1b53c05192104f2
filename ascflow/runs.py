"""Starting and resuming onboarding runs through Prefect's API: what the intake page, the demo and other
systems do. A start carries an idempotency key, so a repeated request (a double click, a retried webhook)
returns the run already created instead of starting a second one."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.objects import FlowRun

from ascflow import contracts
from ascflow.pipeline.request import OnboardingRequest
from ascflow.pipeline.waiting import CredentialsArrived


def start_onboarding(
    client: SyncPrefectClient, request: OnboardingRequest, idempotency_key: str, tags: Sequence[str] = ()
) -> FlowRun:
    deployment = client.read_deployment_by_name(contracts.ONBOARD_DEPLOYMENT)
    return client.create_flow_run_from_deployment(
        deployment.id,
        parameters={"request": request.model_dump(mode="json")},
        idempotency_key=idempotency_key,
        tags=[f"tenant:{request.tenant}", *tags],
    )


def hand_over_credentials(client: SyncPrefectClient, flow_run_id: UUID, custody_id: str) -> None:
    """Resume a run that waits for the customer's key (it suspended with `contracts.AWAIT_CREDENTIALS_KEY`)."""
    arrived = CredentialsArrived(custody_id=custody_id)
    client.resume_flow_run(flow_run_id, run_input=arrived.model_dump())


def destroy_now(client: SyncPrefectClient, tenant: str, custody_id: str, operator: str) -> FlowRun:
    deployment = client.read_deployment_by_name(contracts.DESTROY_DEPLOYMENT)
    return client.create_flow_run_from_deployment(
        deployment.id,
        parameters={"tenant": tenant, "custody_id": custody_id, "operator": operator},
        idempotency_key=f"destroy:{custody_id}",
    )
