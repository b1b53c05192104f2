"""Negative control for the canary scanner: a planted key is found in every encoding it might leak in."""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from pathlib import Path

import cloudpickle  # type: ignore[import-untyped]
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.fixtures.canary import Canary, CanaryKey
from tests.fixtures.keys import make_customer_key


def plantings(pem: str) -> dict[str, bytes]:
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    scalar = private.private_numbers().private_value.to_bytes(32, "big")
    body = "".join(pem.strip().splitlines()[1:-1])
    pickled = cloudpickle.dumps({"result": {"p8": pem, "key_id": "ABC"}})
    return {
        "raw.pem": pem.encode(),
        "repr.log": f"Credentials(p8={pem!r})".encode(),
        "json.json": json.dumps({"p8": pem}).encode(),
        "crlf.pem": pem.replace("\n", "\r\n").encode(),
        "one-line.txt": f"key={body};".encode(),
        "b64-offset-0.txt": base64.b64encode(pem.encode()),
        "b64-offset-1.txt": base64.b64encode(b"x" + pem.encode()),
        "b64-offset-2.txt": base64.b64encode(b"xy" + pem.encode()),
        "mime-wrapped.txt": base64.encodebytes(pem.encode()),
        "result.json": json.dumps(
            {"encoding": "cloudpickle", "blob": base64.b64encode(pickled).decode()}
        ).encode(),
        "url.txt": urllib.parse.quote(pem, safe="").encode(),
        "form.txt": urllib.parse.urlencode({"p8": pem}).encode(),
        "hex-der.txt": binascii.hexlify(der),
        "HEX-der.txt": binascii.hexlify(der).upper(),
        "hex-scalar.txt": scalar.hex().encode(),
        "scalar.bin": b"\x00" * 7 + scalar + b"\xff" * 5,
        "der.bin": b"prefix" + der,
    }


def test_the_scanner_finds_a_planted_canary_in_every_encoding(tmp_path: Path, canary_key: CanaryKey) -> None:
    planted = plantings(canary_key.key.p8)
    for name, data in planted.items():
        (tmp_path / name).write_bytes(data)
    findings = canary_key.scanner.scan_tree(tmp_path)
    assert {Path(f.where).name for f in findings} == set(planted)
    # It says where and how, never what.
    needles = [needle for _, needle in canary_key.scanner.needles]
    assert not any(needle in str(f).encode() for f in findings for needle in needles)


def test_the_scanner_finds_nothing_of_another_key(tmp_path: Path, canary_key: CanaryKey) -> None:
    for name, data in plantings(make_customer_key().p8).items():
        (tmp_path / name).write_bytes(data)
    assert canary_key.scanner.scan_tree(tmp_path) == []


@pytest.mark.parametrize("windows", [1, 6])
def test_needles_never_include_the_prefix_every_p256_key_shares(windows: int) -> None:
    one, other = make_customer_key(), make_customer_key()
    scanner = Canary.from_pem(one.p8, windows=windows)
    assert scanner.scan_text(other.p8, "another key") == []
    assert {"base64 body", "hex of the private scalar", "base64 of the PEM (offset 2)"} <= scanner.encodings
    assert scanner.scan_strings([("stdout", one.p8), ("bytes", b"nothing")]) != []
