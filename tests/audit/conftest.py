from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ascflow.audit import Action, Actor, AuditEvent, AuditLog, LocalBackend, ServiceKey, Target

RUN_ID = "6f1c0a2e-7d7e-4a4b-9a59-1d2b3c4d5e6f"

MakeEvent = Callable[..., AuditEvent]


def make_event(
    action: Action = Action.CREDENTIALS_OPENED, tenant: str = "acme", outcome: str = "success", **target: str
) -> AuditEvent:
    return AuditEvent(
        actor=Actor(kind="flow", id=RUN_ID),
        action=action,
        tenant=tenant,
        target=Target(**({"run_id": RUN_ID} | target)),
        outcome=outcome,
    )


@pytest.fixture
def event() -> MakeEvent:
    return make_event


@pytest.fixture(scope="session")
def service_key() -> ServiceKey:
    return ServiceKey.generate()


@pytest.fixture
def audit_dir(tmp_path: Path) -> Path:
    return tmp_path / "audit"


@pytest.fixture
def local_log(audit_dir: Path, service_key: ServiceKey) -> AuditLog:
    return AuditLog(LocalBackend(audit_dir), service_key, checkpoint_every=5)
