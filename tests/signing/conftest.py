"""A real signing identity in custody: the pipeline's signing step run against the simulator, without Prefect.

`signed` keeps custody locally; `signed_in_s3` keeps it in a versioned moto bucket with a KMS key, as
production does. Either gives what Apple issued (read back over HTTP) to compare exports with.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import pytest

from ascflow.audit import Actor
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.job import Job
from ascflow.pipeline.signing import SigningResult, ensure_signing
from ascflow.settings import Settings
from tests.fixtures.aws import MotoAws
from tests.fixtures.mobileprovision import simulator_profile_file, simulator_profile_plist
from tests.fixtures.simulator import RunningSimulator
from tests.pipeline.conftest import TENANT, deposit, request_for

TEAM_ID = "SIM0TEAM01"  # the simulator scenario's default team


@dataclass
class Signed:
    apple: RunningSimulator
    ctx: StepContext
    result: SigningResult

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def bundle_id(self) -> str:
        return self.apple.bundle_id

    def issued_certificate_der(self) -> bytes:
        """The distribution certificate as Apple serves it."""
        body = self.apple.client().get(f"/v1/certificates/{self.result.certificate_id}").json()
        return base64.b64decode(body["data"]["attributes"]["certificateContent"])

    def issued_profile(self) -> bytes:
        """The profile file as Apple serves it (`profileContent`, decoded): a CMS envelope."""
        return simulator_profile_file(self.apple, self.result.profile_id)

    def issued_profile_plist(self) -> bytes:
        """The plist inside the profile Apple issued."""
        return simulator_profile_plist(self.apple, self.result.profile_id)


def sign(apple: RunningSimulator, settings: Settings) -> Signed:
    ctx = StepContext(
        tenant=TENANT, run_id="run-1", actor=Actor(kind="operator", id="tester"), settings=settings
    )
    custody_id = deposit(ctx, apple.admin_key)
    result = ensure_signing(ctx, Job(request=request_for(apple), custody_id=custody_id))
    return Signed(apple, ctx, result)


@pytest.fixture
def signed(simulator: RunningSimulator, tmp_path: Path) -> Signed:
    return sign(simulator, Settings(data_dir=tmp_path / "data", asc_base_url=simulator.base_url))


@pytest.fixture
def signed_in_s3(simulator: RunningSimulator, tmp_path: Path, aws: MotoAws) -> Signed:
    settings = Settings(
        data_dir=tmp_path / "data",
        asc_base_url=simulator.base_url,
        custody_backend="s3",
        custody_kek="kms",
        custody_bucket=aws.versioned_bucket(),
        kms_key_id=aws.kms_key(),
        aws_endpoint_url=aws.endpoint_url,
        aws_region=aws.region,
    )
    return sign(simulator, settings)
