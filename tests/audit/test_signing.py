"""The service's Ed25519 key: created once with owner-only modes, signs and verifies, never shows itself."""

from __future__ import annotations

import hashlib
import stat
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from ascflow.audit import ServiceKey, ServicePublicKey
from ascflow.audit.signing import ServiceKeyError


def test_load_or_create_makes_one_owner_only_key_and_reloads_it(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "service.pem"
    created = ServiceKey.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert ServiceKey.load_or_create(path).fingerprint == created.fingerprint
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_racing_creators_end_with_one_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "service.pem"
    barrier = threading.Barrier(8)
    fingerprints: list[str] = []

    def create() -> None:
        barrier.wait()
        fingerprints.append(ServiceKey.load_or_create(path).fingerprint)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fingerprints) == 8
    assert len(set(fingerprints)) == 1
    assert fingerprints[0] == ServiceKey.load(path).fingerprint


def test_sign_and_verify(service_key: ServiceKey) -> None:
    signature = service_key.sign(b"receipt")
    assert service_key.public.verify(b"receipt", signature)
    assert not service_key.public.verify(b"receipt!", signature)
    assert not ServiceKey.generate().public.verify(b"receipt", signature)
    assert not service_key.public.verify(b"receipt", "not base64")


def test_public_key_round_trips_through_pem(service_key: ServiceKey) -> None:
    public = ServicePublicKey.from_pem(service_key.public.pem)
    assert public.fingerprint == service_key.fingerprint
    assert public.verify(b"x", service_key.sign(b"x"))
    der = serialization.load_pem_public_key(service_key.public.pem.encode()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert service_key.fingerprint == hashlib.sha256(der).hexdigest()


def test_key_material_stays_out_of_repr(tmp_path: Path) -> None:
    path = tmp_path / "service.pem"
    key = ServiceKey.load_or_create(path)
    body = "".join(line for line in path.read_text().splitlines() if not line.startswith("-----"))
    assert body not in repr(key)
    assert body[:16] not in repr(key)
    assert key.fingerprint[:16] in repr(key)


def test_refuses_a_key_file_others_can_read(tmp_path: Path) -> None:
    path = tmp_path / "service.pem"
    ServiceKey.load_or_create(path)
    path.chmod(0o644)
    with pytest.raises(ServiceKeyError, match="chmod 600"):
        ServiceKey.load(path)


def test_refuses_keys_of_the_wrong_kind(tmp_path: Path, customer_key) -> None:
    path = tmp_path / "ec.pem"
    path.write_text(customer_key.p8)
    path.chmod(0o600)
    with pytest.raises(ServiceKeyError, match="not an Ed25519 key"):
        ServiceKey.load(path)
    with pytest.raises(ServiceKeyError, match="not Ed25519"):
        ServicePublicKey.from_pem(customer_key.public_pem)
    with pytest.raises(ServiceKeyError, match="not a PEM public key"):
        ServicePublicKey.from_pem("hello")
