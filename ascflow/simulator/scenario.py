"""The scenario file: the team the simulator plays (YAML or JSON). See README.md for the format."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Literal

import yaml
from cryptography import x509
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
        if self.p8_path is None:  # the validator refuses this; said here for the type checker too
            raise ScenarioError(f"key {self.key_id}: give exactly one of public_key_pem or p8_path")
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


AppVersionState = Literal[
    "ACCEPTED", "DEVELOPER_REJECTED", "IN_REVIEW", "INVALID_BINARY", "METADATA_REJECTED", "PENDING_APPLE_RELEASE",
    "PENDING_DEVELOPER_RELEASE", "PREPARE_FOR_SUBMISSION", "PROCESSING_FOR_DISTRIBUTION", "READY_FOR_DISTRIBUTION",
    "READY_FOR_REVIEW", "REJECTED", "REPLACED_WITH_NEW_VERSION", "WAITING_FOR_EXPORT_COMPLIANCE", "WAITING_FOR_REVIEW",
]  # fmt: skip
ReviewSubmissionState = Literal[
    "READY_FOR_REVIEW", "WAITING_FOR_REVIEW", "IN_REVIEW", "UNRESOLVED_ISSUES", "CANCELING", "COMPLETING", "COMPLETE",
]  # fmt: skip


class BuildSpec(_Strict):
    """A build Apple already holds; a PROCESSING one turns VALID after `build_processing_seconds`."""

    version: str = Field(description="CFBundleShortVersionString (the build's pre-release version)")
    build_number: str = Field(description="CFBundleVersion (the build's `version` attribute)")
    platform: Platform = "IOS"
    processing_state: Literal["PROCESSING", "FAILED", "INVALID", "VALID"] = "VALID"
    uses_non_exempt_encryption: bool | None = Field(
        default=None, description="null: export compliance unanswered"
    )
    expired: bool = False
    id: str | None = None


class LocalizationSpec(_Strict):
    locale: str
    description: str | None = None
    keywords: str | None = None
    marketing_url: str | None = None
    support_url: str | None = None
    promotional_text: str | None = None
    whats_new: str | None = None
    # Screenshots (appScreenshotSets of this localization) are seeded here, beside the screenshot routes.


class VersionSpec(_Strict):
    version_string: str
    platform: Platform = "IOS"
    state: AppVersionState = "READY_FOR_DISTRIBUTION"
    copyright: str | None = None
    release_type: Literal["MANUAL", "AFTER_APPROVAL", "SCHEDULED"] = "AFTER_APPROVAL"
    build_number: str | None = Field(
        default=None, description="the app's build (by CFBundleVersion) it holds"
    )
    localizations: list[LocalizationSpec] | None = Field(
        default=None, description="omitted: as Apple makes a new version (copied from the previous one)"
    )
    id: str | None = None


class SubmissionSpec(_Strict):
    """A review submission already open (or done); waiting and in-review ones move on over Apple time."""

    state: ReviewSubmissionState = "READY_FOR_REVIEW"
    platform: Platform = "IOS"
    items: list[str] = Field(default_factory=list, description="version strings of this app's versions")
    id: str | None = None


class BetaTesterSpec(_Strict):
    email: str
    first_name: str | None = None
    last_name: str | None = None


class BetaGroupSpec(_Strict):
    """A TestFlight group the team made; an internal group's testers must be team users."""

    name: str
    internal: bool = False
    testers: list[BetaTesterSpec] = Field(default_factory=list)


class AppSpec(_Strict):
    name: str
    bundle_id: str
    sku: str
    id: str | None = None
    primary_locale: str = "en-US"
    app_privacy_published: bool = Field(
        default=False,
        description="App Privacy answers published in the web UI (no API sets it; a released app has them)",
    )
    builds: list[BuildSpec] = Field(default_factory=list)
    versions: list[VersionSpec] = Field(default_factory=list)
    review_submissions: list[SubmissionSpec] = Field(default_factory=list)
    beta_groups: list[BetaGroupSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references_exist(self) -> AppSpec:
        numbers = {(b.platform, b.build_number) for b in self.builds}
        for version in self.versions:
            if version.build_number is not None and (version.platform, version.build_number) not in numbers:
                raise ValueError(
                    f"app {self.bundle_id}: version {version.version_string} names build_number "
                    f"{version.build_number!r}, which is not among the app's builds; add it under builds"
                )
        version_strings = {v.version_string for v in self.versions}
        for submission in self.review_submissions:
            missing = [item for item in submission.items if item not in version_strings]
            if missing:
                raise ValueError(
                    f"app {self.bundle_id}: review submission items {missing} are not among the app's versions; "
                    "name versions by version_string"
                )
        return self


class BundleIdSpec(_Strict):
    identifier: str
    name: str
    platform: Literal["IOS", "MAC_OS", "UNIVERSAL"] = "IOS"


class CertificateSpec(_Strict):
    """A certificate someone else made: it counts towards the limit; we hold no private key for it."""

    certificate_type: str = "DISTRIBUTION"
    name: str | None = Field(default=None, description="default: the certificate's common name")
    certificate_pem: str | None = Field(
        default=None,
        description="a real X.509 certificate (PEM) to serve; default: one the simulator's CA issues",
    )

    @model_validator(mode="after")
    def _certificate_parses(self) -> CertificateSpec:
        if self.certificate_pem is not None:
            try:
                x509.load_pem_x509_certificate(self.certificate_pem.encode())
            except ValueError as exc:
                raise ValueError(
                    "certificate_pem is not a PEM X.509 certificate: give the text of a .pem "
                    "(-----BEGIN CERTIFICATE-----)"
                ) from exc
        return self


class PersonSpec(_Strict):
    email: str
    first_name: str = "Sam"
    last_name: str = "Example"
    roles: list[Role] = Field(default_factory=lambda: list[Role](["DEVELOPER"]))
    all_apps_visible: bool = True
    provisioning_allowed: bool | None = Field(default=None, description="default: true for ADMIN")


class Delays(_Strict):
    """Apple-time seconds; divide by `time_scale` for wall time."""

    upload_processing_seconds: float = Field(default=120.0, ge=0)
    build_processing_seconds: float = Field(default=900.0, ge=0)
    review_wait_seconds: float = Field(default=3600.0, ge=0)
    review_seconds: float = Field(default=7200.0, ge=0)
    beta_review_wait_seconds: float = Field(default=3600.0, ge=0)
    beta_review_seconds: float = Field(default=7200.0, ge=0)
    release_processing_seconds: float = Field(
        default=600.0, ge=0, description="PROCESSING_FOR_DISTRIBUTION until READY_FOR_DISTRIBUTION"
    )


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
    beta_review_outcome: Literal["APPROVED", "REJECTED"] = "APPROVED"
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
