"""The intake served by uvicorn on loopback, and the stack behind it: simulator, Prefect, the served flows."""

from __future__ import annotations

import logging
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from prefect.client.orchestration import SyncPrefectClient
from pydantic import SecretStr

from ascflow.intake.app import create_app
from ascflow.intake.service import Intake
from ascflow.local_prefect import LocalPrefect, free_port
from ascflow.pipeline.request import BuildSource, Invitee, OnboardingRequest, ReviewContact
from ascflow.settings import Settings
from ascflow.simulator.scenario import AppSpec, Scenario, VersionSpec
from ascflow.simulator.server import SimulatorServer
from tests.fixtures.ipa import build_ipa
from tests.fixtures.keys import CustomerKey, make_customer_key
from tests.fixtures.simulator import FAST_DELAYS, FAST_TIME_SCALE

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_TOKEN = "test-operator-token-0123456789"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
# One app per test that runs a flow: two runs for one app would queue on the per-app lock.
APPS = {
    name: AppSpec(
        name=name,
        bundle_id=f"com.example.{name}",
        sku=name.upper(),
        versions=[VersionSpec(version_string="1.0", state="READY_FOR_DISTRIBUTION")],
    )
    for name in ("browsergame", "pendinggame", "canarygame", "apigame", "spare")
}


class NoPrefect:
    """For tests of refused uploads: a refused upload must never reach Prefect."""

    calls = 0

    def __call__(self) -> AbstractContextManager[SyncPrefectClient]:
        self.calls += 1
        raise AssertionError("a refused upload reached Prefect")


class IntakeServer:
    """The intake app under uvicorn in a thread, on a free loopback port (real HTTP, as a browser sees it)."""

    def __init__(self, settings: Settings, prefect: Callable[[], AbstractContextManager[SyncPrefectClient]]):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.settings = settings.model_copy(update={"intake_public_url": self.base_url})
        self.app = create_app(self.settings, prefect)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"intake:{self.port}", daemon=True)

    @property
    def intake(self) -> Intake:
        return self.app.state.intake

    def start(self) -> IntakeServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert self.thread.is_alive(), "the intake did not start"
            assert time.monotonic() < deadline, "the intake did not start in time"
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)

    def operator(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}, timeout=60
        )

    def new_link(self, request: OnboardingRequest) -> tuple[str, str]:
        """(onboarding ID, path of the customer's link), made directly in the store (no Prefect needed)."""
        onboarding, link = self.intake.create(request)
        return onboarding.id, link.removeprefix(self.base_url)


@dataclass
class Browser:
    """A customer's browser session over real HTTP: keeps the CSRF cookie, reads the form token."""

    client: httpx.Client
    responses: list[httpx.Response] = field(default_factory=list)

    def open_form(self, link: str) -> str:
        page = self.get(link)
        assert page.status_code == 200, page.text
        match = CSRF_FIELD.search(page.text)
        assert match, "the form has no CSRF token"
        return match.group(1)

    def get(self, path: str) -> httpx.Response:
        response = self.client.get(path)
        self.responses.append(response)
        return response

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        response = self.client.post(path, **kwargs)
        self.responses.append(response)
        return response

    def upload(
        self,
        link: str,
        key: CustomerKey,
        *,
        p8: bytes | None = None,
        filename: str | None = None,
        csrf: str | None = None,
        **fields: str,
    ) -> httpx.Response:
        data = {
            "csrf": self.open_form(link) if csrf is None else csrf,
            "issuer_id": key.issuer_id,
            "key_id": key.key_id,
        }
        data.update(fields)
        content = key.p8.encode() if p8 is None else p8
        files = {"p8": (filename or key.filename, content, "application/octet-stream")}
        return self.post(link, data=data, files=files)


def make_request(bundle_id: str, tenant: str = "acme-games", **changes: Any) -> OnboardingRequest:
    request = OnboardingRequest(
        tenant=tenant,
        bundle_id=bundle_id,
        version="1.1",
        build=BuildSource(path=None, build_number="42"),
        whats_new={"en-US": "Faster loading."},
        review_contact=ReviewContact(
            first_name="Robin", last_name="Reviewer", phone="+1 555 0100", email="review@acme.example"
        ),
        invitees=[Invitee(email="release@publisher.example", first_name="Pat", last_name="Publisher")],
        destroy_credentials="after_submission",
        access_wait_hours=1,
    )
    return request.model_copy(update=changes)


def make_ipa(folder: Path, bundle_id: str) -> Path:
    """The build `make_request` names: version 1.1, build 42, for `bundle_id`."""
    return build_ipa(folder / "App.ipa", bundle_id, "1.1", "42", extra_size=64 * 1024)


def intake_settings(data_dir: Path, base_url: str, **changes: Any) -> Settings:
    return Settings(
        data_dir=data_dir,
        asc_base_url=base_url,
        intake_operator_token=SecretStr(OPERATOR_TOKEN),
        _env_file=None,
        **changes,
    )


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def browser_session() -> Iterator[Callable[[str], Browser]]:
    clients: list[httpx.Client] = []

    def make(base_url: str) -> Browser:
        client = httpx.Client(base_url=base_url, timeout=60, follow_redirects=False)
        clients.append(client)
        return Browser(client)

    yield make
    for client in clients:
        client.close()


# The stack for tests that run flows: one for the package (stopped once its last test ran: an idle Prefect server
# costs a fifth of a core), because starting Prefect costs seconds.


@dataclass
class Stack:
    apple: SimulatorServer
    prefect: LocalPrefect
    settings: Settings
    issuer_id: str

    def add_key(self, role: str = "ADMIN", *, active_after_seconds: float = 0.0) -> CustomerKey:
        key = make_customer_key(self.issuer_id)
        self.apple.control.add_key(
            key.key_id, key.public_pem, role=role, active_after_seconds=active_after_seconds
        )
        return key


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("intake-stack")
    admin = make_customer_key()
    scenario = Scenario(
        issuer_id=admin.issuer_id,
        apps=list(APPS.values()),
        time_scale=FAST_TIME_SCALE,
        delays=FAST_DELAYS,
    )
    with SimulatorServer(scenario) as apple:
        env = {
            "ASCFLOW_DATA_DIR": str(root / "data"),
            "ASCFLOW_ASC_BASE_URL": apple.base_url,
            "ASCFLOW_POLL_INTERVAL_SECONDS": "0.1",
            "ASCFLOW_ACCESS_BACKOFF_SECONDS": "[0.1]",
        }
        settings = intake_settings(root / "data", apple.base_url)
        with LocalPrefect(root / "prefect", env=env, poll_seconds=2) as prefect:
            yield Stack(apple, prefect, settings, admin.issuer_id)


@pytest.fixture
def stack_intake(stack: Stack) -> Iterator[IntakeServer]:
    server = IntakeServer(stack.settings, stack.prefect.client).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, installed by the project's script when missing (Playwright never downloads one)."""
    subprocess.run([str(ROOT / "scripts" / "ensure-chromium")], check=True, timeout=900)
    return "/usr/bin/chromium"


@pytest.fixture
def captured_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog
