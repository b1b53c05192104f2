"""Custody under test, on both backends: local files + local KEK, and S3 + KMS on moto's server over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from ascflow.audit import Actor, AuditLog, open_audit_log
from ascflow.custody import Custody, CustodyInput, RecordInfo, open_custody
from ascflow.settings import Settings
from tests.fixtures.aws import MotoAws
from tests.fixtures.keys import CustomerKey

OPERATOR = Actor(kind="operator", id="alice")
TENANT = "acme"


class Clock:
    """A clock the test moves by hand, so expiry needs no sleeping."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Harness:
    backend: str
    settings: Settings
    custody: Custody
    audit: AuditLog
    clock: Clock
    aws: MotoAws | None = None

    def deposit(self, key: CustomerKey, tenant: str = TENANT) -> RecordInfo:
        return self.custody.deposit(
            CustodyInput(
                tenant=tenant,
                app_bundle_id="com.acme.app",
                key_id=key.key_id,
                issuer_id=SecretStr(key.issuer_id),
                p8=SecretStr(key.p8),
            ),
            actor=OPERATOR,
        )

    def s3_versions(self, key: str) -> tuple[list[str], list[str]]:
        """Version IDs and delete-marker IDs of exactly `key`, read straight from the bucket."""
        assert self.aws is not None
        s3 = self.aws.client("s3")
        versions: list[str] = []
        markers: list[str] = []
        for page in s3.get_paginator("list_object_versions").paginate(
            Bucket=self.settings.custody_bucket, Prefix=key
        ):
            versions += [v["VersionId"] for v in page.get("Versions", []) if v["Key"] == key]
            markers += [m["VersionId"] for m in page.get("DeleteMarkers", []) if m["Key"] == key]
        return versions, markers

    def leftovers(self, custody_id: str) -> list[str]:
        """Anything of the record still stored, checked independently of the store's own `copies`."""
        name = f"records/{custody_id}.json"
        if self.backend == "local":
            path = self.settings.custody_dir / name
            temps = list((self.settings.custody_dir / "records").glob(".tmp-*"))
            return [str(p) for p in [path, *temps] if p.exists()]
        versions, markers = self.s3_versions(name)
        return versions + markers


def make_settings(backend: str, data_dir: Path, aws: MotoAws | None) -> Settings:
    if backend == "local":
        return Settings(data_dir=data_dir)
    assert aws is not None
    return Settings(
        data_dir=data_dir,
        custody_backend="s3",
        custody_kek="kms",
        kms_key_id=aws.kms_key(),
        custody_bucket=aws.versioned_bucket(),
        aws_endpoint_url=aws.endpoint_url,
        aws_region=aws.region,
    )


@pytest.fixture(params=["local", "s3"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    aws: MotoAws | None = request.getfixturevalue("aws") if request.param == "s3" else None
    settings = make_settings(request.param, tmp_path / "data", aws)
    audit = open_audit_log(settings)
    custody = open_custody(settings, audit=audit)
    clock = Clock()
    custody.clock = clock
    return Harness(request.param, settings, custody, audit, clock, aws)
