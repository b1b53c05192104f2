"""The audit event schema: a closed set of fields whose every string is too narrow to hold a secret.

An immutable chain cannot be redacted after the fact, so redaction happens here, before append: there is
no free-text field, every identifier has a pattern and a length, and values shaped like random tokens are
refused.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _not_token_shaped(value: str) -> str:
    # Generated secrets (`secrets.token_urlsafe`, base64 bodies, .p12 passwords) mix upper and lower case
    # over a long run; our identifiers are UUIDs, numbers, slugs or Apple's single-case codes.
    if len(value) >= 20 and not _UUID.fullmatch(value) and value.lower() != value and value.upper() != value:
        raise ValueError(
            "looks like a generated secret (long and mixed-case); audit identifiers are UUIDs, numbers, "
            "slugs or single-case codes: pass the object's ID, never a credential"
        )
    return value


Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,128}$"),
    AfterValidator(_not_token_shaped),
]
Tenant = Identifier


def _no_token_shaped_part(value: str) -> str:
    for part in value.removeprefix("s3://").removeprefix("dir:").split("/"):
        _not_token_shaped(part)
    return value


# Where a copy of a secret was sent (an exported signing identity): a directory or an S3 object, each part of
# its path held to the identifier rules, so a path cannot smuggle a generated secret in.
Destination = Annotated[
    str,
    StringConstraints(pattern=r"^(dir:/|s3://)[A-Za-z0-9._/-]{1,400}$"),
    AfterValidator(_no_token_shaped_part),
]
# JSON:API resource types the pipeline touches (Apple's spellings), plus `apiKeys` for the customer's key,
# which Apple's API does not expose as a resource. Add a type here when a step starts touching it.
AppleType = Literal[
    "apiKeys",
    "apps",
    "appInfos",
    "appInfoLocalizations",
    "appEncryptionDeclarations",
    "appStoreReviewDetails",
    "appStoreVersions",
    "appStoreVersionLocalizations",
    "bundleIds",
    "bundleIdCapabilities",
    "builds",
    "buildUploads",
    "buildUploadFiles",
    "certificates",
    "profiles",
    "reviewSubmissions",
    "reviewSubmissionItems",
    "users",
    "userInvitations",
]
ErrorCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_.]{1,120}$")]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]

ActorKind = Literal["operator", "schedule", "api", "flow", "customer", "system"]
Outcome = Literal["success", "failure", "denied", "indeterminate"]


class Action(StrEnum):
    """Every action the pipeline records. Add new actions here, and only here."""

    CREDENTIALS_DEPOSITED = "credentials.deposited"
    CREDENTIALS_OPENED = "credentials.opened"
    CREDENTIALS_VALIDATED = "credentials.validated"
    CREDENTIALS_DESTROYED = "credentials.destroyed"
    CREDENTIALS_EXPIRED = "credentials.expired"
    CREDENTIALS_RECEIPT_ISSUED = "credentials.receipt_issued"
    ACCESS_WAITING = "access.waiting"
    ACCESS_GRANTED = "access.granted"
    SIGNING_BUNDLE_ID_ENSURED = "signing.bundle_id_ensured"
    SIGNING_CERTIFICATE_ENSURED = "signing.certificate_ensured"
    SIGNING_PROFILE_ENSURED = "signing.profile_ensured"
    SIGNING_IDENTITY_EXPORTED = "signing.identity_exported"
    # ascflow's own signing keys in custody, named apart from the customer's key (credentials.*).
    SIGNING_KEY_DEPOSITED = "signing_key.deposited"
    SIGNING_KEY_OPENED = "signing_key.opened"
    SIGNING_KEY_DESTROYED = "signing_key.destroyed"
    SIGNING_KEY_EXPIRED = "signing_key.expired"
    TEAM_INVITED = "team.invited"
    BUILD_CHECKED = "build.checked"
    BUILD_UPLOADED = "build.uploaded"
    BUILD_PROCESSED = "build.processed"
    VERSION_PREPARED = "version.prepared"
    VERSION_RENAMED = "version.renamed"
    LISTING_APPLIED = "listing.applied"
    REVIEW_SUBMITTED = "review.submitted"
    REVIEW_OUTCOME = "review.outcome"
    RUN_STARTED = "run.started"
    RUN_FINISHED = "run.finished"
    # The intake refused uploads for a while: too many on one link, or from one client address.
    INTAKE_UPLOADS_LIMITED = "intake.uploads_limited"
    # The customer's status page asked for a check with Apple at once (the access poller's "Check now").
    WAIT_CHECK_ASKED = "wait.check_asked"


class _Strict(BaseModel):
    # A refused value may be a secret: keep it out of the ValidationError's text.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class Actor(_Strict):
    """Who acted: an operator, a schedule, an API client, a flow run, the customer, or the service itself."""

    kind: ActorKind
    id: Identifier


class Target(_Strict):
    """What was acted on. `apple_type` is the JSON:API resource type, e.g. `certificates`."""

    custody_id: Identifier | None = None
    apple_type: AppleType | None = None
    apple_id: Identifier | None = None
    run_id: Identifier | None = None
    key_fingerprint: Sha256Hex | None = Field(
        default=None, description="SHA-256 of the customer key's public SubjectPublicKeyInfo (never the key)."
    )
    destination: Destination | None = Field(
        default=None, description="Where an export wrote its copy: `dir:/path` or `s3://bucket/key`."
    )


class AuditEvent(_Strict):
    """What a caller records. The log adds time, sequence number and hashes."""

    actor: Actor
    action: Action
    tenant: Tenant
    target: Target = Target()
    outcome: Outcome
    error_code: ErrorCode | None = Field(
        default=None, description="Apple's error code (e.g. ENTITY_ERROR.ATTRIBUTE.INVALID) or one of ours."
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with milliseconds: one spelling per instant, so the hash never depends on formatting."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


Timestamp = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")]


class AuditRecord(AuditEvent):
    """One line of the log: the event plus its place in the chain."""

    v: Literal[1] = 1
    seq: int = Field(ge=1)
    time: Timestamp
    prev_hash: Sha256Hex
    hash: Sha256Hex
