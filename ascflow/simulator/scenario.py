"""The scenario file: the team the simulator plays (YAML or JSON). See README.md for the format."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Literal

import yaml
from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ascflow.simulator.faults import FaultPlan

Role = Literal[
    "ADMIN", "FINANCE", "ACCOUNT_HOLDER", "SALES", "MARKETING", "APP_MANAGER", "DEVELOPER", "ACCESS_TO_REPORTS",
    "CUSTOMER_SUPPORT", "CREATE_APPS", "CLOUD_MANAGED_DEVELOPER_ID", "CLOUD_MANAGED_APP_DISTRIBUTION",
    "GENERATE_INDIVIDUAL_KEYS",
]  # fmt: skip
Platform = Literal["IOS", "MAC_OS", "TV_OS", "VISION_OS"]


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KeySpec(_Strict):
    key_id: str = Field(min_length=10, max_length=10)
    public_key_pem: str | None = None
    p8_path: Path | None = Field(default=None, description="a .p8 file; only its public half is kept")
    issuer_id: str | None = Field(default=None, description="defaults to the scenario's issuer_id")
    role: Role = "ADMIN"
    active_after_seconds: float = Field(default=0.0, ge=0.0, description="Apple seconds until the key works")

    @model_validator(mode="after")
    def _one_key_source(self) -> KeySpec:
        if (self.public_key_pem is None) == (self.p8_path is None):
            raise ValueError(f"key {self.key_id}: give exactly one of public_key_pem or p8_path")
        return self

    def public_pem(self) -> str:
        """The public half Apple keeps; from a .p8 only the public key is derived (the private one is dropped)."""
        if self.public_key_pem is not None:
            return self.public_key_pem
        assert self.p8_path is not None
        try:
            private = serialization.load_pem_private_key(self.p8_path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise ScenarioError(
                f"key {self.key_id}: cannot load p8_path {self.p8_path} ({type(exc).__name__}); give the path of "
                "an AuthKey_<KEYID>.p8 file (PEM, PKCS#8 EC P-256)"
            ) from exc
        return (
            private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )


class VersionSpec(_Strict):
    version_string: str
    platform: Platform = "IOS"
    state: str = Field(default="READY_FOR_DISTRIBUTION", description="an appVersionState value")


class AppSpec(_Strict):
    name: str
    bundle_id: str
    sku: str
    id: str | None = None
    primary_locale: str = "en-US"
    versions: list[VersionSpec] = Field(default_factory=list)


class BundleIdSpec(_Strict):
    identifier: str
    name: str
    platform: Literal["IOS", "MAC_OS", "UNIVERSAL"] = "IOS"


class CertificateSpec(_Strict):
    certificate_type: str = "DISTRIBUTION"
    name: str | None = None


class PersonSpec(_Strict):
    email: str
    first_name: str = "Sam"
    last_name: str = "Example"
    roles: list[Role] = Field(default_factory=lambda: list[Role](["DEVELOPER"]))


class Delays(_Strict):
    """Apple-time seconds; divide by `time_scale` for wall time."""

    upload_processing_seconds: float = Field(default=120.0, ge=0)
    build_processing_seconds: float = Field(default=900.0, ge=0)
    review_wait_seconds: float = Field(default=3600.0, ge=0)
    review_seconds: float = Field(default=7200.0, ge=0)


class Scenario(_Strict):
    issuer_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    team_id: str = "SIM0TEAM01"
    team_name: str = "Simulated Team"
    keys: list[KeySpec] = Field(default_factory=list)
    apps: list[AppSpec] = Field(default_factory=list)
    bundle_ids: list[BundleIdSpec] = Field(default_factory=list)
    certificates: list[CertificateSpec] = Field(default_factory=list)
    users: list[PersonSpec] = Field(default_factory=list)
    invitations: list[PersonSpec] = Field(default_factory=list)
    taken_identifiers: list[str] = Field(default_factory=list, description="bundle IDs other teams own")
    agreements_ok: bool = True
    certificate_limits: dict[str, int] = Field(
        default_factory=lambda: {"DISTRIBUTION": 3, "IOS_DISTRIBUTION": 3}
    )
    delays: Delays = Field(default_factory=Delays)
    review_outcome: Literal["COMPLETE", "UNRESOLVED_ISSUES"] = "COMPLETE"
    uses_non_exempt_encryption: bool | None = Field(
        default=None, description="new builds' answer; null = ask"
    )
    time_scale: float = Field(default=1.0, gt=0)
    rate_limit_per_hour: int = Field(default=3600, ge=1)
    upload_part_size: int = Field(default=5 * 1024 * 1024, ge=1)
    # Apple: "plan to finish an upload within a week".
    upload_url_lifetime_seconds: float = Field(default=7 * 86400, gt=0)
    faults: FaultPlan = Field(default_factory=FaultPlan)

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        path = Path(path)
        try:
            raw = yaml.safe_load(path.read_text())  # YAML is a superset of JSON
        except (OSError, yaml.YAMLError) as exc:
            raise ScenarioError(f"cannot read scenario file {path}: {exc}") from exc
        try:
            scenario = cls.model_validate(raw or {})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors()
            )
            raise ScenarioError(f"scenario file {path} is invalid: {problems}") from exc
        for key in scenario.keys:
            if key.p8_path is not None and not key.p8_path.is_absolute():
                key.p8_path = path.parent / key.p8_path
            try:
                key.public_pem()
            except ScenarioError as exc:
                raise ScenarioError(f"scenario file {path}: {exc}") from exc
        return scenario
