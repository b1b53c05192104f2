"""The service's Ed25519 key: it signs audit checkpoints and deletion receipts.

The private key lives in a file of its own (0600, in a 0700 directory) outside the log it vouches for, so
whoever can rewrite the log still cannot forge a checkpoint.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class ServiceKeyError(Exception):
    """A key file that cannot be used; the message names the file and what to do."""


class ServicePublicKey:
    """The verifying half: all an auditor needs."""

    def __init__(self, key: Ed25519PublicKey) -> None:
        self._key = key

    @classmethod
    def from_pem(cls, pem: str | bytes) -> ServicePublicKey:
        data = pem.encode() if isinstance(pem, str) else pem
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError as exc:
            raise ServiceKeyError(
                "not a PEM public key: pass the file `ascflow audit public-key` printed"
            ) from exc
        if not isinstance(key, Ed25519PublicKey):
            raise ServiceKeyError("the public key is not Ed25519: pass the service's audit public key")
        return cls(key)

    @property
    def pem(self) -> str:
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    @property
    def fingerprint(self) -> str:
        """SHA-256 (hex) of the DER SubjectPublicKeyInfo."""
        der = self._key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(der).hexdigest()

    def verify(self, data: bytes, signature: str) -> bool:
        """True when `signature` (base64, as `ServiceKey.sign` returns it) signs `data` with this key."""
        try:
            self._key.verify(base64.b64decode(signature, validate=True), data)
        except (InvalidSignature, ValueError):
            return False
        return True


class ServiceKey:
    """The signing half. Its repr never shows key material."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public = ServicePublicKey(key.public_key())

    def __repr__(self) -> str:
        return f"ServiceKey(fingerprint={self.fingerprint[:16]}…)"

    @classmethod
    def generate(cls) -> ServiceKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: Path) -> ServiceKey:
        """Load the key at `path`, or create it (0600; parent 0700). Safe when several processes race."""
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(pem)
                    out.flush()
                    os.fsync(out.fileno())
                # link() fails if another process got there first; then theirs is the key.
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
        return cls.load(path)

    @classmethod
    def load(cls, path: Path) -> ServiceKey:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ServiceKeyError(f"{path} is readable by others (mode {mode:o}): run `chmod 600 {path}`")
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except ValueError:
            raise ServiceKeyError(f"{path} is not a PEM private key: restore it from backup") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ServiceKeyError(f"{path} is not an Ed25519 key: restore the service key from backup")
        return cls(key)

    @property
    def fingerprint(self) -> str:
        return self.public.fingerprint

    def sign(self, data: bytes) -> str:
        """Ed25519 signature of `data`, base64."""
        return base64.b64encode(self._key.sign(data)).decode()
