"""Configuration from `ASCFLOW_*` environment variables (and an optional `.env` file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ascflow.connect.retry import RetryPolicy

APPLE_API_URL = "https://api.appstoreconnect.apple.com"
_RETRY = RetryPolicy()  # the defaults live in one place


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASCFLOW_", env_file=".env", extra="ignore")

    asc_base_url: str = Field(
        default=APPLE_API_URL,
        description="App Store Connect API root; point it at the simulator for demos and dry runs.",
    )
    data_dir: Path = Field(
        default=Path(".ascflow"),
        description="Root of local state: custody records, the audit log, the service's signing keys.",
    )
    custody_backend: Literal["local", "s3"] = "local"
    custody_kek: Literal["local", "kms"] = "local"
    custody_ttl_hours: float = Field(default=72.0, gt=0, description="Lifetime of a custody record.")
    signing_ttl_days: float | None = Field(
        default=None,
        gt=0,
        description="How long ascflow keeps the signing identity it made (the service's, not the customer's): "
        "at most the certificate's validity, the default; later releases reuse it until then.",
    )
    audit_backend: Literal["local", "s3"] = "local"
    audit_checkpoint_every: int = Field(default=100, ge=1)
    aws_endpoint_url: str | None = Field(default=None, description="boto3 endpoint (moto in tests).")
    aws_region: str = "us-east-1"
    kms_key_id: str | None = None
    custody_bucket: str | None = None
    audit_bucket: str | None = None
    audit_object_lock_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE"
    audit_retention_days: int = Field(
        default=2555, ge=1, description="Object Lock retention of each audit object."
    )
    # How the pipeline waits on Apple. Apple takes minutes to hours; the simulator's time scale shrinks that.
    poll_interval_seconds: float = Field(
        default=60.0, gt=0, description="Between reads of a build or upload."
    )
    build_wait_seconds: float = Field(
        default=7200.0, gt=0, description="Longest wait for upload + processing."
    )
    access_backoff_seconds: list[float] = Field(
        default=[5.0],
        description="In-process re-checks of a key Apple does not accept yet, before the run suspends "
        "(one quick one catches Apple's sporadic 401 of a valid key; the poller does the rest).",
    )
    wait_check_schedule: list[tuple[float, float]] = Field(
        default=[(3600.0, 0.0), (6 * 3600.0, 600.0), (48 * 3600.0, 3000.0)],
        min_length=1,
        description="How often the access poller checks a waiting run with Apple, by the wait's age: pairs "
        "[age up to (s), seconds between checks]; 0 is every poll, the last pair also covers older waits "
        "(see ascflow.pipeline.check_schedule).",
    )
    check_now_every_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often the customer's status page may ask for a check with Apple at once.",
    )
    app_privacy_recheck_seconds: float = Field(
        default=1800.0,
        gt=0,
        description="How long a run waiting for App Privacy answers waits before the poller lets it try the "
        "submission again (Apple's API cannot read App Privacy; each try costs two or three Apple calls).",
    )
    # How each request to Apple is retried (ascflow.connect.retry says which requests may be).
    retry_max_attempts: int = Field(
        default=_RETRY.max_attempts, ge=1, description="Tries of one request, the first included."
    )
    retry_base_delay_seconds: float = Field(
        default=_RETRY.base_delay_s, ge=0, description="First backoff; doubles per try."
    )
    retry_max_delay_seconds: float = Field(
        default=_RETRY.max_delay_s, ge=0, description="Cap of one backoff."
    )
    retry_max_total_seconds: float = Field(
        default=_RETRY.max_total_s, ge=0, description="Longest time one request retries."
    )
    retry_jitter: float = Field(
        default=_RETRY.jitter,
        ge=0,
        le=1,
        description="Random fraction of each backoff (1: full jitter, 0: none).",
    )
    retry_max_retry_after_seconds: float = Field(
        default=_RETRY.max_retry_after_s,
        ge=0,
        description="Longest Retry-After waited for; a longer one fails the request.",
    )
    # The intake page and operator API (ascflow.intake).
    intake_public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where customers reach the intake page; links start here.",
    )
    intake_operator_token: SecretStr | None = Field(
        default=None, description="Bearer token of the operator API; the API refuses every call without one."
    )
    intake_link_hours: float = Field(default=7 * 24.0, gt=0, description="Lifetime of a customer's link.")
    intake_max_request_bytes: int = Field(
        default=16 * 1024,
        gt=0,
        description="Largest upload request: the form needs ~10 KiB at most (4 KiB key, two IDs, framing).",
    )
    intake_max_key_bytes: int = Field(
        default=4096, gt=0, le=16 * 1024, description="Largest .p8 part; Apple's keys are ~260 bytes."
    )
    intake_upload_attempts: int = Field(
        default=10, ge=1, description="Uploads admitted per link, and per client address, in the window."
    )
    intake_upload_window_seconds: float = Field(
        default=15 * 60.0, gt=0, description="The sliding window of intake_upload_attempts."
    )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.retry_max_attempts,
            base_delay_s=self.retry_base_delay_seconds,
            max_delay_s=self.retry_max_delay_seconds,
            max_total_s=self.retry_max_total_seconds,
            max_retry_after_s=self.retry_max_retry_after_seconds,
            jitter=self.retry_jitter,
        )

    @property
    def intake_dir(self) -> Path:
        return self.data_dir / "intake"

    @property
    def custody_dir(self) -> Path:
        return self.data_dir / "custody"

    @property
    def audit_dir(self) -> Path:
        return self.data_dir / "audit"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
