"""From a received form to a key in custody and a run that has it: strict checks, Apple's verdict, deposit,
then resume the run that waits for the key or start one.

A key Apple refuses for good (role below Admin, not a key at all, an account without the app) is refused
here and never stored. A key Apple does not accept *yet* (API access pending, agreements missing) is taken
into custody: the run waits for Apple, and the customer is told what, if anything, they must do.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from uuid import UUID

import httpx
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.exceptions import ObjectNotFound
from pydantic import SecretStr

from ascflow import contracts
from ascflow.audit import Actor
from ascflow.connect import ApiKey, AppStoreConnectError, InvalidCredentialsInput
from ascflow.connect.actions.common import ActionFailed
from ascflow.connect.retry import RetryPolicy
from ascflow.custody import Custody, CustodyInput
from ascflow.intake.onboardings import Onboarding, OnboardingStore
from ascflow.intake.upload import FILE_FIELD, KeyUpload, UploadRefused
from ascflow.pipeline.credentials import Verdict, classify_key
from ascflow.runs import hand_over_credentials, start_onboarding

log = logging.getLogger(__name__)
# How browsers name a second download of the same file: Chrome and Firefox "name (1).p8", Safari "name-1.p8".
_BROWSER_COPY = re.compile(r"(AuthKey_[A-Z0-9]{10})(?: ?\(\d{1,3}\)|-\d{1,3})\.p8", re.ASCII)
PrefectClients = Callable[[], AbstractContextManager[SyncPrefectClient]]

# The customer waits on the page for this check: a couple of quick tries, never Apple's full retry budget.
INTAKE_RETRY = RetryPolicy(max_attempts=2, base_delay_s=0.5, max_total_s=10.0)
FINISHED = frozenset({StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED})
RUN_REACHES_WAIT_SECONDS = 30.0

# What the customer reads after a successful upload, per Apple's answer.
ACCEPTED: dict[Verdict, tuple[str, str]] = {
    "works": (
        "Your key works and has the Admin role.",
        "We have started. Follow the progress on the status page; you do not need to do anything else.",
    ),
    "not_active_yet": (
        "We received your key, but Apple does not accept it yet.",
        "This is normal while Apple is still approving API access for your team, or for a key made a few "
        "minutes ago. We keep checking and continue as soon as Apple accepts it. If this lasts more than a "
        "day, check in App Store Connect > Users and Access > Integrations that the key ID and issuer ID you "
        "entered belong to this key and that the key is not revoked.",
    ),
    "agreements_missing": (
        "We received your key, but Apple refuses it until your team's agreements are accepted.",
        "The Account Holder must accept the latest agreements in App Store Connect (Business) and the Apple "
        "Developer Program License Agreement on developer.apple.com. We continue as soon as Apple accepts "
        "the key.",
    ),
}


@dataclass(frozen=True)
class Accepted:
    verdict: Verdict
    headline: str
    detail: str
    custody_id: str


def accept_key(
    upload: KeyUpload,
    onboarding: Onboarding,
    *,
    base_url: str,
    custody: Custody,
    store: OnboardingStore,
    prefect: PrefectClients,
) -> Accepted:
    """Check the key strictly and at Apple, deposit it, and hand it to the onboarding's run.

    The caller wipes `upload`; the two copies made here (the bytes the key loader reads, the text custody
    takes) are immutable and dropped as soon as they are used.
    """
    key_id = upload.fields.get("key_id", "")
    issuer_id = upload.fields.get("issuer_id", "")
    p8 = bytes(upload.key)
    try:
        key = ApiKey.from_p8(p8, key_id=key_id, issuer_id=issuer_id, filename=as_downloaded(upload.filename))
    except InvalidCredentialsInput as error:
        field = FILE_FIELD if error.field == "filename" else error.field
        raise UploadRefused(422, field, _problem(error), error.remedy) from None
    finally:
        del p8
    verdict = _ask_apple(key, base_url, onboarding.bundle_id)
    del key
    record = custody.deposit(
        CustodyInput(
            tenant=onboarding.tenant,
            app_bundle_id=onboarding.bundle_id,
            key_id=key_id,
            issuer_id=SecretStr(issuer_id),
            p8=SecretStr(str(upload.key, "ascii")),
        ),
        actor=Actor(kind="customer", id=onboarding.tenant),
    )
    if not store.claim_custody(onboarding.id, record.id):
        # Another upload for this onboarding won the race; keep exactly one key.
        custody.destroy(record.id, actor=Actor(kind="system", id="ascflow-intake"))
        raise already_received()
    try:
        with prefect() as client:
            deliver(
                client,
                store,
                store.get(onboarding.id),
                just_received=True,
                wait_seconds=RUN_REACHES_WAIT_SECONDS,
            )
    except (httpx.HTTPError, ObjectNotFound) as error:
        # The key is safe in custody; the status page hands it over once Prefect answers again.
        log.warning("onboarding %s: run not reached yet (%s)", onboarding.id, type(error).__name__)
    headline, detail = ACCEPTED[verdict]
    return Accepted(verdict, headline, detail, record.id)


def as_downloaded(filename: str | None) -> str | None:
    """The file's name as Apple gave it: a browser that finds the name taken saves `AuthKey_X (1).p8`.

    The key ID in the name is then still compared with the one typed (in `ApiKey.from_p8`)."""
    if filename is None:
        return None
    copy = _BROWSER_COPY.fullmatch(filename)
    return f"{copy.group(1)}.p8" if copy else filename


def _problem(error: InvalidCredentialsInput) -> str:
    # The key module words problems after the field name ("must be ...", "the key file ..."): make sentences.
    subject = {"key_id": "The key ID ", "issuer_id": "The issuer ID ", "filename": "The file name "}
    text = subject.get(error.field, "") + error.problem
    return text[0].upper() + text[1:]


def _ask_apple(key: ApiKey, base_url: str, bundle_id: str) -> Verdict:
    try:
        check = classify_key(key, base_url, bundle_id, retry=INTAKE_RETRY)
    except ActionFailed:
        raise UploadRefused(
            422,
            FILE_FIELD,
            f"The key works, but its App Store Connect account has no app with bundle ID {bundle_id}",
            "Check that you made the key in the team that owns the app, or create the app in App Store "
            "Connect > Apps first, then upload the key again.",
        ) from None
    except AppStoreConnectError:
        raise UploadRefused(
            503,
            "form",
            "Apple could not be reached to check the key; nothing was kept",
            "Try again in a few minutes.",
        ) from None
    if check.verdict == "role_too_low":
        raise UploadRefused(
            422,
            FILE_FIELD,
            "Apple accepts this key, but its role is not Admin; certificates and invitations need Admin",
            "In App Store Connect > Users and Access > Integrations > Team Keys, generate a new key with "
            "Admin access (a key's role cannot be changed), then upload that key. Revoke this one.",
        )
    if check.verdict == "invalid_key":
        raise UploadRefused(422, FILE_FIELD, "This is not a usable App Store Connect key", check.next_step)
    return check.verdict


def already_received() -> UploadRefused:
    return UploadRefused(
        409, "form", "We already have a key for this onboarding", "Follow the progress on the status page."
    )


def deliver(
    client: SyncPrefectClient,
    store: OnboardingStore,
    onboarding: Onboarding,
    *,
    just_received: bool = False,
    wait_seconds: float = 0.0,
) -> Onboarding:
    """Make sure a run has the key: resume the one waiting for it, or start one. Safe to call again.

    A run started before the upload may not have reached its wait yet: it is given `wait_seconds` to get
    there. A finished run is replaced only for a key `just_received` (it cannot have used that key); a run
    that finished with the key is the operator's to retry.
    """
    if onboarding.custody_id is None:
        return onboarding
    if onboarding.flow_run_id is not None:
        run = _settled(client, UUID(onboarding.flow_run_id), wait_seconds)
        if _waits_for_key(run):
            hand_over_credentials(client, run.id, onboarding.custody_id)
            return onboarding
        if run.state_type not in FINISHED or not just_received:
            return onboarding
        onboarding = store.next_attempt(onboarding.id)
    return start_run(client, store, onboarding)


def start_run(client: SyncPrefectClient, store: OnboardingStore, onboarding: Onboarding) -> Onboarding:
    request = onboarding.request.model_copy(update={"custody_id": onboarding.custody_id})
    run = start_onboarding(client, request, onboarding.idempotency_key)
    return store.set_run(onboarding.id, str(run.id))


def _waits_for_key(run: FlowRun) -> bool:
    state = run.state
    return (
        state is not None
        and state.type == StateType.PAUSED
        and state.state_details.pause_key == contracts.AWAIT_CREDENTIALS_KEY
    )


def _settled(client: SyncPrefectClient, run_id: UUID, wait_seconds: float) -> FlowRun:
    """The run, once it is waiting or finished, or when `wait_seconds` have passed."""
    deadline = time.monotonic() + wait_seconds
    while True:
        run = client.read_flow_run(run_id)
        if run.state_type in FINISHED or run.state_type == StateType.PAUSED or time.monotonic() > deadline:
            return run
        time.sleep(0.5)
