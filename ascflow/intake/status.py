"""Where an onboarding stands, in the customer's words: from the run's state in Prefect and the audit trail.

The same view feeds the customer's status page and the operator API's list, so both say the same thing. The
steps come from the trail's index (`trail.py`), which reads only what the log gained since the last page;
`steps_from_log` is the same answer from the whole log, which the index is tested and measured against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun, StateType

from ascflow.audit import Action, AuditLog, AuditRecord
from ascflow.custody import Custody, DeletionReceipt
from ascflow.intake.onboardings import Onboarding
from ascflow.intake.trail import FirstEvent, TrailIndex
from ascflow.pipeline.waiting import Waiting

STEP_LABELS: dict[Action, str] = {
    Action.RUN_STARTED: "Onboarding started",
    Action.CREDENTIALS_DEPOSITED: "Your key was received and encrypted",
    Action.CREDENTIALS_VALIDATED: "Your key was checked with Apple",
    Action.ACCESS_WAITING: "Waiting for Apple to accept your key",
    Action.ACCESS_GRANTED: "Apple accepted your key",
    Action.SIGNING_BUNDLE_ID_ENSURED: "Bundle ID checked",
    Action.SIGNING_CERTIFICATE_ENSURED: "Distribution certificate ready",
    Action.SIGNING_PROFILE_ENSURED: "App Store provisioning profile ready",
    Action.TEAM_INVITED: "Publishing team invited to your account",
    Action.BUILD_UPLOADED: "Build uploaded",
    Action.BUILD_PROCESSED: "Build processed by Apple",
    Action.VERSION_PREPARED: "App Store version prepared",
    Action.REVIEW_SUBMITTED: "Submitted to Apple for review",
    Action.REVIEW_OUTCOME: "Apple's review finished",
    Action.CREDENTIALS_DESTROYED: "Your key was destroyed",
    Action.CREDENTIALS_RECEIPT_ISSUED: "Deletion receipt issued",
    Action.RUN_FINISHED: "Onboarding finished",
}

Phase = Literal[
    "awaiting_key",
    "starting",
    "working",
    "waiting_for_apple",
    "waiting_for_build",
    "waiting_for_app_privacy",
    "in_beta_review",
    "in_review",
    "done",
    "stopped",
]
PHASES: dict[Phase, tuple[str, str | None, str]] = {
    # phase: (headline, waiting on, what happens next)
    "awaiting_key": (
        "Waiting for your key",
        "you",
        "Upload your App Store Connect API key with its key ID and issuer ID on the upload page.",
    ),
    "starting": ("Starting", "us", "Your onboarding is about to start; this takes a few seconds."),
    "working": (
        "Working",
        "us",
        "We are preparing signing, inviting the team and uploading the build. Nothing is needed from you.",
    ),
    "waiting_for_apple": (
        "Waiting for Apple to accept your key",
        "Apple",
        "Apple may still be approving API access for your team, or your team's agreements need to be "
        "accepted by the Account Holder in App Store Connect. We continue as soon as Apple accepts the key.",
    ),
    "waiting_for_build": (
        "Waiting for the app's build",
        "us",
        "Signing is ready and your team is invited; we continue as soon as the app's build reaches us or Apple. "
        "Nothing is needed from you.",
    ),
    "waiting_for_app_privacy": (
        "Waiting for the App Privacy answers",
        "us",
        "Apple needs the app's App Privacy answers published in App Store Connect before it takes the app for "
        "review; our team member publishes them and we continue then. We contact you if we need your answers.",
    ),
    "in_beta_review": (
        "In TestFlight review at Apple",
        "Apple",
        "Apple is reviewing the build for external TestFlight testing; we continue when it decides.",
    ),
    "in_review": (
        "In review at Apple",
        "Apple",
        "Apple is reviewing the app; we follow the review and then destroy your key.",
    ),
    "done": (
        "Done",
        None,
        "Your key has been destroyed. Revoke it in App Store Connect now (see below).",
    ),
    "stopped": (
        "Stopped",
        "us",
        "Something needs our attention; our team has been told and will contact you.",
    ),
}
# Every kind of wait (`ascflow.pipeline.waiting.WaitKind`) has its phase: a test checks none is missing.
WAIT_PHASES: dict[str, Phase] = {
    "credentials": "awaiting_key",
    "access": "waiting_for_apple",
    "build": "waiting_for_build",
    "app-privacy": "waiting_for_app_privacy",
    "beta-review": "in_beta_review",
    "review": "in_review",
}


@dataclass(frozen=True)
class StepDone:
    label: str
    at: str
    outcome: str


@dataclass(frozen=True)
class CustomerReceipt:
    """What the customer is shown of the deletion receipt: their own identifiers and what happened.

    The signed receipt also holds the position and hash in the audit trail (shared by every customer, so it
    reveals our volume) and where the copies were on our servers: those stay with the operator (operator API
    `GET /api/onboardings/{id}/receipt`, and the audit trail)."""

    record_id: str
    key_id: str
    key_fingerprint: str
    destroyed_at: datetime
    copies_removed: int
    next_step: str


def customer_receipt(receipt: DeletionReceipt) -> CustomerReceipt:
    return CustomerReceipt(
        record_id=receipt.custody_id,
        key_id=receipt.key_id,
        key_fingerprint=receipt.key_fingerprint,
        destroyed_at=receipt.destroyed_at,
        copies_removed=len(receipt.removed),
        next_step=receipt.next_step,
    )


@dataclass
class StatusView:
    phase: Phase
    run_state: str | None
    steps: list[StepDone] = field(default_factory=list)
    receipt: DeletionReceipt | None = None

    @property
    def headline(self) -> str:
        return PHASES[self.phase][0]

    @property
    def waiting_on(self) -> str | None:
        return PHASES[self.phase][1]

    @property
    def next_step(self) -> str:
        return PHASES[self.phase][2]

    @property
    def finished(self) -> bool:
        return self.phase in ("done", "stopped")


def onboarding_status(
    onboarding: Onboarding,
    *,
    client: SyncPrefectClient,
    audit: AuditLog,
    custody: Custody,
    trail: TrailIndex | None = None,
) -> StatusView:
    """One onboarding's view. With `trail`, the steps come from the index; without, from the whole log."""
    run = client.read_flow_run(UUID(onboarding.flow_run_id)) if onboarding.flow_run_id else None
    steps = page_steps([onboarding], trail)[onboarding.id] if trail else steps_from_log(onboarding, audit)
    return _view(onboarding, run, client, custody, steps)


def page_status(
    onboardings: Sequence[Onboarding], *, client: SyncPrefectClient, custody: Custody, trail: TrailIndex
) -> list[StatusView]:
    """The views of a page of onboardings: one read of their runs, one catch-up of the index."""
    ids = [UUID(o.flow_run_id) for o in onboardings if o.flow_run_id]
    found = (
        client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)), limit=len(ids))
        if ids
        else []
    )
    runs = {str(run.id): run for run in found}
    steps = page_steps(onboardings, trail)
    return [_view(o, runs.get(o.flow_run_id or ""), client, custody, steps[o.id]) for o in onboardings]


def _view(
    onboarding: Onboarding,
    run: FlowRun | None,
    client: SyncPrefectClient,
    custody: Custody,
    steps: list[StepDone],
) -> StatusView:
    receipt = custody.receipt(onboarding.custody_id) if onboarding.custody_id else None
    return StatusView(
        phase=_phase(onboarding, run, client),
        run_state=run.state_name if run else None,
        steps=steps,
        receipt=receipt,
    )


def _phase(onboarding: Onboarding, run: FlowRun | None, client: SyncPrefectClient) -> Phase:
    if run is None:
        return "awaiting_key" if onboarding.custody_id is None else "starting"
    state = run.state_type
    if state == StateType.COMPLETED:
        return "done"
    if state in (StateType.FAILED, StateType.CRASHED, StateType.CANCELLED):
        return "stopped"
    if state == StateType.PAUSED:
        waits = client.filter_flow_run_input(
            flow_run_id=run.id, key_prefix=Waiting.input_key(""), limit=100, exclude_keys=set()
        )
        latest = max(
            (Waiting.model_validate_json(item.value) for item in waits), key=lambda w: w.since, default=None
        )
        return WAIT_PHASES[latest.kind] if latest else "working"
    if onboarding.custody_id is None:
        return "awaiting_key"
    return "working"


def page_steps(onboardings: Sequence[Onboarding], trail: TrailIndex) -> dict[str, list[StepDone]]:
    """The steps of a page of onboardings, by ID: the index takes in what the log gained, then answers."""
    trail.catch_up()
    return {
        onboarding_id: _steps_of(firsts)
        for onboarding_id, firsts in trail.first_events_of(onboardings).items()
    }


def steps_from_index(onboarding: Onboarding, trail: TrailIndex) -> list[StepDone]:
    """Each kind of step once, in the order first reached, for this onboarding's run and key."""
    return _steps_of(trail.first_events(onboarding))


def _steps_of(firsts: list[FirstEvent]) -> list[StepDone]:
    return [
        StepDone(STEP_LABELS[first.action], _when(first.time), first.outcome)
        for first in firsts
        if first.action in STEP_LABELS
    ]


def steps_from_log(onboarding: Onboarding, audit: AuditLog) -> list[StepDone]:
    """The same steps read from the whole log: what the index must agree with, at the log's length in cost."""
    seen: dict[Action, StepDone] = {}
    for record in audit.events(tenant=onboarding.tenant):
        if not _belongs(record, onboarding) or record.action not in STEP_LABELS or record.action in seen:
            continue
        seen[record.action] = StepDone(STEP_LABELS[record.action], _when(record.time), record.outcome)
    return list(seen.values())


def _belongs(record: AuditRecord, onboarding: Onboarding) -> bool:
    target = record.target
    by_run = onboarding.flow_run_id is not None and target.run_id == onboarding.flow_run_id
    by_key = onboarding.custody_id is not None and target.custody_id == onboarding.custody_id
    return by_run or by_key


def _when(stamp: str) -> str:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S UTC")
