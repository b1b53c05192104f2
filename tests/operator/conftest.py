"""One stack for the operator's commands, for the package (stopped after its last test): the simulator started
from the scenario `ascflow simulator --demo-team` wrote, a real Prefect server serving the flows, and the
`ascflow` commands run with the stack's PREFECT_API_URL and ASCFLOW_* settings (in this process through typer's
CliRunner: a subprocess per command costs seconds of imports; tests/operator/test_request_and_demo_team.py runs
the binary)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

import pytest
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.settings import PREFECT_API_URL, temporary_settings
from typer.testing import CliRunner

from ascflow.cli import app
from ascflow.local_prefect import LocalPrefect
from ascflow.operator.demo_team import DemoTeam, write_demo_team
from ascflow.settings import Settings, get_settings
from ascflow.simulator.scenario import Scenario
from ascflow.simulator.server import SimulatorServer
from tests.intake.conftest import intake_settings


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class OperatorStack:
    team: DemoTeam
    apple: SimulatorServer
    prefect: LocalPrefect
    settings: Settings
    env: dict[str, str]

    def ascflow(self, *args: str) -> Ran:
        get_settings.cache_clear()
        try:
            with temporary_settings({PREFECT_API_URL: self.prefect.api_url}):
                result = CliRunner().invoke(app, list(args), env=self.env)
        finally:
            get_settings.cache_clear()
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Ran(result.exit_code, result.stdout, result.stderr)

    def wait_for(self, run_id: str | UUID, *states: StateType, timeout: float = 180) -> FlowRun:
        deadline = time.monotonic() + timeout
        with self.prefect.client() as client:
            while True:
                run = client.read_flow_run(UUID(str(run_id)))
                if run.state_type in states:
                    return run
                assert time.monotonic() < deadline, f"run {run.name} is {run.state_name}, not {states}"
                time.sleep(0.3)


def printed(output: str, label: str) -> str:
    """The value of a `label: value` line the commands print."""
    return next(line.split(":", 1)[1].strip() for line in output.splitlines() if line.startswith(f"{label}:"))


@pytest.fixture(scope="package")
def operator_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OperatorStack]:
    root = tmp_path_factory.mktemp("operator")
    team = write_demo_team(root / "team")
    with SimulatorServer(Scenario.load(team.scenario)) as apple:
        data = root / "data"
        flows_env = {
            "ASCFLOW_DATA_DIR": str(data),
            "ASCFLOW_ASC_BASE_URL": apple.base_url,
            "ASCFLOW_POLL_INTERVAL_SECONDS": "0.1",
            "ASCFLOW_ACCESS_BACKOFF_SECONDS": "[0.1]",
        }
        with LocalPrefect(root / "prefect", env=flows_env, poll_seconds=2) as prefect:
            env = {**flows_env, "PREFECT_API_URL": prefect.api_url}
            yield OperatorStack(team, apple, prefect, intake_settings(data, apple.base_url), env)
