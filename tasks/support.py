"""What every task shares: the step context of the current run, the retry rule, and timing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from prefect import Task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.runtime import flow_run
from prefect.states import State

from ascflow import redaction
from ascflow.audit import Actor
from ascflow.connect import OutcomeUnknown, RateLimited, ServerError, TransportFailure
from ascflow.connect.actions.common import WaitTimedOut
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.job import Step

T = TypeVar("T")

# Every flow run process imports this module first: scrub key-shaped log lines from here on.
redaction.install()

# Every Apple write in ascflow.connect is find-or-create and reads back after an unknown outcome, so
# running a whole step again after one of these is safe; any other error needs a person.
TRANSIENT = (ServerError, TransportFailure, RateLimited, OutcomeUnknown, WaitTimedOut)
# Tasks that decrypt a key keep nothing: no cache records, no persisted results.
KEY_HANDLING: dict[str, Any] = {"cache_policy": NO_CACHE, "persist_result": False}


def run_id() -> str:
    return str(flow_run.get_id() or "local")


def context(tenant: str, actor: Actor | None = None) -> StepContext:
    current = run_id()
    return StepContext(tenant=tenant, run_id=current, actor=actor or Actor(kind="flow", id=current))


def transient_failure(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    try:
        state.result()
    except TRANSIENT:
        return True
    except Exception:
        return False
    return False


def measured(ctx: StepContext, work: Callable[[], T]) -> Step[T]:
    started = time.monotonic()
    result = work()
    return Step[T](result=result, apple_calls=ctx.calls.total, seconds=time.monotonic() - started)
