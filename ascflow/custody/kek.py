"""Key-encryption keys wrap each record's data key: a local key file (default); AWS KMS is in `aws.py`."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ascflow.custody.envelope import canonical
from ascflow.custody.errors import KekUnusable, RecordTampered
from ascflow.custody.files import ensure_private_dir, write_new_file

NONCE_BYTES = 12
KEY_BYTES = 32


class LocalKek:
    """A 256-bit key in a file created 0600 on first use (in a 0700 directory)."""

    name = "local"

    def __init__(self, path: Path) -> None:
        self.path = path

    def _key(self) -> bytes:
        if not self.path.exists():
            ensure_private_dir(self.path.parent)
            # Two processes may race to create it: exactly one link wins, and both then read the winner.
            write_new_file(self.path, secrets.token_bytes(KEY_BYTES))
        if self.path.stat().st_mode & 0o077:
            raise KekUnusable()
        key = self.path.read_bytes()
        if len(key) != KEY_BYTES:
            raise KekUnusable()
        return key

    def new_data_key(self, context: dict[str, str]) -> tuple[bytes, bytes]:
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_BYTES)
        wrapped = nonce + AESGCM(self._key()).encrypt(nonce, data_key, canonical(context))
        return data_key, wrapped

    def unwrap(self, wrapped: bytes, context: dict[str, str]) -> bytes:
        try:
            return AESGCM(self._key()).decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], canonical(context)
            )
        except InvalidTag:
            raise RecordTampered(context.get("custody_id")) from None
