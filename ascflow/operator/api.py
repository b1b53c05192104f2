"""`POST /api/runs/{flow_run_id}/retry` on the operator API: `ascflow runs retry` for other systems.

For any onboarding run, however it was started (an onboarding's own retry is `/api/onboardings/{id}/retry`).
The route is included in the operator router, so it takes the same bearer token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from fastapi import APIRouter, HTTPException, status
from prefect.exceptions import ObjectNotFound
from pydantic import BaseModel, Field

from ascflow.contracts import CUSTODY_ID_PATTERN
from ascflow.operator.retry import RetryRefused, retry_run

if TYPE_CHECKING:
    from ascflow.intake.service import Intake


class RetryBody(BaseModel):
    custody_id: str | None = Field(
        default=None,
        pattern=CUSTODY_ID_PATTERN,
        description="A new key's custody ID, when the retried run's key was destroyed.",
    )


class RetriedRun(BaseModel):
    retried_flow_run_id: str = Field(
        description="The run retried; the new run carries the tag retry-of:<it>."
    )
    flow_run_id: str
    flow_run_name: str
    run_state: str | None
    idempotency_key: str | None
    created: bool = Field(description="False when the run was retried before: this is that retry, unchanged.")


def retry_router(intake: Intake) -> APIRouter:
    router = APIRouter(tags=["runs"])

    @router.post("/runs/{flow_run_id}/retry")
    def retry_flow_run(flow_run_id: UUID, body: RetryBody | None = None) -> RetriedRun:
        """A NEW run for the request of a failed, crashed or cancelled onboarding run, linked by a tag. 409 for
        a run still running or suspended (resume it instead) or completed; the detail says what to do."""
        with intake.prefect() as client:
            try:
                retried = retry_run(
                    client, flow_run_id, custody=intake.custody, custody_id=body.custody_id if body else None
                )
            except ObjectNotFound:
                raise HTTPException(status.HTTP_404_NOT_FOUND, "No flow run with this ID.") from None
            except RetryRefused as refused:
                raise HTTPException(
                    status.HTTP_409_CONFLICT, f"{refused.what} Next step: {refused.next_step}"
                ) from None
        return RetriedRun(
            retried_flow_run_id=str(retried.retried.id),
            flow_run_id=str(retried.run.id),
            flow_run_name=retried.run.name,
            run_state=retried.run.state_name,
            idempotency_key=retried.run.idempotency_key,
            created=retried.created,
        )

    return router
