"""The operator's way: a Prefect server, the work pool, `prefect deploy --all` from prefect.yaml, a process
worker, and an onboarding run started through the API that suspends, is resumed by the poller, and completes.

It has its own Prefect server: deploying prefect.yaml to the suite's server would take over the deployments
that `deployments.serve` runs there.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.schemas.objects import StateType

from ascflow import contracts
from ascflow.local_prefect import LocalPrefect
from ascflow.runs import start_onboarding
from deployments.work_pool import WORK_POOL
from tests.flows.stack import APPS, FlowStack, ended, state_history, state_of, suspended, wait_until

pytestmark = pytest.mark.slow

TENANT = "deploy-games"
BUNDLE_ID = APPS["deploy"]
POLLER = "access-poller/access-poller"


@pytest.fixture
def operator_server(flow_stack: FlowStack) -> Iterator[LocalPrefect]:
    """A `prefect server start` with the work pool and prefect.yaml deployed, and a process worker."""
    server = LocalPrefect(flow_stack.root / "deploy-prefect", env=flow_stack.env)
    # prefect.yaml's pull step is `{{ $PWD }}`: what a shell in the project root would set.
    env = {**server.env, "PWD": str(server.project_dir), "PREFECT_WORKER_QUERY_SECONDS": "1"}
    prefect_cli = str(Path(sys.executable).parent / "prefect")
    worker: subprocess.Popen[bytes] | None = None
    try:
        server.start_server()
        setup = (
            [sys.executable, "-m", "deployments.work_pool"],
            [prefect_cli, "--no-prompt", "deploy", "--all"],
        )
        for command in setup:
            done = subprocess.run(command, env=env, cwd=server.project_dir, capture_output=True, check=False)
            assert done.returncode == 0, done.stdout.decode()[-3000:] + done.stderr.decode()[-3000:]
        with (server.log_dir / "worker.log").open("ab") as log:
            worker = subprocess.Popen(
                [prefect_cli, "worker", "start", "--pool", WORK_POOL],
                env=env,
                cwd=server.project_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        yield server
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        server.stop()


def test_deploy_all_and_a_process_worker_run_the_onboarding_with_its_wait(
    flow_stack: FlowStack, operator_server: LocalPrefect
) -> None:
    with operator_server.client() as client:
        deployed = {d.name: d for d in client.read_deployments()}
        assert set(deployed) == {name.split("/")[1] for name in contracts.DEPLOYMENTS}
        assert {d.work_pool_name for d in deployed.values()} == {WORK_POOL}
        key = flow_stack.new_key(active=False)
        custody_id = flow_stack.deposit(TENANT, BUNDLE_ID, key.key_id, key.p8)
        run = start_onboarding(
            client,
            flow_stack.request(TENANT, BUNDLE_ID, custody_id),
            idempotency_key=f"flows-deploy:{custody_id}",
        )

    waiting, seen = wait_until(
        operator_server, run.id, lambda r: suspended(r) or ended(r), timeout=120, what="suspended"
    )
    assert suspended(waiting), seen
    flow_stack.apple.control.activate_key(key.key_id)
    # The poller's schedule is every 5 minutes: run it now, the way an operator would from the UI.
    with operator_server.client() as client:
        poll = client.create_flow_run_from_deployment(client.read_deployment_by_name(POLLER).id)
    polled, _ = wait_until(operator_server, poll.id, ended, timeout=90, what="finished")
    assert state_of(polled) is StateType.COMPLETED, polled.state

    finished, _ = wait_until(operator_server, run.id, ended, timeout=120, what="finished")
    assert state_of(finished) is StateType.COMPLETED, finished.state
    history = state_history(operator_server, run.id)
    assert history.index("Suspended") < history.index("Resuming") < history.index("Completed"), history
    assert flow_stack.custody.receipt(custody_id) is not None
