"""The run's own record: its start and end in the audit trail, the summary artifact, the closing checkpoint."""

from __future__ import annotations

from prefect import task

from ascflow.audit import Action
from ascflow.audit.events import Outcome
from tasks.support import context


@task(name="record-run-start")
def record_run_start(tenant: str) -> int:
    """Cached within the run, so a resumed run does not record its start again."""
    return context(tenant).record(Action.RUN_STARTED, "success").seq


@task(name="record-run-end")
def record_run_end(tenant: str, outcome: Outcome, error_code: str | None = None) -> int:
    ctx = context(tenant)
    position = ctx.record(Action.RUN_FINISHED, outcome, error_code=error_code)
    ctx.audit.checkpoint(reason="run-end")
    return position.seq


@task(name="seal-audit-trail")
def seal_audit_trail() -> int:
    """A signed checkpoint on every sweep, busy or idle: a gap in the trail's checkpoints is itself a signal."""
    return context("ascflow").audit.checkpoint(reason="schedule").size


def artifact_key(tenant: str, bundle_id: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes; one key per app keeps a history of runs."""
    slug = "".join(c if c.isalnum() else "-" for c in f"{tenant}-{bundle_id}".lower())
    return f"onboarding-{slug}"[:100]
