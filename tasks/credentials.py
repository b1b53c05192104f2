"""Destroying the customer's key: at the end of a run, by an operator, and by the cleanup sweep."""

from __future__ import annotations

from prefect import task

from ascflow.audit import Actor
from ascflow.pipeline.teardown import ReceiptSummary, destroy_credentials, destroy_expired
from tasks.support import KEY_HANDLING, context


@task(name="destroy-credentials", retries=3, retry_delay_seconds=[2, 10, 30], **KEY_HANDLING)
def destroy(tenant: str, custody_id: str, actor: Actor | None = None) -> ReceiptSummary:
    return destroy_credentials(context(tenant, actor), custody_id)


@task(name="destroy-expired-credentials", retries=2, retry_delay_seconds=[10, 60], **KEY_HANDLING)
def destroy_all_expired(actor: Actor) -> list[ReceiptSummary]:
    return destroy_expired(context("ascflow", actor))
