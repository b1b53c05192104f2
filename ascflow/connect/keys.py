"""Strict loading of an App Store Connect API key (`AuthKey_<KEYID>.p8`) and its identifiers.

cryptography's PEM loader is lenient (it accepts junk around the block, several blocks, SEC1, other
curves), so the PEM framing is checked here first and the DER is checked to be PKCS#8 for an EC P-256 key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid
from collections.abc import Mapping
from typing import Any, Literal, NoReturn

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from ascflow.errors import OperatorError

Field = Literal["p8", "key_id", "issuer_id", "filename"]

# Real keys: Apple P-256 .p8 is ~260 bytes, RSA-2048 PKCS#8 ~1.7 KB. The cap leaves room for the wrong key
# types to reach their specific message while refusing anything that cannot be a key file.
MAX_P8_BYTES = 16 * 1024

# PKCS#8 PrivateKeyInfo after the outer SEQUENCE header:
# version 0, AlgorithmIdentifier {ecPublicKey, prime256v1}.
_PKCS8_EC_P256 = bytes.fromhex("020100301306072a8648ce3d020106082a8648ce3d030107")

_KEY_ID = re.compile(r"[A-Z0-9]{10}", re.ASCII)
_FILENAME = re.compile(r"AuthKey_([A-Z0-9]{10})\.p8", re.ASCII)
_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\n([A-Za-z0-9+/=\n]+?)\n?-----END \1-----")
_BASE64_BODY = re.compile(r"[A-Za-z0-9+/=\n]+")

_DOWNLOAD_AGAIN = (
    "Upload the AuthKey_<KEYID>.p8 file exactly as downloaded from App Store Connect (Users and Access > "
    "Integrations); if it is lost, revoke that key and generate a new one."
)
_WRONG_LABELS = {
    "ENCRYPTED PRIVATE KEY": (
        "is a password-encrypted private key; Apple's .p8 files are never encrypted",
        _DOWNLOAD_AGAIN,
    ),
    "EC PRIVATE KEY": (
        "is an SEC1 'EC PRIVATE KEY', not the PKCS#8 'PRIVATE KEY' Apple issues (it was converted)",
        _DOWNLOAD_AGAIN,
    ),
    "RSA PRIVATE KEY": (
        "is an RSA private key, not an App Store Connect API key (EC P-256)",
        _DOWNLOAD_AGAIN,
    ),
    "CERTIFICATE": (
        "is a certificate, not a private key",
        "Upload the API key (.p8) from App Store Connect > Users and Access > Integrations, "
        "not a certificate.",
    ),
    "CERTIFICATE REQUEST": (
        "is a certificate signing request, not a private key",
        "Upload the API key (.p8) from App Store Connect > Users and Access > Integrations, not a CSR.",
    ),
    "PUBLIC KEY": (
        "is a public key; the private key is needed",
        "Upload the AuthKey_<KEYID>.p8 file itself, as downloaded from App Store Connect.",
    ),
}
_WRONG_LABELS["NEW CERTIFICATE REQUEST"] = _WRONG_LABELS["CERTIFICATE REQUEST"]
_WRONG_LABELS["EC PUBLIC KEY"] = _WRONG_LABELS["RSA PUBLIC KEY"] = _WRONG_LABELS["PUBLIC KEY"]


class InvalidCredentialsInput(OperatorError, ValueError):
    """A key, key ID, issuer ID or filename that cannot be a working App Store Connect API key.

    The message never holds the rejected value: it may be (part of) a secret.
    """

    def __init__(self, field: Field, problem: str, remedy: str) -> None:
        self.field = field
        self.problem = problem
        self.remedy = remedy
        super().__init__(f"{field}: {problem}", next_step=remedy)

    def _message(self) -> str:
        return f"{self.field}: {self.problem}. {self.remedy}"


def _reject_p8(problem: str, remedy: str = _DOWNLOAD_AGAIN) -> NoReturn:
    raise InvalidCredentialsInput("p8", f"the key file {problem}", remedy)


class ApiKey:
    """A validated team API key. Its private half is reachable only through `sign_jwt`."""

    __slots__ = ("_private", "fingerprint", "issuer_id", "key_id", "public_key_pem")

    def __init__(self, private: ec.EllipticCurvePrivateKey, *, key_id: str, issuer_id: str) -> None:
        self._private = private
        self.key_id = key_id
        self.issuer_id = issuer_id
        public = private.public_key()
        spki = public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.fingerprint = hashlib.sha256(spki).hexdigest()
        self.public_key_pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    @classmethod
    def from_p8(cls, p8: str | bytes, *, key_id: str, issuer_id: str, filename: str | None = None) -> ApiKey:
        """Load a key strictly; raise `InvalidCredentialsInput` naming the field, problem and remedy."""
        check_key_id(key_id)
        check_issuer_id(issuer_id)
        if filename is not None:
            check_filename(filename, key_id)
        key = cls(_load_p8(p8), key_id=key_id, issuer_id=issuer_id)
        key._prove_usable()
        return key

    def sign_jwt(self, claims: Mapping[str, Any]) -> str:
        """An ES256 JWT with header alg/kid/typ over `claims` (the token manager chooses the claims)."""
        return jwt.encode(
            dict(claims), self._private, algorithm="ES256", headers={"kid": self.key_id, "typ": "JWT"}
        )

    def _prove_usable(self) -> None:
        token = self.sign_jwt({"aud": "ascflow-self-check"})
        jwt.decode(token, self.public_key_pem, algorithms=["ES256"], audience="ascflow-self-check")

    def __repr__(self) -> str:
        return f"ApiKey(key_id={self.key_id!r}, fingerprint={self.fingerprint[:16]!r})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("ApiKey holds a private key and cannot be pickled or copied; keep it in custody")


def check_key_id(key_id: str) -> None:
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        length = len(key_id) if isinstance(key_id, str) else 0
        raise InvalidCredentialsInput(
            "key_id",
            f"must be exactly 10 characters A-Z or 0-9 (got {length} characters, or other characters)",
            "Copy the Key ID shown next to the key in App Store Connect > Users and Access > Integrations.",
        )


def check_issuer_id(issuer_id: str) -> None:
    try:
        parsed = uuid.UUID(issuer_id) if isinstance(issuer_id, str) else None
    except ValueError:
        parsed = None
    if parsed is None or str(parsed) != issuer_id.lower() or len(issuer_id) != 36:
        raise InvalidCredentialsInput(
            "issuer_id",
            "must be a UUID such as 57246542-96fe-1a63-e053-0824d011072a",
            "Copy the Issuer ID shown above the key list in App Store Connect > Users and Access > "
            "Integrations.",
        )


def check_filename(filename: str, key_id: str) -> None:
    """The uploaded file's name is only a hint: it must look like Apple's and agree with the key ID."""
    if any(c in filename for c in "/\\\x00") or not filename.isascii():
        raise InvalidCredentialsInput(
            "filename",
            "contains a path separator, NUL or non-ASCII character",
            "Upload the file under the name Apple gave it: AuthKey_<KEYID>.p8.",
        )
    match = _FILENAME.fullmatch(filename)
    if match is None:
        raise InvalidCredentialsInput(
            "filename",
            "is not of the form AuthKey_<KEYID>.p8 (10 characters A-Z or 0-9)",
            "Upload the file under the name Apple gave it: AuthKey_<KEYID>.p8.",
        )
    if match.group(1) != key_id:
        raise InvalidCredentialsInput(
            "filename",
            "names a different key ID than the one entered",
            "Check that the Key ID entered belongs to this file (Apple puts it in the file name).",
        )


def _load_p8(p8: str | bytes) -> ec.EllipticCurvePrivateKey:
    return _load_der(_der_from_text(_text_from_input(p8)))


def _text_from_input(p8: str | bytes) -> str:
    raw = p8.encode("utf-8", "surrogateescape") if isinstance(p8, str) else bytes(p8)
    if not raw.strip():
        _reject_p8("is empty")
    if len(raw) > MAX_P8_BYTES:
        _reject_p8(f"is larger than {MAX_P8_BYTES} bytes, far more than any API key")
    if raw.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        _reject_p8(
            "starts with a byte-order mark (it was re-saved by an editor)",
            "Upload the original file; if you must edit it, save it as plain ASCII without a BOM.",
        )
    if b"\x00" in raw or not raw.isascii():
        _reject_p8("is binary or contains non-ASCII bytes; a .p8 file is ASCII text")
    # Surrounding whitespace is harmless; anything else around the block is rejected below.
    return raw.decode("ascii").replace("\r\n", "\n").strip()


def _der_from_text(text: str) -> bytes:
    labels = _BEGIN.findall(text)
    if not labels:
        return _der_from_bare_base64(text)
    if len(labels) > 1:
        _reject_p8(f"holds {len(labels)} PEM blocks; it must hold exactly one 'PRIVATE KEY' block")
    label = labels[0]
    if label != "PRIVATE KEY":
        problem, remedy = _WRONG_LABELS.get(
            label, (f"holds a '{label}' block, not a 'PRIVATE KEY'", _DOWNLOAD_AGAIN)
        )
        _reject_p8(problem, remedy)
    if "\n" not in text:
        _reject_p8(
            "has lost its line breaks (the whole key is on one line)",
            "Upload the .p8 file itself rather than pasting its text (pasting loses line breaks).",
        )
    block = _PEM_BLOCK.search(text)
    if block is None:
        _reject_p8("has a damaged PEM block (bad lines between BEGIN and END, or no matching END line)")
    if block.start() != 0 or block.end() != len(text):
        where = "before" if block.start() != 0 else "after"
        _reject_p8(
            f"has extra text {where} the PEM block",
            "Upload the file exactly as downloaded: nothing but the BEGIN/END PRIVATE KEY block.",
        )
    return _decode_base64(block.group(2))


def _der_from_bare_base64(text: str) -> bytes:
    if not _BASE64_BODY.fullmatch(text):
        _reject_p8("is neither a PEM 'PRIVATE KEY' block nor the base64 body of one")
    der = _decode_base64(text)
    if der.startswith(b"-----BEGIN"):
        _reject_p8(
            "is the .p8 file base64-encoded once more",
            "Decode it once (base64 -d) and upload the resulting AuthKey_<KEYID>.p8 text.",
        )
    return der


def _decode_base64(body: str) -> bytes:
    try:
        return base64.b64decode(body.replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        _reject_p8("has a body that is not valid base64 (it was truncated or edited)")


def _load_der(der: bytes) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_der_private_key(der, password=None)
    except TypeError:
        # cryptography signals a password-protected PKCS#8 this way.
        _reject_p8("is a password-encrypted private key; Apple's .p8 files are never encrypted")
    except (ValueError, UnsupportedAlgorithm):
        _reject_p8("does not contain a readable private key (it is damaged, or another kind of file)")
    if isinstance(key, rsa.RSAPrivateKey):
        _reject_p8("holds an RSA key; App Store Connect API keys are EC P-256")
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        _reject_p8("holds an Edwards-curve (Ed25519/Ed448) key; App Store Connect API keys are EC P-256")
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        _reject_p8("holds a key of a type App Store Connect does not use; API keys are EC P-256")
    if not isinstance(key.curve, ec.SECP256R1):
        _reject_p8(f"holds an EC key on {key.curve.name}; App Store Connect API keys are on P-256")
    if _strip_sequence_header(der)[: len(_PKCS8_EC_P256)] != _PKCS8_EC_P256:
        _reject_p8("holds an SEC1 EC key under a PKCS#8 label (it was converted), not Apple's PKCS#8 key")
    return key


def _strip_sequence_header(der: bytes) -> bytes:
    """The contents of the outer DER SEQUENCE (short or long length form)."""
    if len(der) < 2 or der[0] != 0x30:
        return b""
    if der[1] < 0x80:
        return der[2:]
    return der[2 + (der[1] & 0x7F) :]
