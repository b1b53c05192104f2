"""How custody records appear in the audit trail: which action, on which target (never key material)."""

from __future__ import annotations

from ascflow.audit import Action, Actor, AuditEvent, Target
from ascflow.audit.events import Outcome
from ascflow.custody.records import RecordInfo, RecordKind

APPLE_TYPE: dict[RecordKind, str] = {"api_key": "apiKeys", "signing_identity": "certificates"}
# ascflow's own signing keys are not the customer's key: a reader of the trail must never take the destruction
# of a pending signing key for the customer's.
SIGNING_KEY_ACTIONS = {
    Action.CREDENTIALS_DEPOSITED: Action.SIGNING_KEY_DEPOSITED,
    Action.CREDENTIALS_OPENED: Action.SIGNING_KEY_OPENED,
    Action.CREDENTIALS_DESTROYED: Action.SIGNING_KEY_DESTROYED,
    Action.CREDENTIALS_EXPIRED: Action.SIGNING_KEY_EXPIRED,
}


def record_event(
    action: Action, header: RecordInfo, actor: Actor, outcome: Outcome, error_code: str | None = None
) -> AuditEvent:
    if header.kind == "signing_identity":
        action = SIGNING_KEY_ACTIONS.get(action, action)
    return AuditEvent(
        actor=actor,
        action=action,
        tenant=header.tenant,
        target=Target(
            custody_id=header.id,
            apple_type=APPLE_TYPE[header.kind],
            apple_id=header.key_id,
            key_fingerprint=header.fingerprint,
        ),
        outcome=outcome,
        error_code=error_code.upper() if error_code else None,
    )
