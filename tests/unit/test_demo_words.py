"""The demo's words: a suspended run's state says what it waits for, a key opened step after step folds into one
line with its count, and the verify sentence agrees in number ("1 signed checkpoint covers")."""

from __future__ import annotations

from pathlib import Path

from ascflow.audit import Action, Actor, AuditEvent, AuditLog, LocalBackend, ServiceKey, Target
from ascflow.audit.verify import verify_log
from ascflow.demo import audit_lines, state_line

RUN_ID = "6f1c0a2e-7d7e-4a4b-9a59-1d2b3c4d5e6f"


def event(action: Action, **target: str) -> AuditEvent:
    return AuditEvent(
        actor=Actor(kind="flow", id=RUN_ID),
        action=action,
        tenant="demo-games",
        target=Target(run_id=RUN_ID, **target),
        outcome="success",
    )


def trail(tmp_path: Path) -> AuditLog:
    # Checkpoints only when a test asks: the sentence's numbers are then the test's.
    return AuditLog(LocalBackend(tmp_path / "audit"), ServiceKey.generate(), checkpoint_every=1000)


def test_a_key_opened_step_after_step_folds_into_one_line_with_its_count(tmp_path: Path) -> None:
    log = trail(tmp_path)
    log.append(event(Action.RUN_STARTED))
    for _ in range(3):
        log.append(event(Action.CREDENTIALS_OPENED, custody_id="c0ffee"))
    log.append(event(Action.SIGNING_CERTIFICATE_ENSURED, apple_type="certificates", apple_id="CERT1"))
    log.append(event(Action.CREDENTIALS_OPENED, custody_id="c0ffee"))
    log.append(event(Action.SIGNING_KEY_OPENED, custody_id="c0ffee"))

    lines = audit_lines(list(log.events()))

    assert len(lines) == 5, lines
    opened = [line for line in lines if "credentials.opened" in line]
    # The three in a row are one line, numbered by the first and counted; the one after another event stands
    # alone (folding never reorders the trail).
    assert "#2 " in opened[0], opened
    assert opened[0].endswith("custody c0ffee (the customer's key)  (x3)"), opened
    assert "#6 " in opened[1], opened
    assert opened[1].endswith("custody c0ffee (the customer's key)"), opened
    assert lines[2].endswith("certificates CERT1"), lines[2]
    assert lines[4].endswith("custody c0ffee (signing key)"), lines[4]


def test_the_verify_sentence_agrees_in_number(tmp_path: Path) -> None:
    log = trail(tmp_path)
    for _ in range(3):
        log.append(event(Action.CREDENTIALS_OPENED, custody_id="c0ffee"))
    log.checkpoint()
    one = verify_log(log.backend, log.key.public).summary()
    assert "3 events, chain intact; 1 signed checkpoint covers 3; 0 after the last checkpoint" in one, one

    log.append(event(Action.RUN_FINISHED))
    log.checkpoint()
    log.append(event(Action.RUN_FINISHED))
    two = verify_log(log.backend, log.key.public).summary()
    assert "5 events, chain intact; 2 signed checkpoints cover 4; 1 after the last checkpoint" in two, two


def test_a_suspended_run_is_printed_with_what_it_waits_for() -> None:
    # The state as Prefect's API returns it: the message is what flows/waiting.py set when it suspended.
    message = "Waiting for the App Privacy answers. Apple refuses to review the app until they are published."
    state = {"type": "PAUSED", "name": "Suspended", "message": message}
    assert state_line(state) == f"  run state: Suspended, holding no worker: {message}"
    assert (
        state_line({"type": "SCHEDULED", "name": "Resuming", "message": None})
        == "  run state: Resuming (resumed)"
    )
