"""The operator's JSON API (bearer token): onboardings, their customer links, and the runs behind them.

Each action maps onto a deployment through `ascflow.runs`: start and retry create `onboard-app` runs with an
idempotency key per onboarding and attempt; destroy creates a `destroy-credentials` run.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.objects import FlowRun, StateType
from pydantic import BaseModel, Field

from ascflow.custody import DeletionReceipt
from ascflow.intake.handover import FINISHED, start_run
from ascflow.intake.onboardings import Onboarding
from ascflow.intake.service import Intake
from ascflow.intake.status import Phase, StatusView, onboarding_status, page_status
from ascflow.operator.api import retry_router
from ascflow.pipeline.request import OnboardingRequest
from ascflow.runs import destroy_now
from ascflow.signing.api import signing_router

# Prefect answers at most 200 runs a read (PREFECT_API_DEFAULT_LIMIT): a page is read in one.
MAX_PAGE = 200
ONBOARDING_ID = r"^[0-9a-f]{32}$"
_bearer = HTTPBearer(auto_error=False, description="The operator token (ASCFLOW_INTAKE_OPERATOR_TOKEN).")


class NewOnboarding(BaseModel):
    request: OnboardingRequest = Field(
        description="What to publish; `custody_id` stays empty (the link brings the key)."
    )
    start: bool = Field(
        default=False,
        description="Start the run now: it waits, holding no worker, until the customer uploads.",
    )


class OnboardingOut(BaseModel):
    id: str
    tenant: str
    bundle_id: str
    version: str
    phase: Phase = Field(description="Where it stands, as the customer's status page says it.")
    waiting_on: str | None
    next_step: str
    attempt: int
    flow_run_id: str | None
    run_state: str | None
    custody_id: str | None
    key_destroyed: bool
    link_expires_at: datetime
    created_at: datetime


class CreatedOnboarding(OnboardingOut):
    link: str = Field(
        description="The customer's personal link; send it to them. A new link revokes this one."
    )


class NewLink(BaseModel):
    link: str
    link_expires_at: datetime


class RunOut(BaseModel):
    onboarding_id: str
    flow_run_id: str
    flow_run_name: str
    run_state: str | None


def operator_router(intake: Intake) -> APIRouter:
    def operator(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> str:
        expected = intake.settings.intake_operator_token
        given = credentials.credentials if credentials else ""
        if expected is None or not secrets.compare_digest(
            given.encode(), expected.get_secret_value().encode()
        ):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "A valid operator bearer token is required (ASCFLOW_INTAKE_OPERATOR_TOKEN).",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return "operator"

    router = APIRouter(prefix="/api", tags=["onboardings"], dependencies=[Depends(operator)])

    def found(onboarding_id: str) -> Onboarding:
        onboarding = intake.store.find(onboarding_id)
        if onboarding is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "No onboarding with this ID.")
        return onboarding

    def describe(client: SyncPrefectClient, onboarding: Onboarding) -> OnboardingOut:
        view = onboarding_status(
            onboarding, client=client, audit=intake.audit, custody=intake.custody, trail=intake.trail
        )
        return out(onboarding, view)

    def out(onboarding: Onboarding, view: StatusView) -> OnboardingOut:
        return OnboardingOut(
            id=onboarding.id,
            tenant=onboarding.tenant,
            bundle_id=onboarding.bundle_id,
            version=onboarding.request.version,
            phase=view.phase,
            waiting_on=view.waiting_on,
            next_step=view.next_step,
            attempt=onboarding.attempt,
            flow_run_id=onboarding.flow_run_id,
            run_state=view.run_state,
            custody_id=onboarding.custody_id,
            key_destroyed=view.receipt is not None,
            link_expires_at=onboarding.link_expires_at,
            created_at=onboarding.created_at,
        )

    def run_out(onboarding: Onboarding, run: FlowRun) -> RunOut:
        return RunOut(
            onboarding_id=onboarding.id,
            flow_run_id=str(run.id),
            flow_run_name=run.name,
            run_state=run.state_name,
        )

    @router.post("/onboardings", status_code=status.HTTP_201_CREATED)
    def create_onboarding(body: NewOnboarding) -> CreatedOnboarding:
        """Create an onboarding and its customer link; optionally start the run that waits for the key."""
        if body.request.custody_id is not None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_ENTITY,
                "request.custody_id must be empty: the customer's link brings the key.",
            )
        onboarding, link = intake.create(body.request)
        with intake.prefect() as client:
            if body.start:
                onboarding = start_run(client, intake.store, onboarding)
            out = describe(client, onboarding)
        return CreatedOnboarding(**out.model_dump(), link=link)

    @router.get("/onboardings")
    def list_onboardings(
        response: Response,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Onboardings per page.")] = 100,
        after: Annotated[
            str | None,
            Query(
                pattern=ONBOARDING_ID, description="The last ID of the previous page (its `Link: rel=next`)."
            ),
        ] = None,
    ) -> list[OnboardingOut]:
        """Onboardings, oldest first, a page at a time: while there are more, the `Link` header names the
        next page (`rel="next"`), which starts after this page's last onboarding."""
        try:
            onboardings = intake.store.page(limit + 1, after)
        except KeyError:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "`after` names no onboarding.") from None
        page, more = onboardings[:limit], len(onboardings) > limit
        if more:
            response.headers["Link"] = f'</api/onboardings?limit={limit}&after={page[-1].id}>; rel="next"'
        with intake.prefect() as client:
            views = page_status(page, client=client, custody=intake.custody, trail=intake.trail)
        return [out(onboarding, view) for onboarding, view in zip(page, views, strict=True)]

    @router.get("/onboardings/{onboarding_id}")
    def get_onboarding(onboarding_id: str) -> OnboardingOut:
        with intake.prefect() as client:
            return describe(client, found(onboarding_id))

    @router.post("/onboardings/{onboarding_id}/link")
    def replace_link(onboarding_id: str) -> NewLink:
        """A new customer link; the previous one stops working at once."""
        onboarding, link = intake.new_link(found(onboarding_id).id)
        return NewLink(link=link, link_expires_at=onboarding.link_expires_at)

    @router.post("/onboardings/{onboarding_id}/start")
    def start(onboarding_id: str) -> RunOut:
        """Start the onboarding's run (it waits for the key if none was uploaded). Idempotent: a run that
        exists is returned."""
        onboarding = found(onboarding_id)
        with intake.prefect() as client:
            if onboarding.flow_run_id is None:
                onboarding = start_run(client, intake.store, onboarding)
            return run_out(onboarding, client.read_flow_run(UUID(onboarding.flow_run_id or "")))

    @router.post("/onboardings/{onboarding_id}/retry")
    def retry(onboarding_id: str) -> RunOut:
        """A new run after one that failed, crashed or was cancelled (the key is reused while in custody)."""
        onboarding = found(onboarding_id)
        with intake.prefect() as client:
            if onboarding.flow_run_id is None:
                raise HTTPException(status.HTTP_409_CONFLICT, "No run yet: use start.")
            last = client.read_flow_run(UUID(onboarding.flow_run_id))
            if last.state_type not in FINISHED or last.state_type == StateType.COMPLETED:
                raise HTTPException(
                    status.HTTP_409_CONFLICT,
                    f"The last run is {last.state_name}; only a failed, crashed or cancelled run is retried.",
                )
            onboarding = intake.store.next_attempt(onboarding.id)
            if onboarding.custody_id and intake.custody.receipt(onboarding.custody_id) is not None:
                onboarding = intake.store.clear_custody(
                    onboarding.id
                )  # destroyed: the customer uploads again
            onboarding = start_run(client, intake.store, onboarding)
            return run_out(onboarding, client.read_flow_run(UUID(onboarding.flow_run_id or "")))

    @router.get("/onboardings/{onboarding_id}/receipt")
    def receipt(onboarding_id: str) -> DeletionReceipt:
        """The signed deletion receipt, whole: with the audit trail's position and hash and the removed copies'
        locations (the customer's status page shows only their own identifiers)."""
        onboarding = found(onboarding_id)
        signed = intake.custody.receipt(onboarding.custody_id) if onboarding.custody_id else None
        if signed is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "The key of this onboarding is not destroyed yet.")
        return signed

    @router.post("/onboardings/{onboarding_id}/destroy-credentials", status_code=status.HTTP_202_ACCEPTED)
    def destroy_credentials(onboarding_id: str) -> RunOut:
        """Destroy the customer's key now (a `destroy-credentials` run; its receipt shows on the status page)."""
        onboarding = found(onboarding_id)
        if onboarding.custody_id is None:
            raise HTTPException(status.HTTP_409_CONFLICT, "No key was uploaded for this onboarding.")
        with intake.prefect() as client:
            run = destroy_now(client, onboarding.tenant, onboarding.custody_id, operator="intake-api")
            return run_out(onboarding, run)

    router.include_router(signing_router(intake))  # POST /api/signing/export, behind the same token
    router.include_router(retry_router(intake))  # POST /api/runs/{id}/retry, behind the same token
    return router
