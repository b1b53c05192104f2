"""Run `onboard_app` in this process with two steps inserted into the step list after "prepare-version":

- `note-version`, which records each time it runs (in MARKS_DIR) and returns the version it saw;
- `fail-once`, which fails the first run of the flow (a non-transient error: no task retry), so the flow's
  own retry runs the whole list again from the top.

    python -m tests.flows.inserted_step '<OnboardingRequest as JSON>' MARKS_DIR

Prints `RESULT ` and JSON (flow run ID, final state type), like tests/flows/run_directly.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ascflow.pipeline import steps
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.job import Job, StepResult
from ascflow.pipeline.request import OnboardingRequest
from ascflow.pipeline.version import VersionResult
from flows.onboard import onboard_app
from tests.flows.run_directly import RESULT

MARKS = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(".")


class Noted(StepResult):
    version_id: str

    def outcome(self) -> str:
        return f"noted {self.version_id}"


def note_version(ctx: StepContext, job: Job) -> Noted:
    with (MARKS / "note-version").open("a") as marks:
        marks.write("ran\n")
    return Noted(version_id=job.get("prepare-version", VersionResult).version_id)


def fail_once(ctx: StepContext, job: Job) -> Noted:
    mark = MARKS / "fail-once"
    first = not mark.exists()
    with mark.open("a") as marks:
        marks.write("ran\n")
    if first:
        raise RuntimeError("fail-once: the first run of the flow stops here")
    return Noted(version_id="-")


def insert_after(name: str, *new: steps.StepDef) -> tuple[steps.StepDef, ...]:
    at = [s.name for s in steps.STEPS].index(name) + 1
    return (*steps.STEPS[:at], *new, *steps.STEPS[at:])


def main(argv: list[str]) -> None:
    steps.STEPS = insert_after(
        "prepare-version",
        steps.StepDef("note-version", "note version", note_version, needs=("prepare-version",)),
        steps.StepDef("fail-once", "fail once", fail_once),
    )
    request = OnboardingRequest.model_validate_json(argv[0])
    state = onboard_app.with_options(retries=1, retry_delay_seconds=0)(request, return_state=True)
    print(
        RESULT + json.dumps({"flow_run_id": str(state.state_details.flow_run_id), "type": state.type.value})
    )


if __name__ == "__main__":
    main(sys.argv[1:])
