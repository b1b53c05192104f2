"""The step list drives the flow: a step inserted between "prepare version" and "submit" runs in that
position, and the flow's retry (which runs the list again from the top) skips it once done."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import StateType

from ascflow.pipeline import steps
from tests.flows.run_directly import RESULT
from tests.flows.stack import APPS, FlowStack, state_of

pytestmark = pytest.mark.slow

TENANT = "steps-games"


def test_an_inserted_step_runs_in_its_place_and_is_skipped_on_a_rerun(
    flow_stack: FlowStack, tmp_path: Path
) -> None:
    key = flow_stack.new_key()
    custody_id = flow_stack.deposit(TENANT, APPS["steps"], key.key_id, key.p8)
    request = flow_stack.request(TENANT, APPS["steps"], custody_id, destroy_credentials="after_submission")
    done = subprocess.run(
        [sys.executable, "-m", "tests.flows.inserted_step", request.model_dump_json(), str(tmp_path)],
        env=flow_stack.prefect.env,
        cwd=flow_stack.prefect.project_dir,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(
        next(x for x in done.stdout.splitlines() if x.startswith(RESULT)).removeprefix(RESULT)
    )
    run_id = UUID(outcome["flow_run_id"])
    assert outcome["type"] == StateType.COMPLETED.value, outcome
    assert state_of(flow_stack.flow_run(run_id)) is StateType.COMPLETED

    # The flow ran twice (its retry); the inserted step ran once, the failing one twice.
    assert (tmp_path / "note-version").read_text().splitlines() == ["ran"]
    assert (tmp_path / "fail-once").read_text().splitlines() == ["ran", "ran"]

    with flow_stack.prefect.client() as client:
        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    watched = ("prepare-version", "note-version", "fail-once", "submit-for-review")
    ordered = [
        (step_of(t.name), t.state.name if t.state else None)
        for t in sorted(task_runs, key=lambda t: t.created or 0)
    ]
    ordered = [entry for entry in ordered if entry[0] in watched]
    assert ordered == [
        ("prepare-version", "Completed"),
        ("note-version", "Completed"),
        ("fail-once", "Failed"),
        ("prepare-version", "Cached"),
        ("note-version", "Cached"),
        ("fail-once", "Completed"),
        ("submit-for-review", "Completed"),
    ], ordered
    applying = {s.name for s in steps.STEPS if s.applies(request)} - {"await-review"}
    assert applying <= {step_of(t.name) for t in task_runs}


def step_of(task_run_name: str) -> str:
    """Prefect names a task run `<task name>-<counter>`; each step's task is named after the step."""
    return task_run_name.rsplit("-", 1)[0]
