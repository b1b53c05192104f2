"""The pieces of the operator's dry run that need no Prefect: examples/request.json is a complete request for
the demo team, `runs start` refuses a bad request by field before it calls Prefect, and
`ascflow simulator --demo-team DIR` writes a key, scenario, build and request that work together."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from ascflow.cli import app
from ascflow.connect.keys import ApiKey
from ascflow.demo import DEMO_BUNDLE_ID, DEMO_TENANT
from ascflow.operator.demo_team import write_demo_team
from ascflow.operator.runs_cli import load_request
from ascflow.pipeline.credentials import classify_key
from ascflow.pipeline.request import OnboardingRequest
from ascflow.simulator.scenario import Scenario
from ascflow.simulator.server import SimulatorServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "request.json"


def test_the_example_request_is_complete_and_the_demo_teams(tmp_path: Path) -> None:
    request = load_request(EXAMPLE)
    written = json.loads(EXAMPLE.read_text())
    assert set(written) == set(OnboardingRequest.model_fields)  # every field spelt out, none left to defaults
    assert (request.tenant, request.bundle_id) == (DEMO_TENANT, DEMO_BUNDLE_ID)
    # The request `ascflow simulator --demo-team .ascflow/demo-team` (README) writes, with the build it writes.
    team = write_demo_team(tmp_path / "team")
    assert request.build.path == f".ascflow/demo-team/{team.build.name}"
    build = request.build.model_copy(update={"path": str(team.build)})
    assert request.model_copy(update={"build": build}) == load_request(team.request)


def test_runs_start_names_each_bad_field_and_starts_nothing(tmp_path: Path) -> None:
    written = json.loads(EXAMPLE.read_text())
    written["review_contact"]["email"] = "not an address"
    written["version"] = "one"
    bad = tmp_path / "request.json"
    bad.write_text(json.dumps(written))
    # No PREFECT_API_URL is needed to refuse: validation comes first.
    result = CliRunner().invoke(app, ["runs", "start", "--request", str(bad)], env={"PREFECT_API_URL": ""})
    assert result.exit_code == 2
    assert f"{bad}: 2 problem(s); nothing was started." in result.stderr
    assert "  version: String should match pattern" in result.stderr
    assert "  review_contact.email: String should match pattern" in result.stderr
    assert "not an address" not in result.stderr


def test_runs_start_without_a_server_address_says_how_to_set_it() -> None:
    result = CliRunner().invoke(
        app, ["runs", "start", "--request", str(EXAMPLE)], env={"PREFECT_API_URL": ""}
    )
    assert result.exit_code == 1
    assert "PREFECT_API_URL is not set" in result.stderr
    assert "export PREFECT_API_URL=http://127.0.0.1:$PREFECT_PORT/api" in result.stderr


def test_demo_team_writes_what_the_printed_commands_use(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ascflow"), "simulator", "--demo-team", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = dict(line.split(":", 1) for line in done.stdout.splitlines()[:7])
    key_file = Path(lines["key file"].split(" (")[0].strip())
    key_id, issuer_id = lines["key ID"].strip(), lines["issuer ID"].strip()
    assert key_file == folder / f"AuthKey_{key_id}.p8"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    scenario_file = Path(lines["scenario"].strip())
    request = load_request(Path(lines["request"].split(" (")[0].strip()))
    assert Path(request.build.path or "").is_file()
    deposit = next(line for line in done.stdout.splitlines() if "custody deposit" in line)
    assert f"--key-id {key_id} --issuer-id {issuer_id} --key-file {key_file}" in deposit
    assert f"--scenario {scenario_file}" in done.stdout
    assert "BEGIN" not in done.stdout

    # The key is one Apple (the simulator started from the scenario) accepts as Admin, for the request's app.
    key = ApiKey.from_p8(key_file.read_bytes(), key_id=key_id, issuer_id=issuer_id, filename=key_file.name)
    with SimulatorServer(Scenario.load(scenario_file)) as apple:
        assert classify_key(key, apple.base_url, request.bundle_id).verdict == "works"
