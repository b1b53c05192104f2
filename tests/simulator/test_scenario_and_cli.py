"""The scenario file (YAML or JSON) and the `ascflow simulator` command, served by uvicorn in a process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from ascflow.simulator.scenario import Scenario, ScenarioError
from ascflow.simulator.seeding import build_team
from tests.fixtures.keys import make_customer_key
from tests.fixtures.simulator import make_token


def scenario_data(key, p8_path: str | None = None) -> dict:
    key_entry = {"key_id": key.key_id, "role": "ADMIN"}
    if p8_path:
        key_entry["p8_path"] = p8_path
    else:
        key_entry["public_key_pem"] = key.public_pem
    return {
        "issuer_id": key.issuer_id,
        "keys": [key_entry],
        "apps": [
            {
                "id": "6400000099",
                "name": "Scenario App",
                "bundle_id": "com.example.scenario",
                "sku": "SC-1",
                "versions": [{"version_string": "1.0", "state": "READY_FOR_DISTRIBUTION"}],
            }
        ],
        "users": [{"email": "owner@example.com", "roles": ["ADMIN"]}],
        "time_scale": 3600,
        "delays": {"build_processing_seconds": 600},
        "review_outcome": "UNRESOLVED_ISSUES",
        "faults": {"seed": 3, "rules": [{"kind": "latency", "latency_seconds": 0.01, "probability": 0.5}]},
    }


def test_yaml_and_json_scenarios_load_the_same(tmp_path: Path) -> None:
    key = make_customer_key()
    data = scenario_data(key)
    (tmp_path / "team.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "team.json").write_text(json.dumps(data))
    from_yaml = Scenario.load(tmp_path / "team.yaml")
    assert from_yaml.model_dump() == Scenario.load(tmp_path / "team.json").model_dump()
    assert from_yaml.apps[0].versions[0].state == "READY_FOR_DISTRIBUTION"
    assert from_yaml.faults.rules[0].probability == 0.5


def test_a_p8_path_is_read_relative_to_the_scenario_file(tmp_path: Path, start_simulator) -> None:
    key = make_customer_key()
    (tmp_path / key.filename).write_text(key.p8)
    (tmp_path / "team.yaml").write_text(yaml.safe_dump(scenario_data(key, p8_path=key.filename)))
    sim = start_simulator(Scenario.load(tmp_path / "team.yaml"), admin_key=key)
    assert sim.client().get("/v1/apps").json()["data"][0]["id"] == "6400000099"


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("keys: [{key_id: SHORT, public_key_pem: x}]", "keys.0.key_id"),
        ("review_outcome: MAYBE", "review_outcome"),
        ("colour: blue", "colour"),
        ("keys: [{key_id: ABCDEFGHIJ}]", "give exactly one of public_key_pem or p8_path"),
        ("time_scale: 0", "time_scale"),
        ("apps: [{: ", "cannot read scenario file"),
        ("keys: [{key_id: ABCDEFGHIJ, p8_path: AuthKey_missing.p8}]", "cannot load p8_path"),
    ],
)
def test_a_bad_scenario_names_the_file_and_the_field(tmp_path: Path, content: str, named: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ScenarioError) as raised:
        Scenario.load(path)
    assert str(path) in str(raised.value)
    assert named in str(raised.value)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ascflow_simulator_serves_a_scenario_file(tmp_path: Path) -> None:
    key = make_customer_key()
    (tmp_path / "team.yaml").write_text(yaml.safe_dump(scenario_data(key)))
    port = free_port()
    command = [str(Path(sys.executable).with_name("ascflow")), "simulator", "--port", str(port), "--scenario",
               str(tmp_path / "team.yaml")]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/v1/apps", headers={"Authorization": f"Bearer {make_token(key)}"}
                )
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "the simulator never answered"
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json()["data"][0]["attributes"]["bundleId"] == "com.example.scenario"
        assert response.headers["x-rate-limit"] == "user-hour-lim:3600;user-hour-rem:3599;"
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}" in out.decode()


def test_ascflow_simulator_refuses_a_bad_scenario(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("review_outcome: MAYBE")
    command = [
        str(Path(sys.executable).with_name("ascflow")),
        "simulator",
        "--scenario",
        str(tmp_path / "bad.yaml"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2
    assert "review_outcome" in result.stderr


def test_the_readme_scenario_example_loads_and_seeds(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "ascflow" / "simulator" / "README.md").read_text()
    example = readme.split("## The scenario file", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    (tmp_path / "AuthKey_2X9R4HXF34.p8").write_text(make_customer_key().p8)
    (tmp_path / "team.yaml").write_text(example)
    team = build_team(Scenario.load(tmp_path / "team.yaml"))
    versions = {v.attributes["versionString"]: v for v in team.all("appStoreVersions")}
    assert versions["1.1"].attributes["copyright"] == versions["1.0"].attributes["copyright"]
    assert [b.attributes["version"] for b in team.all("builds")] == ["10"]
    assert [s.attributes["state"] for s in team.all("reviewSubmissions")] == ["WAITING_FOR_REVIEW"]
