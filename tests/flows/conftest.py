"""One Prefect stack for the whole flow suite (the package): it costs ~15 s to start, so every test shares it.

The stack is a simulated App Store Connect (one team; one app per test, each with a released 1.0), a real
`prefect server start` with every deployment served by `python -m deployments.serve` (LocalPrefect), and one
data directory for custody and the audit trail that the test process opens too. Tests keep apart by tenant,
bundle ID and key: each key the tests make is theirs alone, so the simulator's request log, filtered by key
ID, is one run's (or one test's) conversation with Apple.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ascflow.local_prefect import LocalPrefect
from ascflow.settings import Settings
from ascflow.simulator.scenario import AppSpec, Delays, Scenario, VersionSpec
from ascflow.simulator.server import SimulatorServer
from tests.flows.stack import (
    APPS,
    E2E_BUNDLE_ID,
    E2E_TENANT,
    NEW_APPS,
    RELEASED_VERSION,
    TIME_SCALE,
    FinishedRun,
    FlowStack,
    ended,
    suspended,
)

# The access poller's schedule in the suite (300 s in production): a resumed run waits for the next poll.
POLLER_SECONDS = 3.0


def flow_scenario(issuer_id: str) -> Scenario:
    return Scenario(
        issuer_id=issuer_id,
        team_name="Flow Tests Ltd",
        apps=[
            AppSpec(
                name=f"Flow test {name}",
                bundle_id=bundle_id,
                sku=f"FLOW-{name.upper()}",
                versions=[]
                if bundle_id in NEW_APPS
                else [VersionSpec(version_string=RELEASED_VERSION, state="READY_FOR_DISTRIBUTION")],
            )
            for name, bundle_id in APPS.items()
        ],
        # Every tenant of the suite makes its own distribution certificate in this one team.
        certificate_limits={"DISTRIBUTION": 20, "IOS_DISTRIBUTION": 20},
        # Apple seconds: processing takes a few tenths of a wall second, and the review ends before the run
        # first asks about it (the access wait is the suspension these tests are about).
        delays=Delays(
            upload_processing_seconds=120,
            build_processing_seconds=600,
            review_wait_seconds=30,
            review_seconds=30,
        ),
        time_scale=TIME_SCALE,
    )


def flow_env(root: Path, asc_base_url: str) -> dict[str, str]:
    """ASCFLOW_* settings of every process that runs a flow, tuned to the simulator's time scale."""
    return {
        "ASCFLOW_DATA_DIR": str(root / "data"),
        "ASCFLOW_ASC_BASE_URL": asc_base_url,
        "ASCFLOW_POLL_INTERVAL_SECONDS": "0.1",
        "ASCFLOW_BUILD_WAIT_SECONDS": "120",
        "ASCFLOW_ACCESS_BACKOFF_SECONDS": "[0.2]",
        # A run waiting for App Privacy tries the submission again at the next poll after this.
        "ASCFLOW_APP_PRIVACY_RECHECK_SECONDS": "1",
        # The example listing's demo account password, as a worker's secrets manager would set it.
        "TALLY_DEMO_PASSWORD": "flow-suite-demo-password",
        # A killed run's concurrency lease lapses after its duration; look for lapsed leases every second.
        "PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS": "1",
    }


@pytest.fixture(scope="package")
def flow_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowStack]:
    root = tmp_path_factory.mktemp("flows")
    issuer_id = str(uuid.uuid4())
    with SimulatorServer(flow_scenario(issuer_id)) as apple:
        env = flow_env(root, apple.base_url)
        settings = Settings(data_dir=root / "data", asc_base_url=apple.base_url)
        with LocalPrefect(root / "prefect", env=env, poll_seconds=POLLER_SECONDS) as prefect:
            yield FlowStack(
                root=root,
                apple=apple,
                prefect=prefect,
                settings=settings,
                env=env,
                ipa_dir=root,
                issuer_id=issuer_id,
            )


@pytest.fixture(scope="package")
def e2e(flow_stack: FlowStack) -> FinishedRun:
    """The full run: a key Apple accepts only later, a start through the API (twice, one idempotency key),
    the wait (suspended), the access poller's resume once Apple accepts the key, and the rest to the end."""
    key = flow_stack.new_key(active=False)
    custody_id = flow_stack.deposit(E2E_TENANT, E2E_BUNDLE_ID, key.key_id, key.p8)
    request = flow_stack.request(E2E_TENANT, E2E_BUNDLE_ID, custody_id)
    run_id = flow_stack.start(request, idempotency_key=f"flows-e2e:{custody_id}")
    started_again_id = flow_stack.start(request, idempotency_key=f"flows-e2e:{custody_id}")
    _, before = flow_stack.wait_until(
        run_id, lambda r: suspended(r) or ended(r), timeout=90, what="suspended"
    )
    flow_stack.apple.control.activate_key(key.key_id)  # Apple approves the customer's API access
    run, after = flow_stack.wait_until(run_id, ended, timeout=120, what="finished")
    return FinishedRun(key, custody_id, run_id, started_again_id, run, before + after)
