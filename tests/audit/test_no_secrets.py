"""A key (PEM and base64 body), a JWT and a .p12 password cannot enter the audit trail: the schema refuses
them in every string field, the refusal does not echo them, and no file the log wrote contains them."""

from __future__ import annotations

import base64
import binascii
import secrets
import time
import urllib.parse
from pathlib import Path

import jwt
import pytest
from pydantic import ValidationError

from ascflow.audit import Action, Actor, AuditEvent, AuditLog, LocalBackend, ServiceKey, Target
from tests.fixtures.keys import CustomerKey, make_customer_key

from .conftest import RUN_ID, MakeEvent

FIELDS = [
    "actor.id",
    "tenant",
    "target.custody_id",
    "target.apple_type",
    "target.apple_id",
    "target.run_id",
    "target.key_fingerprint",
    "error_code",
]


def pem_body(pem: str) -> str:
    return "".join(line for line in pem.splitlines() if not line.startswith("-----"))


def make_jwt(key: CustomerKey) -> str:
    now = int(time.time())
    claims = {"iss": key.issuer_id, "iat": now, "exp": now + 1200, "aud": "appstoreconnect-v1"}
    return jwt.encode(claims, key.p8, algorithm="ES256", headers={"kid": key.key_id, "typ": "JWT"})


def secret_values(key: CustomerKey) -> dict[str, str]:
    token = make_jwt(key)
    body = pem_body(key.p8)
    values = {
        "pem": key.p8,
        "pem-body": body,
        "jwt": token,
        "p12-password-generated": secrets.token_urlsafe(24),
        "p12-password-human": "Tr0ub4dor&3 for the p12",
        "p12-password-base64": base64.b64encode(secrets.token_bytes(24)).decode(),
    }
    values |= {f"pem-line-{i}": line for i, line in enumerate(key.p8.splitlines()[1:-1])}
    values |= {f"jwt-part-{i}": part for i, part in enumerate(token.split("."))}
    return values


def event_with(field: str, value: str) -> dict[str, object]:
    data: dict[str, object] = {
        "actor": {"kind": "operator", "id": "alice"},
        "action": "credentials.opened",
        "tenant": "acme",
        "target": {"run_id": RUN_ID},
        "outcome": "failure",
    }
    head, _, tail = field.partition(".")
    if tail:
        data[head] = {**data.get(head, {}), tail: value}  # type: ignore[dict-item]
    else:
        data[head] = value
    return data


KEY = make_customer_key()
SECRETS = secret_values(KEY)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("name", sorted(SECRETS))
def test_schema_refuses_secret_in_every_string_field(field: str, name: str) -> None:
    value = SECRETS[name]
    with pytest.raises(ValidationError) as caught:
        AuditEvent.model_validate(event_with(field, value))
    message = str(caught.value)
    assert field.split(".")[-1] in message  # the error names the field...
    assert value not in message  # ...without echoing what was refused
    assert pem_body(value)[:24] not in message


@pytest.mark.parametrize("extra", ["detail", "message", "request_body", "exception"])
def test_schema_has_no_free_text_field(extra: str) -> None:
    with pytest.raises(ValidationError, match=extra):
        AuditEvent.model_validate(event_with("tenant", "acme") | {extra: "anything"})
    with pytest.raises(ValidationError, match=extra):
        AuditEvent.model_validate(event_with("tenant", "acme") | {"target": {"run_id": RUN_ID, extra: "x"}})


def test_action_vocabulary_is_closed() -> None:
    with pytest.raises(ValidationError, match="action"):
        AuditEvent.model_validate(event_with("tenant", "acme") | {"action": "credentials.exported"})


def test_legitimate_identifiers_pass() -> None:
    event = AuditEvent(
        actor=Actor(kind="flow", id=RUN_ID),
        action=Action.SIGNING_CERTIFICATE_ENSURED,
        tenant="Acme-Corp.EU",
        target=Target(
            custody_id="0123456789abcdef0123456789abcdef",
            apple_type="certificates",
            apple_id="ZX4C9N7W2Q",
            run_id=RUN_ID.upper(),
            key_fingerprint="ab" * 32,
        ),
        outcome="failure",
        error_code="ENTITY_ERROR.ATTRIBUTE.INVALID",
    )
    assert event.target.apple_id == "ZX4C9N7W2Q"


def encodings(value: str) -> list[bytes]:
    raw = value.encode()
    return [
        raw,
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw),
        binascii.hexlify(raw),
        urllib.parse.quote(value, safe="").encode(),
        value.replace("\n", "\\n").encode(),  # JSON-escaped
    ]


def test_secrets_never_reach_the_written_files(tmp_path: Path, event: MakeEvent) -> None:
    key = make_customer_key()
    values = secret_values(key)
    log = AuditLog(LocalBackend(tmp_path / "audit"), ServiceKey.load_or_create(tmp_path / "keys" / "a.pem"))
    for _ in range(3):
        log.append(event(Action.CREDENTIALS_DEPOSITED, custody_id="0123456789abcdef0123456789abcdef"))
    refused = 0
    for value in values.values():
        for field in FIELDS:
            try:
                log.append(AuditEvent.model_validate(event_with(field, value)))
            except ValidationError:
                refused += 1
    assert refused == len(values) * len(FIELDS)
    log.checkpoint(reason="run-end")

    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"events.jsonl", "checkpoints.jsonl"}
    needles = {v for value in values.values() for v in encodings(value) if len(value) >= 8}
    needles |= {encoded for line in key.p8.splitlines()[1:-1] for encoded in encodings(line[8:40])}
    for path in written:
        content = path.read_bytes()
        found = [needle[:12] for needle in needles if needle in content]
        assert found == [], f"{path} holds part of a secret"
