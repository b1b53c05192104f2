"""Mutual exclusion across workers: Prefect global concurrency limits of 1, made on first use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress

from prefect import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from ascflow.pipeline.request import OnboardingRequest

# The holder renews its lease in the background; a holder killed outright (kill -9, a lost machine) keeps the
# slot until the lease lapses. Prefect's shortest lease lets the next run in after a minute, not five.
LEASE_SECONDS = 60


def ensure_limit(name: str) -> None:
    """Make the limit of 1 if it is missing. Prefect's upsert reads, then creates, "not atomically": runs that
    start together all see it missing and all but one get ObjectAlreadyExists. Here the loser simply uses the
    limit the winner made (a limit is only ever made with 1 slot, so there is nothing to update)."""
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
            return
        except ObjectNotFound:
            pass
        with suppress(ObjectAlreadyExists):
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))


@contextmanager
def exclusive(name: str, *, timeout_seconds: float = 3600) -> Iterator[None]:
    ensure_limit(name)
    # strict: a missing limit must fail, not silently let two holders in.
    with concurrency(
        name, occupy=1, timeout_seconds=timeout_seconds, lease_duration=LEASE_SECONDS, strict=True
    ):
        yield


def one_run_per_app(request: OnboardingRequest) -> AbstractContextManager[None]:
    """Two runs for the same tenant and app never work at Apple at once."""
    return exclusive(request.concurrency_key)
