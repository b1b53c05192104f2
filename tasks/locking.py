"""Mutual exclusion across workers: Prefect global concurrency limits of 1, made on first use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime

from prefect import get_client, get_run_logger
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.context import FlowRunContext, TaskRunContext
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.logging import get_logger
from prefect.variables import Variable

from ascflow.pipeline.request import OnboardingRequest
from tasks.support import run_id

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


def holder_variable(name: str) -> str:
    return f"{name}-holder"[:255]


def say_who_holds(name: str) -> None:
    """Before waiting for a held lock, say for whom and how long at most: a silent minute looks like a hang."""
    with get_client(sync_client=True) as client:
        held = client.read_global_concurrency_limit_by_name(name).active_slots
    if not held:
        return
    holder = Variable.get(holder_variable(name))
    # The holder writes its name just after it gets the lock: a waiter may look in between.
    if isinstance(holder, dict) and {"run", "since"} <= holder.keys():
        who = f"run {holder['run']} (since {holder['since']})"
    else:
        who = "another run"
    logger = get_run_logger() if FlowRunContext.get() or TaskRunContext.get() else get_logger(__name__)
    logger.warning(
        "waiting for the lock %s held by %s; it frees when that run ends, or within %d s of its last lease "
        "renewal if that run was killed",
        name,
        who,
        LEASE_SECONDS,
    )


@contextmanager
def exclusive(name: str, *, timeout_seconds: float = 3600) -> Iterator[None]:
    ensure_limit(name)
    say_who_holds(name)
    # strict: a missing limit must fail, not silently let two holders in.
    with concurrency(
        name, occupy=1, timeout_seconds=timeout_seconds, lease_duration=LEASE_SECONDS, strict=True
    ):
        since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        Variable.set(holder_variable(name), {"run": run_id(), "since": since}, overwrite=True)
        yield


def one_run_per_app(request: OnboardingRequest) -> AbstractContextManager[None]:
    """Two runs for the same tenant and app never work at Apple at once."""
    return exclusive(request.concurrency_key)
