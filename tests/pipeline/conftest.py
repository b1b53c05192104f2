"""The pipeline's steps without Prefect: a step context on a fresh data dir, a customer key in custody, the
simulator as Apple."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr

from ascflow.audit import Actor
from ascflow.custody import CustodyInput
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.request import BuildSource, Invitee, OnboardingRequest, ReviewContact
from ascflow.settings import Settings
from tests.fixtures.keys import CustomerKey
from tests.fixtures.simulator import RunningSimulator

TENANT = "acme-games"


@pytest.fixture
def make_context(tmp_path: Path) -> Callable[[RunningSimulator], StepContext]:
    def make(apple: RunningSimulator) -> StepContext:
        settings = Settings(
            data_dir=tmp_path / "data",
            asc_base_url=apple.base_url,
            poll_interval_seconds=0.02,
            build_wait_seconds=30,
            access_backoff_seconds=[],
        )
        return StepContext(
            tenant=TENANT, run_id="run-1", actor=Actor(kind="operator", id="tester"), settings=settings
        )

    return make


def deposit(ctx: StepContext, key: CustomerKey, p8: str | None = None) -> str:
    record = ctx.custody.deposit(
        CustodyInput(
            tenant=ctx.tenant,
            key_id=key.key_id,
            issuer_id=SecretStr(key.issuer_id),
            p8=SecretStr(p8 or key.p8),
        ),
        actor=Actor(kind="customer", id=ctx.tenant),
    )
    return record.id


def p384_key() -> str:
    private = ec.generate_private_key(ec.SECP384R1())
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def request_for(
    apple: RunningSimulator, ipa: Path | str | None = None, **fields: object
) -> OnboardingRequest:
    values: dict[str, object] = {
        "tenant": TENANT,
        "bundle_id": apple.bundle_id,
        "version": "1.0",
        "build": BuildSource(path=str(ipa) if ipa else None, build_number="7"),
        "whats_new": {"en-US": "First release."},
        "review_contact": ReviewContact(
            first_name="Robin", last_name="Review", phone="+1 555 0100", email="robin@acme.example"
        ),
        "invitees": [Invitee(email="dev@publisher.example", first_name="Dev", last_name="Eloper")],
    }
    values.update(fields)
    return OnboardingRequest.model_validate(values)
