"""Several onboardings at once on one Prefect stack: wall time, Apple calls, and no duplicate at Apple.

    .venv/bin/python -m benchmarks.concurrent_onboardings [--apps 4] [--database sqlite|postgres]

One tenant publishes N apps at the same time (N runs through Prefect's API, served by one runner, against the
simulator over loopback). Prints the wall time to all done, each run's duration, Apple requests in all and per
run, and what Apple holds afterwards: one distribution certificate for the tenant (the runs take turns to
decide it), and one profile, version and review submission per app. `--database postgres` runs Prefect's
server on the machine's PostgreSQL (a fresh database, dropped afterwards) instead of SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from uuid import UUID

from pydantic import SecretStr

from ascflow.audit import Actor, open_audit_log
from ascflow.custody import CustodyInput, open_custody
from ascflow.demo import demo_key
from ascflow.local_prefect import LocalPrefect
from ascflow.pipeline.request import BuildSource, OnboardingRequest, ReviewContact
from ascflow.runs import start_onboarding
from ascflow.settings import Settings
from ascflow.simulator.scenario import AppSpec, Delays, KeySpec, Scenario, VersionSpec
from ascflow.simulator.server import SimulatorServer
from tests.fixtures.ipa import build_ipa

TENANT = "bench-tenant"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def postgres_database() -> tuple[str, str]:
    name = f"ascflow_bench_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", f"CREATE DATABASE {name}"], check=True)
    return name, f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


def app_spec(index: int) -> AppSpec:
    return AppSpec(
        name=f"App {index}",
        bundle_id=f"com.example.app{index}",
        sku=f"APP{index}",
        versions=[VersionSpec(version_string="1.0")],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, default=4)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    key_id, p8, public_pem = demo_key()
    issuer = str(uuid.uuid4())
    scenario = Scenario(
        issuer_id=issuer,
        keys=[KeySpec(key_id=key_id, public_key_pem=public_pem)],
        apps=[app_spec(i) for i in range(args.apps)],
        time_scale=3600,
        delays=Delays(upload_processing_seconds=120, build_processing_seconds=900),
    )
    database = postgres_database() if args.database == "postgres" else None
    try:
        with tempfile.TemporaryDirectory() as folder, SimulatorServer(scenario) as apple:
            root = Path(folder)
            settings = Settings(data_dir=root / "data", asc_base_url=apple.base_url)
            custody = open_custody(settings, audit=open_audit_log(settings))
            env = {
                "ASCFLOW_DATA_DIR": str(settings.data_dir),
                "ASCFLOW_ASC_BASE_URL": apple.base_url,
                "ASCFLOW_POLL_INTERVAL_SECONDS": "0.2",
            }
            if database:
                env["PREFECT_API_DATABASE_CONNECTION_URL"] = database[1]
            started_stack = time.monotonic()
            with LocalPrefect(root / "prefect", env=env, poll_seconds=60) as prefect:
                stack_seconds = time.monotonic() - started_stack
                runs: list[UUID] = []
                started = time.monotonic()
                with prefect.client() as client:
                    for index in range(args.apps):
                        record = custody.deposit(
                            CustodyInput(
                                tenant=TENANT, key_id=key_id, issuer_id=SecretStr(issuer), p8=SecretStr(p8)
                            ),
                            actor=Actor(kind="customer", id=TENANT),
                        )
                        bundle_id, number = f"com.example.app{index}", str(10 + index)
                        # Each app's own build: Apple reads the bundle ID from its Info.plist.
                        ipa = build_ipa(
                            root / f"{bundle_id}.ipa", bundle_id, "1.1", number, extra_size=3 * 1024 * 1024
                        )
                        request = OnboardingRequest(
                            tenant=TENANT,
                            custody_id=record.id,
                            bundle_id=bundle_id,
                            version="1.1",
                            build=BuildSource(path=str(ipa), build_number=number),
                            whats_new={"en-US": "Benchmark build."},
                            review_contact=ReviewContact(
                                first_name="R", last_name="V", phone="+1 555 0100", email="r@example.com"
                            ),
                            destroy_credentials="after_submission",
                        )
                        runs.append(start_onboarding(client, request, f"bench:{record.id}").id)
                    done: dict[UUID, tuple[str, float]] = {}
                    reasons: dict[UUID, str] = {}
                    while len(done) < len(runs) and time.monotonic() - started < 900:
                        for run_id in runs:
                            if run_id in done:
                                continue
                            run = client.read_flow_run(run_id)
                            if run.state and run.state.type.value in FINAL:
                                done[run_id] = (run.state.type.value, time.monotonic() - started)
                                if run.state.type.value != "COMPLETED":
                                    reasons[run_id] = f"{run.state.name}: {run.state.message}"
                        time.sleep(0.5)
                wall = time.monotonic() - started
            state = apple.control.state()
            log = apple.control.requests()
    finally:
        if database:
            subprocess.run(
                ["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", f"DROP DATABASE {database[0]}"],
                check=False,
            )
    outcomes = Counter(state_name for state_name, _ in done.values())
    durations = [seconds for _, seconds in done.values()]
    api_calls = [r for r in log if r.path.startswith("/v1/")]
    print(f"{args.apps} onboardings at once, Prefect on {args.database}, one runner, simulator at 3600x\n")
    print(f"Prefect stack start: {stack_seconds:.1f} s")
    print(f"all runs final after: {wall:.1f} s; outcomes: {dict(outcomes)}")
    for run_id, reason in reasons.items():
        print(f"  run {run_id} did not complete: {reason}")
    for run_id in set(runs) - set(done):
        print(f"  run {run_id} did not finish in time")
    print(f"per run: median {statistics.median(durations):.1f} s, max {max(durations):.1f} s")
    print(f"Apple API requests: {len(api_calls)} in all, {len(api_calls) / args.apps:.1f} per app")
    for kind in ("certificates", "profiles", "appStoreVersions", "reviewSubmissions", "builds"):
        print(f"Apple now holds {kind}: {len(state.get(kind, []))}")


if __name__ == "__main__":
    main()
