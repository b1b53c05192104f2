"""One run at a time per tenant and app: a Prefect global concurrency limit of 1, made on first use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prefect import get_client
from prefect.concurrency.sync import concurrency

from ascflow.pipeline.request import OnboardingRequest


@contextmanager
def one_run_per_app(request: OnboardingRequest, *, timeout_seconds: float = 3600) -> Iterator[None]:
    name = request.concurrency_key
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(name, 1)
    # strict: a missing limit must fail, not silently let two runs in.
    with concurrency(name, occupy=1, timeout_seconds=timeout_seconds, strict=True):
        yield
