"""The status page's "Check now": the customer asks for a check with Apple at once, instead of the next one on
the wait's schedule (ascflow.pipeline.check_schedule, which backs off to one check in 50 minutes after hours).

The intake records the request beside the run's wait, where the access poller reads it (the next poll checks
that run whatever its age), and starts a poll. One request per wait within `ASCFLOW_CHECK_NOW_EVERY_SECONDS`,
counted from the stored request itself, so the limit holds across intake restarts; each accepted request is in
the audit trail. A refused one is not (it costs nothing: no poll, no Apple call).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.objects import StateType

from ascflow import contracts
from ascflow.audit import Action, Actor, AuditEvent, AuditLog, Target
from ascflow.intake.onboardings import Onboarding
from ascflow.pipeline.check_schedule import (
    MOST_RUN_INPUTS,
    RUN_INPUTS_PREFIX,
    SCHEDULED_KINDS,
    CheckAsked,
    WaitRecord,
)
from ascflow.pipeline.waiting import Waiting

# Read the stored request, then write it: one request at a time in this process (requests are rare: each wait
# is admitted once a minute), so two clicks at once cannot both pass the limit.
_ONE_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class CheckNow:
    """What happened to the request, for the page."""

    outcome: Literal["started", "too_soon", "not_waiting"]
    kind: str | None = None
    last_check_seconds_ago: int | None = None
    asked_seconds_ago: int = 0
    retry_after_seconds: int = 0


def ask_for_check(
    client: SyncPrefectClient, onboarding: Onboarding, audit: AuditLog, *, every_seconds: float, now: datetime
) -> CheckNow:
    if onboarding.flow_run_id is None:
        return CheckNow("not_waiting")
    run_id = UUID(onboarding.flow_run_id)
    with _ONE_AT_A_TIME:
        run = client.read_flow_run(run_id)
        paused = run.state is not None and run.state.type == StateType.PAUSED
        pause_key = run.state.state_details.pause_key if paused and run.state else None
        if pause_key is None:
            return CheckNow("not_waiting")
        stored = client.filter_flow_run_input(
            flow_run_id=run_id, key_prefix=RUN_INPUTS_PREFIX, limit=MOST_RUN_INPUTS, exclude_keys=set()
        )
        record = WaitRecord.from_inputs(pause_key, {item.key: item.value for item in stored})
        if record is None or record.waiting.kind not in SCHEDULED_KINDS:
            return CheckNow("not_waiting")
        last_check = _seconds(now - record.last_checked)
        if record.asked is not None and (asked := (now - record.asked.at).total_seconds()) < every_seconds:
            return CheckNow(
                "too_soon",
                kind=record.waiting.kind,
                last_check_seconds_ago=last_check,
                asked_seconds_ago=_seconds(now - record.asked.at),
                retry_after_seconds=max(1, math.ceil(every_seconds - asked)),
            )
        key = Waiting.asked_key(pause_key)
        if record.asked is not None:  # read just now; only the intake writes it, under the lock
            client.delete_flow_run_input(run_id, key)
        client.create_flow_run_input(run_id, key, CheckAsked(at=now).model_dump_json())
    poller = client.read_deployment_by_name(contracts.POLLER_DEPLOYMENT)
    client.create_flow_run_from_deployment(poller.id, tags=["check-now"])
    audit.append(
        AuditEvent(
            actor=Actor(kind="customer", id=onboarding.tenant),
            action=Action.WAIT_CHECK_ASKED,
            tenant=onboarding.tenant,
            target=Target(run_id=onboarding.flow_run_id, custody_id=record.waiting.custody_id),
            outcome="success",
        )
    )
    return CheckNow("started", kind=record.waiting.kind, last_check_seconds_ago=last_check)


def _seconds(span: timedelta) -> int:
    return max(0, int(span.total_seconds()))
