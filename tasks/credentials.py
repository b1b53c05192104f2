"""Checking the customer's key, and destroying it."""

from __future__ import annotations

from prefect import task

from ascflow.audit import Actor
from ascflow.pipeline.credentials import CredentialCheck, check_credentials
from ascflow.pipeline.summary import Step
from ascflow.pipeline.teardown import ReceiptSummary, destroy_credentials, destroy_expired
from tasks.support import KEY_HANDLING, context, measured


@task(name="validate-credentials", **KEY_HANDLING)
def validate_credentials(tenant: str, custody_id: str, bundle_id: str) -> Step[CredentialCheck]:
    """Retries live inside: a fresh key's 401 is asked again after a short backoff before anyone waits."""
    ctx = context(tenant)
    backoff = ctx.settings.access_backoff_seconds
    return measured(ctx, lambda: check_credentials(ctx, custody_id, bundle_id, backoff=backoff))


@task(name="destroy-credentials", retries=3, retry_delay_seconds=[2, 10, 30], **KEY_HANDLING)
def destroy(tenant: str, custody_id: str, actor: Actor | None = None) -> ReceiptSummary:
    return destroy_credentials(context(tenant, actor), custody_id)


@task(name="destroy-expired-credentials", retries=2, retry_delay_seconds=[10, 60], **KEY_HANDLING)
def destroy_all_expired(actor: Actor) -> list[ReceiptSummary]:
    return destroy_expired(context("ascflow", actor))
