"""The line format and the chain hash, pinned by a known-answer vector so the format never drifts silently."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ascflow.audit import Action, Actor, AuditEvent, ServiceKey, Target
from ascflow.audit.chain import DOMAIN, GENESIS, canonical, line_of, recompute, seal
from ascflow.audit.checkpoint import DOMAIN as CHECKPOINT_DOMAIN
from ascflow.audit.checkpoint import sign_checkpoint

KNOWN_EVENT = AuditEvent(
    actor=Actor(kind="operator", id="alice"),
    action=Action.CREDENTIALS_DESTROYED,
    tenant="acme",
    target=Target(custody_id="0123456789abcdef0123456789abcdef", apple_type="apiKeys", apple_id="ABCDE12345"),
    outcome="failure",
    error_code="NOT_AUTHORIZED",
)
KNOWN_LINE = (
    b'{"action":"credentials.destroyed","actor":{"id":"alice","kind":"operator"},"error_code":"NOT_AUTHORIZED",'
    b'"hash":"%s","outcome":"failure","prev_hash":"' + GENESIS.encode() + b'","seq":1,'
    b'"target":{"apple_id":"ABCDE12345","apple_type":"apiKeys","custody_id":"0123456789abcdef0123456789abcdef"},'
    b'"tenant":"acme","time":"2026-01-02T03:04:05.678Z","v":1}\n'
)
KNOWN_CHECKPOINT_HASH = "e12987bdb4eeff769bd163cb103638dfae8ac30d3cdbd7b505ffd79e50fe83a6"
KNOWN_HASH = "6e4bae2f0d5207d7d1b80215b0f1a67cca00ea38329bfeb3babcb7259ee5c542"


def test_known_answer_vector() -> None:
    record, line = seal(KNOWN_EVENT, seq=1, prev_hash=GENESIS, time="2026-01-02T03:04:05.678Z")
    assert record.hash == KNOWN_HASH
    assert line == KNOWN_LINE % KNOWN_HASH.encode()


def test_hash_is_sha256_of_domain_and_canonical_body_without_hash() -> None:
    record, line = seal(KNOWN_EVENT, seq=1, prev_hash=GENESIS, time="2026-01-02T03:04:05.678Z")
    body = line.replace(b'"hash":"' + record.hash.encode() + b'",', b"").rstrip(b"\n")
    assert hashlib.sha256(DOMAIN + body).hexdigest() == record.hash


def test_each_line_chains_to_the_previous_hash() -> None:
    first, _ = seal(KNOWN_EVENT, seq=1, prev_hash=GENESIS, time="2026-01-02T03:04:05.678Z")
    second, _ = seal(KNOWN_EVENT, seq=2, prev_hash=first.hash, time="2026-01-02T03:04:05.679Z")
    assert second.prev_hash == first.hash
    other, _ = seal(KNOWN_EVENT, seq=2, prev_hash="1" * 64, time="2026-01-02T03:04:05.679Z")
    assert other.hash != second.hash


def test_parsed_record_reproduces_its_line_and_hash() -> None:
    record, line = seal(KNOWN_EVENT, seq=1, prev_hash=GENESIS, time="2026-01-02T03:04:05.678Z")
    assert line_of(record) == line
    assert recompute(record) == record.hash


def test_canonical_json_sorts_keys_and_drops_whitespace() -> None:
    assert canonical({"b": 1, "a": {"d": [1, 2], "c": "x"}}) == b'{"a":{"c":"x","d":[1,2]},"b":1}'


def test_checkpoint_known_answer_vector() -> None:
    key = ServiceKey(
        Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    )  # Ed25519 signs deterministically
    checkpoint = sign_checkpoint(
        key, n=1, size=1, head=KNOWN_HASH, time="2026-01-02T03:04:05.678Z", reason="run-end", prev=GENESIS
    )
    assert checkpoint.signed_bytes() == CHECKPOINT_DOMAIN + (
        b'{"head":"%s","key":"%s","n":1,"prev":"%s","reason":"run-end","size":1,'
        b'"time":"2026-01-02T03:04:05.678Z","v":1}'
        % (KNOWN_HASH.encode(), key.fingerprint.encode(), GENESIS.encode())
    )
    assert checkpoint.line_hash() == KNOWN_CHECKPOINT_HASH
    assert checkpoint.signature_valid(key.public)
