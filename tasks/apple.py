"""Every step of the step list as a Prefect task: the Apple retry policy, a lock where the step asks for one,
and what the step cost. Each may run again (retry, resume, rerun): every Apple write is find-or-create."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from prefect import Task, task
from prefect.cache_policies import DEFAULT

from ascflow.pipeline.job import Job, Step
from ascflow.pipeline.steps import StepDef, step_named
from ascflow.pipeline.steps import run_step as run_defined_step
from tasks.locking import exclusive
from tasks.support import KEY_HANDLING, context, measured, transient_failure

# The steps decrypt the key but return only Apple IDs, so their results may be kept for the run: a resumed
# run (it starts again from the top) then skips the steps it finished, spends no Apple calls on them, and its
# summary still says what this run created. A new run has a new run ID, so it checks everything again.
APPLE_STEP: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": [10, 60, 300],
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": transient_failure,
    "cache_policy": DEFAULT,
    "persist_result": True,
}


@task(**APPLE_STEP)
def run_step(step: str, job: Job, attempt: int) -> Step[Any]:
    """`attempt` counts the step's waits so far: after a wait the step runs afresh, not from the cache."""
    definition = step_named(step)
    ctx = context(job.request.tenant)
    lock = exclusive(definition.exclusive(job.request)) if definition.exclusive else nullcontext()
    with lock:
        return measured(ctx, lambda: run_defined_step(definition, ctx, job))


def step_task(definition: StepDef) -> Task[..., Step[Any]]:
    options = APPLE_STEP if definition.keeps_result else {**APPLE_STEP, **KEY_HANDLING}
    return run_step.with_options(name=definition.name, **options)
