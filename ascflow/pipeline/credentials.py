"""Does the customer's key work at Apple, and if not, why: the first thing every run checks."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Literal

from cryptography.x509.oid import NameOID
from pydantic import Field

from ascflow.audit import Action
from ascflow.connect import (
    AgreementsMissing,
    ApiKey,
    AppStoreConnect,
    InvalidCredentialsInput,
    NotAuthorized,
    RoleInsufficient,
    Session,
)
from ascflow.connect.actions.apps import find_app
from ascflow.connect.actions.common import ActionFailed, both
from ascflow.connect.models import Certificate
from ascflow.connect.retry import RetryPolicy
from ascflow.connect.signing import SigningMaterialError, certificate_from_content
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.job import Job, StepResult, Wait
from ascflow.pipeline.teardown import ReceiptSummary, destroy_credentials
from ascflow.pipeline.waiting import explain_access_wait

Verdict = Literal["works", "invalid_key", "role_too_low", "agreements_missing", "not_active_yet"]
PENDING: frozenset[Verdict] = frozenset({"not_active_yet", "agreements_missing"})
TEAM_ID = re.compile(r"[A-Z0-9]{10}")

WHAT_TO_DO: dict[Verdict, str] = {
    "works": "Nothing: the key works and has the Admin role.",
    "invalid_key": (
        "The uploaded file is not a usable App Store Connect key. Ask the customer to generate a new Admin team "
        "key (Users and Access > Integrations > App Store Connect API) and upload it with its key ID and issuer ID."
    ),
    "role_too_low": (
        "The key works but does not have the Admin role, which certificates and invitations need. Ask the customer "
        "to generate a team key with the Admin role (a key's role cannot be changed) and upload it."
    ),
    "agreements_missing": (
        "Apple refuses the key until the Account Holder accepts the latest agreements in App Store Connect "
        "(Business, and the Apple Developer Program License Agreement on developer.apple.com)."
    ),
    "not_active_yet": (
        "Apple does not accept the key yet: API access may still be awaiting Apple's approval, or the key was just "
        "made. If this lasts, ask the customer to check the key ID and issuer ID under Users and Access > "
        "Integrations, and that the key is not revoked."
    ),
}


REJECTED: dict[Verdict, str] = {
    "invalid_key": "The key in custody is not a usable App Store Connect key (checked here, before asking Apple).",
    "role_too_low": "Apple accepts the key, but its role is below Admin: it cannot make certificates or invite.",
}


class CredentialsRejected(ActionFailed):
    """Apple will never accept this key for onboarding; it was destroyed at once (the receipt says so)."""

    def __init__(self, what: str, *, next_step: str, receipt: ReceiptSummary) -> None:
        self.receipt = receipt
        super().__init__(what, next_step=next_step)


class AccessNotGranted(ActionFailed):
    """The wait for Apple to accept the key reached the request's limit."""


class CredentialCheck(StepResult):
    verdict: Verdict
    apple_code: str | None = None
    # Read by this check, passed to the later steps of the same run (validate runs on every pass of a run,
    # so these are never older than the run's current pass).
    app_id: str | None = None
    # Left out of what the result dumps (and so of the later steps' cache keys): it appears once the team has a
    # certificate, which the first pass may make, and a step finished in that pass must not run again for it.
    team_id: str | None = Field(default=None, exclude=True)
    attempts: int = 1

    def outcome(self) -> str:
        return self.verdict

    @property
    def pending(self) -> bool:
        return self.verdict in PENDING

    @property
    def next_step(self) -> str:
        return WHAT_TO_DO[self.verdict]


def _probe(client: AppStoreConnect, bundle_id: str) -> CredentialCheck:
    """One read per capability the pipeline needs (provisioning and agreements; Admin; the app): the app's ID,
    and the team's ID if it has a certificate. A key that does not work yet fails the first read with 401, so
    no separate "any key" read; the other two go together once it has answered (a key waited for costs one)."""
    certificate = client.certificates.probe()
    _, app = both(client.users.probe, lambda: find_app(client, bundle_id))
    return CredentialCheck(verdict="works", app_id=app.id, team_id=team_of(certificate))


def team_of(certificate: Certificate | None) -> str | None:
    """The team ID in an Apple certificate's subject (its organizational unit: Apple puts the team ID there on
    every certificate it issues); None when there is none to read."""
    if certificate is None:
        return None
    try:
        subject = certificate_from_content(certificate.attributes.certificate_content).subject
    except SigningMaterialError:
        return None
    units = subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    value = units[0].value if units else None
    return value if isinstance(value, str) and TEAM_ID.fullmatch(value) else None


def check_credentials(
    ctx: StepContext,
    custody_id: str,
    bundle_id: str,
    *,
    backoff: Sequence[float] = (),
    sleep: Callable[[float], None] = time.sleep,
) -> CredentialCheck:
    """Classify the key. A pending answer (401 of a fresh key, agreements) is asked again after each backoff."""
    check = _check_once(ctx, custody_id, bundle_id)
    for attempt, delay in enumerate(backoff, start=2):
        if not check.pending:
            break
        sleep(delay)
        check = _check_once(ctx, custody_id, bundle_id).model_copy(update={"attempts": attempt})
    ctx.record(
        Action.CREDENTIALS_VALIDATED,
        "success" if check.verdict == "works" else "denied",
        custody_id=custody_id,
        error_code=check.apple_code or (None if check.verdict == "works" else check.verdict.upper()),
    )
    return check


def validate_credentials(ctx: StepContext, job: Job) -> CredentialCheck | Wait:
    """The run's gate: the key works, or the run waits for Apple (up to the request's limit, counted from the
    first wait), or a key Apple will never accept is destroyed at once and the run stops.

    Before suspending, the run re-checks a pending key only briefly (ASCFLOW_ACCESS_BACKOFF_SECONDS, one check
    after 5 s by default): that catches the sporadic 401 Apple gives a valid key, with a freshly signed token.
    A key whose API access Apple has not approved stays refused for minutes to days, so waiting longer here
    would hold a worker for what the poller sees at no cost: it checks every 5 minutes in the wait's first
    hour (ascflow.pipeline.check_schedule)."""
    request = job.request
    check = check_credentials(
        ctx, job.custody_id, request.bundle_id, backoff=ctx.settings.access_backoff_seconds
    )
    if check.verdict == "works":
        return check
    if not check.pending:
        receipt = destroy_credentials(ctx, job.custody_id)
        raise CredentialsRejected(REJECTED[check.verdict], next_step=check.next_step, receipt=receipt)
    return access_wait(job, check.verdict)


def access_wait(job: Job, verdict: Verdict) -> Wait:
    """Wait for Apple to accept the key again, up to the request's limit counted from this step's first wait."""
    first_wait = job.waited_since or datetime.now(UTC)
    hours = job.request.access_wait_hours
    remaining = first_wait.timestamp() + hours * 3600 - time.time()
    if remaining <= 0:
        raise AccessNotGranted(
            f"Apple still refuses the key ({verdict}) after {hours:g} hours.",
            next_step=WHAT_TO_DO[verdict]
            + " Then start a new run (the key stays in custody until it expires).",
        )
    return Wait(
        kind="access",
        description=explain_access_wait(verdict, WHAT_TO_DO[verdict]),
        timeout_seconds=math.ceil(remaining),
    )


def _check_once(ctx: StepContext, custody_id: str, bundle_id: str) -> CredentialCheck:
    return classify(lambda: ctx.apple(custody_id), bundle_id)


def classify_key(
    key: ApiKey, base_url: str, bundle_id: str, *, retry: RetryPolicy | None = None
) -> CredentialCheck:
    """The same verdict for a key not yet in custody: what the intake page tells the customer at once."""
    return classify(lambda: AppStoreConnect(Session(key, base_url=base_url, retry=retry)), bundle_id)


def classify(
    connect: Callable[[], AbstractContextManager[AppStoreConnect]], bundle_id: str
) -> CredentialCheck:
    """The one way a key is judged: probe with the client `connect` opens, and map Apple's answer."""
    try:
        with connect() as client:
            return _probe(client, bundle_id)
    except InvalidCredentialsInput:
        return CredentialCheck(verdict="invalid_key", apple_code=None)
    except NotAuthorized as error:
        return CredentialCheck(verdict="not_active_yet", apple_code=error.code)
    except AgreementsMissing as error:
        return CredentialCheck(verdict="agreements_missing", apple_code=error.code)
    except RoleInsufficient as error:
        return CredentialCheck(verdict="role_too_low", apple_code=error.code)
