"""The flow suite's shared stack and what tests ask of it: keys, deposits, runs, and Apple's side of things."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.client.schemas.objects import FlowRun, StateType
from pydantic import SecretStr

from ascflow.audit import Actor, AuditLog, open_audit_log
from ascflow.custody import Custody, CustodyInput, open_custody
from ascflow.local_prefect import LocalPrefect
from ascflow.pipeline.request import BuildSource, Invitee, OnboardingRequest, ReviewContact
from ascflow.runs import start_onboarding
from ascflow.settings import Settings
from ascflow.simulator.control import LoggedRequest
from ascflow.simulator.server import SimulatorServer
from tests.fixtures.ipa import build_ipa
from tests.fixtures.keys import CustomerKey, make_customer_key

TIME_SCALE = 3600.0  # an hour of Apple time per wall second
RELEASED_VERSION = "1.0"
NEW_VERSION = "1.1"
BUILD_NUMBER = "42"
# One app per test that needs its own: Apple's records of one app never mix two tests.
APPS = {
    "e2e": "com.example.flows.e2e",
    "crash": "com.example.flows.crash",
    "invalid": "com.example.flows.invalid",
    "deploy": "com.example.flows.deploy",
    "review": "com.example.flows.review",
    "steps": "com.example.flows.steps",
    "agreements": "com.example.flows.agreements",
    "first": "com.example.flows.first",
    "renew": "com.example.flows.renew",
    "await": "com.example.flows.await",
    "await-poller": "com.example.flows.awaitpoller",
    "testflight": "com.example.flows.testflight",
    "manual": "com.example.flows.manual",
    "scheduled": "com.example.flows.scheduled",
}
# Apps that were never released: their run is a first release.
NEW_APPS = frozenset({APPS["first"]})
E2E_TENANT = "e2e-games"
E2E_BUNDLE_ID = APPS["e2e"]
# Apple seconds: a key Apple has not activated within any test; tests activate it when they want.
NOT_YET = 365 * 86400.0
TERMINAL = frozenset({StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED})
# The Apple writes that make something; a rerun must make none of them again.
CREATES = (
    "/v1/certificates",
    "/v1/profiles",
    "/v1/userInvitations",
    "/v1/appStoreVersions",
    "/v1/reviewSubmissions",
    "/v1/reviewSubmissionItems",
    "/v1/buildUploads",
)


@dataclass(frozen=True)
class FinishedRun:
    """The suite's full onboarding run (the `e2e` fixture) and what was seen while it ran."""

    key: CustomerKey = field(repr=False)
    custody_id: str
    run_id: UUID
    started_again_id: UUID
    run: FlowRun
    seen: list[str]


@dataclass
class FlowStack:
    """The suite's simulator, Prefect stack and data directory, and the moves tests make with them."""

    root: Path
    apple: SimulatorServer
    prefect: LocalPrefect
    settings: Settings
    env: dict[str, str]
    ipa_dir: Path  # one .ipa per app is written here: Apple reads the bundle ID from it
    issuer_id: str
    # Every P-256 key the suite deposited: the canary scan looks for each of them. Kept out of reprs, which
    # pytest prints when a test fails.
    keys: list[CustomerKey] = field(default_factory=list, repr=False)

    @cached_property
    def audit(self) -> AuditLog:
        return open_audit_log(self.settings)

    @cached_property
    def custody(self) -> Custody:
        return open_custody(self.settings, audit=self.audit)

    # the customer's side

    def make_key(self) -> CustomerKey:
        """A key of the suite's team, remembered for the canary scan; Apple knows of it only once added."""
        key = make_customer_key(self.issuer_id)
        self.keys.append(key)
        return key

    def new_key(self, *, active: bool = True) -> CustomerKey:
        """An Admin key the simulated Apple knows; an inactive one works only once a test activates it."""
        key = self.make_key()
        self.apple.control.add_key(
            key.key_id, key.public_pem, role="ADMIN", active_after_seconds=0.0 if active else NOT_YET
        )
        return key

    def deposit(self, tenant: str, bundle_id: str, key_id: str, p8: str) -> str:
        record = self.custody.deposit(
            CustodyInput(
                tenant=tenant,
                app_bundle_id=bundle_id,
                key_id=key_id,
                issuer_id=SecretStr(self.issuer_id),
                p8=SecretStr(p8),
            ),
            actor=Actor(kind="customer", id=tenant),
        )
        return record.id

    def ipa_for(self, bundle_id: str) -> Path:
        """The app's build: an .ipa whose Info.plist names its bundle ID, NEW_VERSION and BUILD_NUMBER."""
        path = self.ipa_dir / f"{bundle_id}.ipa"
        if not path.exists():
            build_ipa(path, bundle_id, NEW_VERSION, BUILD_NUMBER, extra_size=64 * 1024)
        return path

    def request(self, tenant: str, bundle_id: str, custody_id: str, **changes: Any) -> OnboardingRequest:
        request = OnboardingRequest(
            tenant=tenant,
            custody_id=custody_id,
            bundle_id=bundle_id,
            version=NEW_VERSION,
            build=BuildSource(path=str(self.ipa_for(bundle_id)), build_number=BUILD_NUMBER),
            whats_new={"en-US": "Faster loading."},
            review_contact=ReviewContact(
                first_name="Robin", last_name="Reviewer", phone="+1 555 0100", email="review@example.com"
            ),
            invitees=[
                Invitee(
                    email=invitee_email(tenant),
                    first_name="Pat",
                    last_name="Publisher",
                    roles=["APP_MANAGER"],
                )
            ],
            access_wait_hours=1,
        )
        return request.model_copy(update=changes)

    # Prefect's side

    def start(self, request: OnboardingRequest, idempotency_key: str) -> UUID:
        with self.prefect.client() as client:
            return start_onboarding(client, request, idempotency_key=idempotency_key).id

    def flow_run(self, run_id: UUID) -> FlowRun:
        with self.prefect.client() as client:
            return client.read_flow_run(run_id)

    def wait_until(
        self, run_id: UUID, done: Callable[[FlowRun], bool], *, timeout: float, what: str
    ) -> tuple[FlowRun, list[str]]:
        return wait_until(self.prefect, run_id, done, timeout=timeout, what=what)

    def wait_for_end(self, run_id: UUID, *, timeout: float) -> FlowRun:
        run, _ = self.wait_until(run_id, ended, timeout=timeout, what="finished")
        return run

    def state_history(self, run_id: UUID) -> list[str]:
        return state_history(self.prefect, run_id)

    def summary_artifacts(self, run_id: UUID) -> list[str]:
        """The markdown of every artifact attached to the run (the summary, or the failure summary)."""
        with self.prefect.client() as client:
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
            )
        return [str(a.data) for a in artifacts if a.type == "markdown"]

    # Apple's side

    def apple_requests(self, *keys: CustomerKey) -> list[LoggedRequest]:
        ids = {key.key_id for key in keys}
        return [entry for entry in self.apple.control.requests() if entry.key_id in ids]

    def apple_state(self) -> AppleState:
        return AppleState(self.apple.control.state())


def wait_until(
    prefect: LocalPrefect, run_id: UUID, done: Callable[[FlowRun], bool], *, timeout: float, what: str
) -> tuple[FlowRun, list[str]]:
    """Poll the run until `done`; returns it with every state name seen on the way."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    with prefect.client() as client:
        while True:
            run = client.read_flow_run(run_id)
            name = (run.state.name if run.state else None) or "(none)"
            if not seen or seen[-1] != name:
                seen.append(name)
            if done(run):
                return run, seen
            assert time.monotonic() < deadline, f"run {run_id} not {what} in {timeout:.0f} s; seen {seen}"
            time.sleep(0.2)


def state_history(prefect: LocalPrefect, run_id: UUID) -> list[str]:
    """The names of every state the server recorded for the run, oldest first."""
    with prefect.client() as client:
        states = client.read_flow_run_states(run_id)
    return [state.name or state.type.value for state in sorted(states, key=lambda s: s.timestamp)]


def state_of(run: FlowRun) -> StateType | None:
    return run.state.type if run.state else None


def message_of(run: FlowRun) -> str:
    return (run.state.message if run.state else None) or ""


def ended(run: FlowRun) -> bool:
    return run.state is not None and run.state.type in TERMINAL


def suspended(run: FlowRun) -> bool:
    return run.state is not None and run.state.name == "Suspended"


def invitee_email(tenant: str) -> str:
    return f"release+{tenant}@publisher.example"


def creates(requests: list[LoggedRequest]) -> list[str]:
    """`POST path` of every request that asked Apple to make one of the things a run makes."""
    return [f"{r.method} {r.path}" for r in requests if r.method == "POST" and r.path in CREATES]


@dataclass(frozen=True)
class AppleState:
    """The simulator's resources by type, as `/_simulator/state` gives them."""

    resources: dict[str, list[dict[str, Any]]]

    def of(self, kind: str, **related: str) -> list[dict[str, Any]]:
        """Resources of `kind` whose relationships point at the given IDs, e.g. of("builds", app=app_id)."""
        return [
            resource
            for resource in self.resources.get(kind, [])
            if all(resource["relationships"].get(name) == value for name, value in related.items())
        ]

    def one(self, kind: str, **related: str) -> dict[str, Any]:
        found = self.of(kind, **related)
        assert len(found) == 1, f"{len(found)} {kind} for {related}, not one: {[r['id'] for r in found]}"
        return found[0]

    def app(self, bundle_id: str) -> dict[str, Any]:
        return next(a for a in self.resources["apps"] if a["attributes"]["bundleId"] == bundle_id)
