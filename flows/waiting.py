"""Waiting without holding a worker: record what the run waits for, then suspend; the poller (or the intake
page, or an operator) resumes it. A resumed run starts again from the top, so each wait is keyed: a wait that
already fired returns its input at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

from prefect import get_client
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput, create_flow_run_input, read_flow_run_input
from pydantic import BaseModel

from ascflow.pipeline.waiting import Waiting
from tasks.support import run_id

M = TypeVar("M", bound=BaseModel)


def suspend_until_resumed(
    waiting: Waiting, form: type[M], *, key: str, description: str, timeout_seconds: int | None
) -> M:
    if read_flow_run_input(Waiting.input_key(key)) is None:
        create_flow_run_input(Waiting.input_key(key), waiting.model_dump(mode="json"))
    run_input = RunInput.subclass_from_base_model_type(form)
    answer = suspend_flow_run(
        wait_for_input=run_input.with_initial_data(description=description),
        key=key,
        timeout=timeout_seconds,
    )
    return form.model_validate(answer.model_dump())


def now() -> datetime:
    return datetime.now(UTC)


def waits_of_this_run() -> list[Waiting]:
    """Every wait this run went through (recorded before each suspend), oldest first."""
    with get_client(sync_client=True) as client:
        stored = client.filter_flow_run_input(
            flow_run_id=UUID(run_id()), key_prefix=Waiting.input_key(""), limit=100, exclude_keys=set()
        )
    return sorted((Waiting.model_validate_json(item.value) for item in stored), key=lambda w: w.since)
