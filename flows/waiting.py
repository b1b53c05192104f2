"""Waiting without holding a worker: record what the run waits for, then suspend; the poller (or the intake
page, or an operator) resumes it. A resumed run starts again from the top, so each wait is keyed: a wait that
already fired returns its input at once."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast
from uuid import UUID

from prefect import get_client, get_run_logger
from prefect.context import FlowRunContext
from prefect.exceptions import Abort, Pause
from prefect.input import RunInput, create_flow_run_input, keyset_from_paused_state, read_flow_run_input
from prefect.states import State, Suspended
from prefect.utilities.engine import propose_state_sync
from pydantic import BaseModel

from ascflow.pipeline.waiting import Waiting
from tasks.support import run_id

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R", bound=RunInput)


def suspend_until_resumed(
    waiting: Waiting, form: type[M], *, key: str, description: str, timeout_seconds: int | None
) -> M:
    if read_flow_run_input(Waiting.input_key(key)) is None:
        create_flow_run_input(Waiting.input_key(key), waiting.model_dump(mode="json"))
    run_input = RunInput.subclass_from_base_model_type(form).with_initial_data(description=description)
    answer = _suspend(run_input, key=key, message=state_message(description), timeout_seconds=timeout_seconds)
    return form.model_validate(answer.model_dump())


def _suspend(run_input: type[R], *, key: str, message: str, timeout_seconds: int | None) -> R:
    """Prefect 3.9's `suspend_flow_run` for the current run, with a state message: Prefect's takes none, and the
    run's page shows the state's message (the description shows only in the Resume form). The same steps with
    the same public pieces: the pause key gives the same run input keyset (`suspended-<key>-...`) that
    `resume_flow_run(run_id, run_input=...)` answers, and Pause ends the process as Prefect's does."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        raise RuntimeError("only a flow run can suspend itself")
    proposed: State[None] = Suspended(timeout_seconds=timeout_seconds, pause_key=key, message=message)
    keyset = keyset_from_paused_state(proposed)
    proposed.state_details.run_input_keyset = dict(keyset.items())
    get_run_logger().info("Suspending the run (it holds no worker until resumed): %s", message)
    with get_client(sync_client=True) as client:
        try:
            state = propose_state_sync(client=client, state=proposed, flow_run_id=context.flow_run.id)
        except Abort as exc:
            raise RuntimeError(f"the run cannot be suspended: {exc}") from exc
        if state.is_running():
            # The server refuses a pause key it has seen: this wait was resumed, and its answer is stored.
            # `load` dispatches on the caller: from this sync flow it returns the answer, not a coroutine.
            return cast(R, run_input.load(keyset))
        if not state.is_paused():
            raise RuntimeError(f"the run cannot be suspended: the server answered {state}")
        run_input.save(keyset)
    # As Prefect does: any task the run would still start stops with this Pause too.
    context.flow_run_suspension_request.mark_requested(state)
    raise Pause(state=state)


def state_message(description: str, limit: int = 240) -> str:
    """A wait's Markdown description in one line for the state message: its heading and the first sentence
    after it (the Resume form shows the whole text)."""
    heading, _, body = description.partition("\n\n")
    first = re.split(r"(?<=[.!?])\s", body.strip(), maxsplit=1)[0]
    text = ". ".join(part for part in (heading.lstrip("#").strip(), first) if part)
    text = re.sub(r"\*\*|`", "", " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def now() -> datetime:
    return datetime.now(UTC)


def wait_lines() -> list[str]:
    """Each wait of this run in words: what for, since when, and how long it lasted (or that it still lasts)."""
    with get_client(sync_client=True) as client:
        states = client.read_flow_run_states(UUID(run_id()))
    at = now()
    return [wait_line(key, wait, states, at) for key, wait in _stored_waits()]


def wait_line(pause_key: str, wait: Waiting, states: Sequence[State[Any]], at: datetime) -> str:
    """One wait in words. How long it lasted is read on the server's clock, from its Suspended state (found by
    its pause key) to the state after it (Resuming, when the poller, the intake or an operator resumed the run):
    the run cannot mark the end itself, since a step that finds its answer on the rerun never passes its wait
    again. A wait with no state after its suspension lasts until `at`."""
    ordered = sorted(states, key=lambda s: s.timestamp)
    began = next(
        (i for i, s in enumerate(ordered) if s.is_paused() and s.state_details.pause_key == pause_key), None
    )
    start = wait.since if began is None else ordered[began].timestamp
    after = ordered[began + 1] if began is not None and began + 1 < len(ordered) else None
    lasted = f"waited {_duration((after.timestamp if after else at) - start)}"
    what = f"{wait.kind} ({wait.step})" if wait.step else wait.kind
    return f"{what}, since {start:%Y-%m-%d %H:%M:%S} UTC, {lasted}" + ("" if after else ", still waiting")


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"


def waits_of_this_run() -> list[Waiting]:
    """Every wait this run went through (recorded before each suspend), oldest first."""
    return [wait for _, wait in _stored_waits()]


def _stored_waits() -> list[tuple[str, Waiting]]:
    """Each recorded wait with its pause key, oldest first."""
    with get_client(sync_client=True) as client:
        stored = client.filter_flow_run_input(
            flow_run_id=UUID(run_id()), key_prefix=Waiting.input_key(""), limit=100, exclude_keys=set()
        )
    waits = [
        (item.key.removeprefix(Waiting.input_key("")), Waiting.model_validate_json(item.value))
        for item in stored
    ]
    return sorted(waits, key=lambda pair: pair[1].since)
