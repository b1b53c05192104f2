"""Envelope encryption: a fresh AES-256-GCM data key per record, wrapped by a key-encryption key.

The record's public header (ID, kind, tenant, key ID, fingerprint, times) is the associated data of the body
and the context of the wrapped data key, so a body moved under another header, or a header edited in place,
fails to decrypt.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, ValidationError

from ascflow.custody.errors import RecordTampered
from ascflow.custody.records import RecordInfo

NONCE_BYTES = 12


class KeyEncryptionKey(Protocol):
    name: str

    def new_data_key(self, context: dict[str, str]) -> tuple[bytes, bytes]:
        """A fresh 256-bit data key as (plaintext, wrapped); the wrapped form is bound to `context`."""
        ...

    def unwrap(self, wrapped: bytes, context: dict[str, str]) -> bytes: ...


def canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


class Envelope(BaseModel):
    """The stored form of a record. Only the header is readable without the key-encryption key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: int = 1
    header: RecordInfo
    kek: str
    wrapped_key: str
    nonce: str
    ciphertext: str

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, data: bytes, custody_id: str) -> Envelope:
        try:
            envelope = cls.model_validate_json(data)
        except ValidationError:
            raise RecordTampered(custody_id) from None
        if envelope.header.id != custody_id:
            raise RecordTampered(custody_id)
        return envelope


def seal(header: RecordInfo, body: bytes, kek: KeyEncryptionKey) -> Envelope:
    context = header.context()
    data_key, wrapped = kek.new_data_key(context)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(nonce, body, canonical(context))
    return Envelope(
        header=header,
        kek=kek.name,
        wrapped_key=base64.b64encode(wrapped).decode(),
        nonce=base64.b64encode(nonce).decode(),
        ciphertext=base64.b64encode(ciphertext).decode(),
    )


def unseal(envelope: Envelope, kek: KeyEncryptionKey) -> bytes:
    context = envelope.header.context()
    if envelope.kek != kek.name:
        raise RecordTampered(envelope.header.id)
    data_key = kek.unwrap(base64.b64decode(envelope.wrapped_key), context)
    try:
        return AESGCM(data_key).decrypt(
            base64.b64decode(envelope.nonce), base64.b64decode(envelope.ciphertext), canonical(context)
        )
    except InvalidTag:
        raise RecordTampered(envelope.header.id) from None
