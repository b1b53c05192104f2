"""`POST /api/signing/export` on the operator API: the signing bundle as a short-lived S3 URL, never inline.

The route is included in the operator router, so it takes the same bearer token. The response names the
object and carries its presigned URL; the .p12, its password and the profile stay in the object.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from ascflow.audit.events import Actor
from ascflow.connect.actions.common import ActionFailed
from ascflow.pipeline.request import BUNDLE_ID_PATTERN, TENANT_PATTERN
from ascflow.signing.export import DEFAULT_URL_LIFETIME, MAX_URL_LIFETIME, export_to_s3

if TYPE_CHECKING:
    from ascflow.intake.service import Intake

API_ACTOR = Actor(kind="api", id="operator-api")


class SigningExportRequest(BaseModel):
    tenant: str = Field(pattern=TENANT_PATTERN)
    bundle_id: str = Field(pattern=BUNDLE_ID_PATTERN)
    to_s3: str = Field(
        pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9._/-]*)?$",
        description="s3://bucket/prefix for the SSE-KMS zip.",
    )
    url_minutes: float = Field(
        default=DEFAULT_URL_LIFETIME.total_seconds() / 60,
        gt=0,
        le=MAX_URL_LIFETIME.total_seconds() / 60,
        description="Lifetime of the presigned URL.",
    )


class SigningExportOut(BaseModel):
    object: str = Field(description="s3://bucket/key of the zip.")
    url: str = Field(description="Presigned GET of the zip; share it only with the build machine.")
    url_expires_at: datetime
    certificate_id: str
    profile_name: str
    team_id: str
    files: list[str]
    audit_seq: int


def signing_router(intake: Intake) -> APIRouter:
    router = APIRouter(tags=["signing"])

    @router.post("/signing/export", status_code=status.HTTP_201_CREATED)
    def export_signing(body: SigningExportRequest) -> SigningExportOut:
        """Export the app's signing identity to S3 (audited); refused without the S3 custody backend."""
        try:
            exported = export_to_s3(
                intake.custody,
                intake.settings,
                tenant=body.tenant,
                bundle_id=body.bundle_id,
                to=body.to_s3,
                actor=API_ACTOR,
                url_lifetime=timedelta(minutes=body.url_minutes),
            )
        except ActionFailed as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        return SigningExportOut(
            object=exported.s3.location,
            url=exported.s3.url,
            url_expires_at=exported.s3.url_expires_at,
            certificate_id=exported.certificate_id,
            profile_name=exported.profile_name,
            team_id=exported.team_id,
            files=list(exported.files),
            audit_seq=exported.audit_seq,
        )

    return router
