"""Waiting without holding a worker: record what the run waits for, then suspend; the poller (or the intake
page, or an operator) resumes it. A resumed run starts again from the top, so each wait is keyed: a wait that
already fired returns its input at once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from uuid import UUID

from prefect import get_client
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput, create_flow_run_input, read_flow_run_input
from pydantic import BaseModel

from ascflow.pipeline.waiting import Waiting
from tasks.support import run_id

M = TypeVar("M", bound=BaseModel)
RESUMED = "ascflow-resumed-"


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
    # The first return after the resume is (within the restart's seconds) when the wait ended; a later pass
    # over the same wait returns at once and keeps that first time.
    if read_flow_run_input(RESUMED + key) is None:
        create_flow_run_input(RESUMED + key, now().isoformat())
    return form.model_validate(answer.model_dump())


def now() -> datetime:
    return datetime.now(UTC)


def wait_lines() -> list[str]:
    """Each wait of this run in words: what for, since when, and how long it lasted (or that it still lasts)."""
    with get_client(sync_client=True) as client:
        stored = client.filter_flow_run_input(
            flow_run_id=UUID(run_id()), key_prefix=RESUMED, limit=100, exclude_keys=set()
        )
    resumed = sorted(datetime.fromisoformat(json.loads(item.value)) for item in stored)
    lines = []
    for wait in waits_of_this_run():
        ended = next((t for t in resumed if t >= wait.since), None)
        lasted = f"waited {_duration((ended or now()) - wait.since)}" + ("" if ended else ", still waiting")
        what = f"{wait.kind} ({wait.step})" if wait.step else wait.kind
        lines.append(f"{what}, since {wait.since:%Y-%m-%d %H:%M:%S} UTC, {lasted}")
    return lines


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"


def waits_of_this_run() -> list[Waiting]:
    """Every wait this run went through (recorded before each suspend), oldest first."""
    with get_client(sync_client=True) as client:
        stored = client.filter_flow_run_input(
            flow_run_id=UUID(run_id()), key_prefix=Waiting.input_key(""), limit=100, exclude_keys=set()
        )
    return sorted((Waiting.model_validate_json(item.value) for item in stored), key=lambda w: w.since)
