"""When Prefect does not answer, the customer's status page says so plainly (503) instead of failing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx
from prefect import get_client
from prefect.client.orchestration import SyncPrefectClient
from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

from ascflow.local_prefect import free_port
from tests.fixtures.simulator import RunningSimulator
from tests.intake.conftest import IntakeServer, intake_settings, make_request


def unreachable_prefect() -> AbstractContextManager[SyncPrefectClient]:
    """A real Prefect client of a server that is down (a closed loopback port), without retries."""

    @contextmanager
    def client() -> Iterator[SyncPrefectClient]:
        dead = f"http://127.0.0.1:{free_port()}/api"
        settings = {PREFECT_API_URL: dead, PREFECT_CLIENT_MAX_RETRIES: 0}
        with temporary_settings(settings), get_client(sync_client=True) as prefect:
            yield prefect

    return client()


def test_the_status_page_explains_an_outage_without_failing(
    tmp_path: Path, simulator: RunningSimulator
) -> None:
    server = IntakeServer(intake_settings(tmp_path / "data", simulator.base_url), unreachable_prefect).start()
    try:
        onboarding_id, link = server.new_link(make_request(simulator.bundle_id))
        server.intake.store.set_run(onboarding_id, str(uuid.uuid4()))
        server.intake.store.claim_custody(onboarding_id, "0" * 32)
        page = httpx.get(f"{server.base_url}{link}/status", timeout=60)
    finally:
        server.stop()
    assert page.status_code == 503
    assert "We cannot show the progress right now" in page.text
    assert "Try this page again in a few minutes" in page.text
    assert page.headers["cache-control"] == "no-store"
