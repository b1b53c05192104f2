"""The audit trail's index (ascflow/intake/trail.py) against the whole-log reading it replaces, and paging.

No Prefect here: the index serves the steps of the status page and the operator list, which come from the audit
trail alone; the run's phase still comes from Prefect, as before (the paged API test is in the stack below).
"""

from __future__ import annotations

import re
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ascflow.audit import Action, Actor, AuditEvent, AuditLog, LocalBackend, ServiceKey, Target
from ascflow.intake.onboardings import Onboarding, OnboardingStore
from ascflow.intake.status import steps_from_index, steps_from_log
from ascflow.intake.trail import TrailIndex
from tests.intake.conftest import IntakeServer, make_request

PIPELINE = [
    Action.RUN_STARTED,
    Action.CREDENTIALS_OPENED,
    Action.CREDENTIALS_VALIDATED,
    Action.ACCESS_WAITING,
    Action.ACCESS_WAITING,
    Action.ACCESS_GRANTED,
    Action.SIGNING_BUNDLE_ID_ENSURED,
    Action.CREDENTIALS_OPENED,
    Action.SIGNING_CERTIFICATE_ENSURED,
    Action.SIGNING_PROFILE_ENSURED,
    Action.TEAM_INVITED,
    Action.BUILD_CHECKED,
    Action.BUILD_UPLOADED,
    Action.BUILD_PROCESSED,
    Action.VERSION_PREPARED,
    Action.LISTING_APPLIED,
    Action.REVIEW_SUBMITTED,
    Action.REVIEW_OUTCOME,
]
KEY_ACTIONS = {Action.CREDENTIALS_OPENED, Action.CREDENTIALS_VALIDATED}


class Trail:
    """An onboarding store and an audit log side by side, as the intake has them."""

    def __init__(self, root: Path, key: ServiceKey) -> None:
        self.store = OnboardingStore(root / "intake" / "onboardings.sqlite3")
        self.audit = AuditLog(LocalBackend(root / "audit"), key, checkpoint_every=10)
        self.index = TrailIndex(root / "intake" / "trail-index.sqlite3", self.audit)

    def onboarding(self, name: str, tenant: str = "acme") -> Onboarding:
        request = make_request(f"com.example.{name}", tenant=tenant)
        return self.store.create(request, uuid.uuid4().hex, datetime.now(UTC) + timedelta(days=1))

    def keyed(self, onboarding: Onboarding) -> Onboarding:
        custody_id = uuid.uuid4().hex
        assert self.store.claim_custody(onboarding.id, custody_id)
        return self.store.get(onboarding.id)

    def rows(self) -> list[tuple[object, ...]]:
        with self.index.connect() as db:
            return [
                tuple(row) for row in db.execute("SELECT * FROM trail_firsts ORDER BY tenant, ref, action")
            ]


def event(
    action: Action,
    tenant: str,
    *,
    run: str | None = None,
    custody: str | None = None,
    outcome: str = "success",
) -> AuditEvent:
    return AuditEvent(
        actor=Actor(kind="flow", id=run or "intake"),
        action=action,
        tenant=tenant,
        target=Target(run_id=run, custody_id=custody),
        outcome=outcome,
    )


def pipeline_events(o: Onboarding, run: str, upto: int, *, failing: Action | None = None) -> list[AuditEvent]:
    events = []
    for action in PIPELINE[:upto]:
        custody = o.custody_id if action in KEY_ACTIONS else None
        outcome = "failure" if action == failing else "success"
        events.append(event(action, o.tenant, run=run, custody=custody, outcome=outcome))
    return events


def interleave(*streams: list[AuditEvent]) -> list[AuditEvent]:
    """Many runs write at once: their events alternate in the log."""
    merged: list[AuditEvent] = []
    longest = max(len(stream) for stream in streams)
    for i in range(longest):
        merged += [stream[i] for stream in streams if i < len(stream)]
    return merged


@pytest.fixture
def trail(tmp_path: Path) -> Trail:
    return Trail(tmp_path, ServiceKey.generate())


def onboardings_in_every_state(trail: Trail) -> dict[str, Onboarding]:
    """Awaiting the key, key uploaded, waiting for Apple, done and destroyed, retried after a failure, and an
    onboarding of another tenant whose run ID is shared by an event of the first tenant."""
    awaiting = trail.onboarding("awaiting")
    uploaded = trail.keyed(trail.onboarding("uploaded"))
    waiting = trail.keyed(trail.onboarding("waiting"))
    done = trail.keyed(trail.onboarding("done"))
    retried = trail.keyed(trail.onboarding("retried"))
    other = trail.keyed(trail.onboarding("other", tenant="globex"))
    runs = {name: str(uuid.uuid4()) for name in ("waiting", "done", "first", "second", "other")}
    waiting = trail.store.set_run(waiting.id, runs["waiting"])
    done = trail.store.set_run(done.id, runs["done"])
    other = trail.store.set_run(other.id, runs["other"])

    deposits = [
        event(Action.CREDENTIALS_DEPOSITED, o.tenant, custody=o.custody_id)
        for o in (uploaded, waiting, done, retried, other)
    ]
    trail.audit.append_many(deposits)
    first_run = pipeline_events(retried, runs["first"], 13, failing=Action.BUILD_UPLOADED)
    first_run.append(event(Action.RUN_FINISHED, retried.tenant, run=runs["first"], outcome="failure"))
    finish = [
        event(Action.CREDENTIALS_DESTROYED, done.tenant, run=runs["done"], custody=done.custody_id),
        event(Action.CREDENTIALS_RECEIPT_ISSUED, done.tenant, run=runs["done"], custody=done.custody_id),
        event(Action.RUN_FINISHED, done.tenant, run=runs["done"]),
    ]
    trail.audit.append_many(
        interleave(
            pipeline_events(waiting, runs["waiting"], 5),
            pipeline_events(done, runs["done"], len(PIPELINE)) + finish,
            first_run,
            pipeline_events(other, runs["other"], 9),
            # A stray event of acme naming globex's run: the tenant keeps it off globex's page.
            [event(Action.TEAM_INVITED, "acme", run=runs["other"])],
        )
    )
    retried = trail.store.set_run(trail.store.next_attempt(retried.id).id, runs["second"])
    trail.audit.append_many(pipeline_events(retried, runs["second"], 4))
    return {
        "awaiting": awaiting,
        "uploaded": uploaded,
        "waiting": waiting,
        "done": done,
        "retried": retried,
        "other": other,
    }


def labels(trail: Trail, onboarding: Onboarding) -> list[str]:
    return [step.label for step in steps_from_index(onboarding, trail.index)]


def test_the_index_gives_the_steps_the_whole_log_gives_in_every_state(trail: Trail) -> None:
    onboardings = onboardings_in_every_state(trail)
    assert trail.index.catch_up() == len(list(trail.audit.events()))
    for name, onboarding in onboardings.items():
        from_index = steps_from_index(onboarding, trail.index)
        assert from_index == steps_from_log(onboarding, trail.audit), name

    assert labels(trail, onboardings["awaiting"]) == []
    assert labels(trail, onboardings["uploaded"]) == ["Your key was received and encrypted"]
    assert labels(trail, onboardings["waiting"])[-1] == "Waiting for Apple to accept your key"
    done = labels(trail, onboardings["done"])
    assert done[-3:] == ["Your key was destroyed", "Deletion receipt issued", "Onboarding finished"]
    assert len(done) == len(set(done))  # each step once, though the run waited twice and opened the key twice
    # The retry shows the new run and the key, not the first run's failed upload nor its end.
    retried = steps_from_index(onboardings["retried"], trail.index)
    assert [s.label for s in retried] == [
        "Your key was received and encrypted",
        "Your key was checked with Apple",  # by the first run: the key's events stay the onboarding's
        "Onboarding started",
        "Waiting for Apple to accept your key",
    ]
    assert all(s.outcome == "success" for s in retried)
    assert "Publishing team invited to your account" not in labels(trail, onboardings["other"])


def test_the_index_takes_in_only_what_was_appended_since(trail: Trail) -> None:
    onboardings = onboardings_in_every_state(trail)
    trail.index.catch_up()
    assert trail.index.catch_up() == 0
    waiting = onboardings["waiting"]
    run = waiting.flow_run_id or ""
    later = [
        event(Action.ACCESS_WAITING, waiting.tenant, run=run),
        event(Action.ACCESS_GRANTED, "acme", run=run),
    ]
    trail.audit.append_many(later)
    assert trail.index.catch_up() == 2
    assert labels(trail, waiting)[-1] == "Apple accepted your key"
    for onboarding in onboardings.values():
        assert steps_from_index(onboarding, trail.index) == steps_from_log(onboarding, trail.audit)


def test_the_index_is_rebuilt_from_the_log(trail: Trail, tmp_path: Path) -> None:
    onboardings_in_every_state(trail)
    trail.index.catch_up()
    built = trail.rows()
    assert len(built) > 50
    assert trail.index.rebuild() == len(list(trail.audit.events()))
    assert trail.rows() == built

    # The log was replaced (restored from elsewhere): it no longer chains to where the index stopped, and the
    # index starts over from the log rather than keep what the old one said.
    audit_dir = tmp_path / "audit"
    shutil.rmtree(audit_dir)
    assert trail.index.catch_up() == 0
    assert trail.rows() == []  # an empty log: nothing to show, and the index starts over with it
    replaced = trail.onboarding("replaced")
    replaced = trail.store.set_run(replaced.id, str(uuid.uuid4()))
    trail.audit.append_many(pipeline_events(replaced, replaced.flow_run_id or "", 3))
    assert trail.index.catch_up() == 3
    assert labels(trail, replaced) == ["Onboarding started", "Your key was checked with Apple"]
    assert {row[0] for row in trail.rows()} == {"acme"}
    assert len(trail.rows()) == 3


def test_the_index_holds_only_the_logs_constrained_fields(trail: Trail) -> None:
    onboardings_in_every_state(trail)
    trail.index.catch_up()
    actions = {action.value for action in Action}
    for tenant, ref, action, seq, time, outcome in trail.rows():
        assert re.fullmatch(r"[a-z0-9._-]{1,128}", str(tenant))
        assert re.fullmatch(r"(run:[0-9a-f-]{36}|custody:[0-9a-f]{32})", str(ref))
        assert action in actions
        assert isinstance(seq, int)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(time))
        assert outcome in {"success", "failure", "denied", "indeterminate"}


def test_pages_return_every_onboarding_once_in_order(trail: Trail) -> None:
    made = [trail.onboarding(f"app{i}").id for i in range(23)]
    seen: list[str] = []
    page = trail.store.page(5)
    while page:
        seen += [o.id for o in page]
        if len(seen) == 10:
            made.append(trail.onboarding("late").id)  # created while paging: comes last, once
        page = trail.store.page(5, seen[-1])
    assert seen == [o.id for o in trail.store.list()]
    assert sorted(seen) == sorted(made)
    with pytest.raises(KeyError):
        trail.store.page(5, uuid.uuid4().hex)


@pytest.mark.slow
def test_the_operator_list_is_paged_through_its_link_header(stack_intake: IntakeServer) -> None:
    for i in range(5):
        stack_intake.intake.create(make_request(f"com.example.paged{i}"))
    expected = [o.id for o in stack_intake.intake.store.list()]
    seen: list[str] = []
    with stack_intake.operator() as api:
        url: str | None = "/api/onboardings?limit=2"
        while url:
            response = api.get(url)
            assert response.status_code == 200, response.text
            assert len(response.json()) <= 2
            seen += [o["id"] for o in response.json()]
            url = response.links.get("next", {}).get("url")
        assert api.get("/api/onboardings?after=" + "0" * 32).status_code == 400
        assert api.get("/api/onboardings?limit=201").status_code == 422
    assert seen == expected
