"""`ascflow simulator --demo-team DIR`: everything an operator needs to dry-run the operator's path with no
Python: a test key as Apple hands it out, a simulator scenario whose team knows that key and has one app, a
build, and a request for that app. It prints the key's path and IDs and the commands, in order.

The team is `ascflow demo`'s (`ascflow.demo`); the request is its update of the app released before
(`demo_request`: What's New and a review contact, no listing), so both dry runs share one simulated team.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import typer
import yaml

from ascflow.demo import DEMO_BUNDLE_ID, DEMO_TENANT, demo_build, demo_key, demo_request, demo_scenario
from ascflow.simulator.scenario import KeySpec

SIMULATOR_PORT = 8787
BUILD_BYTES = 2 * 1024 * 1024  # two upload parts' worth is enough to see the upload; the demo's 12 MB is slow


@dataclass(frozen=True)
class DemoTeam:
    folder: Path
    key_file: Path
    key_id: str
    issuer_id: str
    scenario: Path
    request: Path
    build: Path

    def instructions(self) -> str:
        deposit = (
            f"ascflow custody deposit --tenant {DEMO_TENANT} --bundle-id {DEMO_BUNDLE_ID} --key-id {self.key_id} "
            f"--issuer-id {self.issuer_id} --key-file {self.key_file}"
        )
        env = (
            f"export PREFECT_PORT=4200 PREFECT_API_URL=http://127.0.0.1:4200/api "
            f"ASCFLOW_ASC_BASE_URL=http://127.0.0.1:{SIMULATOR_PORT}"
        )
        return "\n".join(
            [
                f"key file:  {self.key_file} (mode 0600; a test key, known only to this simulator team)",
                f"key ID:    {self.key_id}",
                f"issuer ID: {self.issuer_id}",
                f"tenant:    {DEMO_TENANT}",
                f"bundle ID: {DEMO_BUNDLE_ID}",
                f"scenario:  {self.scenario}",
                f"request:   {self.request} (build {self.build})",
                "",
                "Dry run, from the project root (so every command shares the custody and audit storage, .ascflow/):",
                f"  in every terminal: {env}",
                f"  terminal 1: .venv/bin/ascflow simulator --port {SIMULATOR_PORT} --scenario {self.scenario}",
                "  terminal 2: make server",
                "  terminal 3: make deploy && make worker",
                f"  then:       .venv/bin/{deposit}",
                f"              .venv/bin/ascflow runs start --request {self.request} --custody-id CUSTODY_ID",
                "              .venv/bin/ascflow runs status RUN_ID",
                "  (CUSTODY_ID is what deposit printed, RUN_ID what runs start printed.)",
            ]
        )


def write_demo_team(folder: Path) -> DemoTeam:
    """Write the key (0600, refused if one is there: a key file is never overwritten), scenario, build, request."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = folder.resolve()
    issuer_id = str(uuid.uuid4())
    key_id, p8, _ = demo_key()
    key_file = folder / f"AuthKey_{key_id}.p8"
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(p8)
    del p8
    scenario = demo_scenario(issuer_id).model_copy(
        update={"keys": [KeySpec(key_id=key_id, p8_path=Path(key_file.name))]}
    )
    scenario_file = folder / "scenario.yaml"
    scenario_file.write_text(
        yaml.safe_dump(scenario.model_dump(mode="json", exclude_defaults=True), sort_keys=False)
    )
    build = demo_build(folder, size=BUILD_BYTES)
    request_file = folder / "request.json"
    # No custody ID yet: `custody deposit` makes it, and `runs start --custody-id` puts it in.
    request = demo_request("to-be-deposited", build).model_copy(update={"custody_id": None})
    request_file.write_text(json.dumps(request.model_dump(mode="json"), indent=2) + "\n")
    return DemoTeam(folder, key_file, key_id, issuer_id, scenario_file, request_file, build)


def print_demo_team(folder: Path) -> None:
    """What `ascflow simulator --demo-team DIR` does instead of serving."""
    try:
        team = write_demo_team(folder)
    except OSError as error:
        typer.echo(
            f"error: --demo-team: cannot write into {folder} ({error.strerror}); give a folder you can write.",
            err=True,
        )
        raise typer.Exit(code=2) from None
    typer.echo(team.instructions())
