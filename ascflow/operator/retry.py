"""A documented retry of an onboarding run: a NEW run for the same request, linked to the one it retries.

Prefect's idempotency key returns the existing run for a key it has seen, even one that crashed, so a retry
cannot reuse the key: it derives `<key>:retry-<n+1>` from the retried run's key (`<key>:retry-<n>`, or the
first key). Retrying the same run twice is therefore idempotent too (a double click starts one retry). The new
run's parameters are the request alone; the link is the tag `retry-of:<run id>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterIdempotencyKey
from prefect.client.schemas.objects import FlowRun, StateType
from pydantic import ValidationError

from ascflow import contracts
from ascflow.custody import Custody
from ascflow.errors import OperatorError
from ascflow.pipeline.request import OnboardingRequest
from ascflow.runs import start_onboarding

RETRY_OF = "retry-of:"
_RETRY_SUFFIX = re.compile(r"^(?P<base>.*):retry-(?P<n>\d+)$")
_RETRYABLE = frozenset({StateType.FAILED, StateType.CRASHED, StateType.CANCELLED})


class RetryRefused(OperatorError):
    """The run cannot be retried in its state; `next_step` is what works instead."""


@dataclass(frozen=True)
class Retried:
    retried: FlowRun
    run: FlowRun
    created: bool  # False: this run was retried before, and `run` is that retry


def retry_key(run: FlowRun) -> str:
    key = run.idempotency_key or f"run:{run.id}"
    match = _RETRY_SUFFIX.match(key)
    if match is None:
        return f"{key}:retry-1"
    return f"{match['base']}:retry-{int(match['n']) + 1}"


def retried_from(run: FlowRun) -> str | None:
    """The run this one retries (its `retry-of:` tag), if any."""
    return next((tag.removeprefix(RETRY_OF) for tag in run.tags if tag.startswith(RETRY_OF)), None)


def retry_run(
    client: SyncPrefectClient, run_id: UUID, *, custody: Custody | None = None, custody_id: str | None = None
) -> Retried:
    """Start a new run for the request of a failed, crashed or cancelled onboarding run.

    `custody_id` replaces the request's key (the old one was destroyed, the customer handed over a new one);
    with `custody`, a request whose key was destroyed is refused before a run that would fail at once."""
    old = client.read_flow_run(run_id)
    request = _request_of(old)
    _check_state(old)
    if custody_id is not None:
        request = request.model_copy(update={"custody_id": custody_id})
    if custody is not None and request.custody_id and custody.receipt(request.custody_id) is not None:
        raise RetryRefused(
            f"The key of run {old.name} (custody {request.custody_id}) was destroyed; a retry would stop at once.",
            next_step="Have the customer hand over a new key, deposit it (ascflow custody deposit ...), then "
            f"retry with it: ascflow runs retry {old.id} --custody-id NEW_CUSTODY_ID.",
        )
    key = retry_key(old)
    earlier = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(idempotency_key=FlowRunFilterIdempotencyKey(any_=[key])), limit=1
    )
    if earlier:
        return Retried(old, earlier[0], created=False)
    tags = [t for t in old.tags if not t.startswith((RETRY_OF, "tenant:"))] + [f"{RETRY_OF}{old.id}"]
    return Retried(old, start_onboarding(client, request, key, tags=tags), created=True)


def _request_of(run: FlowRun) -> OnboardingRequest:
    try:
        return OnboardingRequest.model_validate(run.parameters.get("request"))
    except ValidationError:
        raise RetryRefused(
            f"Run {run.name} is not an {contracts.ONBOARD_DEPLOYMENT} run with an onboarding request.",
            next_step="Give the ID of an onboarding run (ascflow runs status RUN shows what a run is).",
        ) from None


def _check_state(run: FlowRun) -> None:
    state = run.state_name or "unknown"
    if run.state_type in _RETRYABLE:
        return
    if run.state_type == StateType.PAUSED:
        raise RetryRefused(
            f"Run {run.name} is {state}: it waits and holds no worker; a second run would queue behind it.",
            next_step="Resume it instead: the Resume form on its page in the Prefect UI (the access poller "
            f"resumes it by itself once Apple accepts the key); ascflow runs status {run.id} says what it waits for.",
        )
    if run.state_type == StateType.COMPLETED:
        raise RetryRefused(
            f"Run {run.name} completed; there is nothing to retry.",
            next_step="To publish another version, start a new run: ascflow runs start --request FILE.",
        )
    raise RetryRefused(
        f"Run {run.name} is still {state}; a second run would queue behind it on the app's lock.",
        next_step=f"Follow it (ascflow runs status {run.id}); to stop it, cancel it in the Prefect UI or with "
        f"prefect flow-run cancel {run.id}, then retry it.",
    )
