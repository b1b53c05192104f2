"""Strict key loading: every way a customer's upload can be wrong gets its own message (keys made at run time)."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import pickle

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from ascflow.connect.keys import MAX_P8_BYTES, ApiKey, InvalidCredentialsInput
from tests.fixtures.keys import BEGIN, END, CustomerKey

PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER
PKCS8 = serialization.PrivateFormat.PKCS8
SEC1 = serialization.PrivateFormat.TraditionalOpenSSL
PLAIN = serialization.NoEncryption()


def load(customer_key: CustomerKey, p8: str | bytes, **overrides: str) -> ApiKey:
    args = {"key_id": customer_key.key_id, "issuer_id": customer_key.issuer_id, **overrides}
    return ApiKey.from_p8(p8, **args)


def rejected(customer_key: CustomerKey, p8: str | bytes, **overrides: str) -> InvalidCredentialsInput:
    with pytest.raises(InvalidCredentialsInput) as caught:
        load(customer_key, p8, **overrides)
    return caught.value


def body_of(pem: str) -> str:
    return "".join(pem.strip().splitlines()[1:-1])


def self_signed(private: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(private, hashes.SHA256())
    )


# -- accepted forms ----------------------------------------------------------------------------------------------


def test_apple_p8_loads_and_exposes_only_public_facts(customer_key: CustomerKey) -> None:
    key = load(customer_key, customer_key.p8, filename=customer_key.filename)
    assert (key.key_id, key.issuer_id) == (customer_key.key_id, customer_key.issuer_id)
    assert key.public_key_pem == customer_key.public_pem
    spki = serialization.load_pem_public_key(customer_key.public_pem.encode()).public_bytes(
        DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert key.fingerprint == hashlib.sha256(spki).hexdigest()


@pytest.mark.parametrize(
    "transform",
    [
        lambda p8: p8.replace("\n", "\r\n"),
        lambda p8: p8.rstrip("\n"),
        lambda p8: "\n" + p8 + "\n\n",
        lambda p8: p8.encode(),
        lambda p8: body_of(p8),
        lambda p8: "\n".join(p8.strip().splitlines()[1:-1]),
    ],
    ids=["crlf", "no-trailing-newline", "blank-lines-around", "bytes", "bare-base64", "bare-base64-lines"],
)
def test_accepted_forms_give_the_same_key(customer_key: CustomerKey, transform) -> None:
    key = load(customer_key, transform(customer_key.p8))
    assert key.public_key_pem == customer_key.public_pem


def test_the_key_signs_tokens_that_its_public_half_verifies(customer_key: CustomerKey) -> None:
    token = load(customer_key, customer_key.p8).sign_jwt({"aud": "appstoreconnect-v1", "iss": "me"})
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": customer_key.key_id, "typ": "JWT"}
    assert jwt.decode(token, customer_key.public_pem, algorithms=["ES256"], audience="appstoreconnect-v1")


# -- rejected key files ------------------------------------------------------------------------------------------


def other_key_pems() -> dict[str, str]:
    p256 = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")]))
        .sign(p256, hashes.SHA256())
    )
    return {
        "encrypted": p256.private_bytes(PEM, PKCS8, serialization.BestAvailableEncryption(b"pw")).decode(),
        "rsa-pkcs8": rsa_key.private_bytes(PEM, PKCS8, PLAIN).decode(),
        "rsa-traditional": rsa_key.private_bytes(PEM, SEC1, PLAIN).decode(),
        "ed25519": ed25519.Ed25519PrivateKey.generate().private_bytes(PEM, PKCS8, PLAIN).decode(),
        "p384": ec.generate_private_key(ec.SECP384R1()).private_bytes(PEM, PKCS8, PLAIN).decode(),
        "sec1": p256.private_bytes(PEM, SEC1, PLAIN).decode(),
        "certificate": self_signed(p256).public_bytes(PEM).decode(),
        "csr": csr.public_bytes(PEM).decode(),
        "public-key": p256.public_key()
        .public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
        "sec1-relabelled": f"{BEGIN}\n"
        + body_of(p256.private_bytes(PEM, SEC1, PLAIN).decode())
        + f"\n{END}\n",
        "encrypted-bare-base64": body_of(
            p256.private_bytes(PEM, PKCS8, serialization.BestAvailableEncryption(b"pw")).decode()
        ),
    }


OTHER_KEYS = other_key_pems()

KEY_FILE_CASES = {
    # name: (make the upload from the good .p8, words the problem must contain)
    "junk-before": (lambda p8: "Here is my key:\n" + p8, "extra text before"),
    "junk-after": (lambda p8: p8 + "thanks!\n", "extra text after"),
    "two-blocks": (lambda p8: p8 + p8, "2 PEM blocks"),
    "encrypted": (lambda p8: OTHER_KEYS["encrypted"], "password-encrypted"),
    "encrypted-bare-base64": (lambda p8: OTHER_KEYS["encrypted-bare-base64"], "password-encrypted"),
    "rsa-pkcs8": (lambda p8: OTHER_KEYS["rsa-pkcs8"], "RSA key"),
    "rsa-traditional": (lambda p8: OTHER_KEYS["rsa-traditional"], "RSA private key"),
    "ed25519": (lambda p8: OTHER_KEYS["ed25519"], "Edwards-curve"),
    "p384": (lambda p8: OTHER_KEYS["p384"], "secp384r1"),
    "sec1": (lambda p8: OTHER_KEYS["sec1"], "SEC1 'EC PRIVATE KEY'"),
    "sec1-relabelled": (lambda p8: OTHER_KEYS["sec1-relabelled"], "SEC1 EC key under a PKCS#8 label"),
    "certificate": (lambda p8: OTHER_KEYS["certificate"], "is a certificate"),
    "csr": (lambda p8: OTHER_KEYS["csr"], "certificate signing request"),
    "public-key": (lambda p8: OTHER_KEYS["public-key"], "is a public key"),
    "empty": (lambda p8: "", "is empty"),
    "whitespace": (lambda p8: " \n\r\n", "is empty"),
    "binary-der": (lambda p8: base64.b64decode(body_of(p8)), "binary"),
    "nul-byte": (lambda p8: p8.replace("\n", "\x00", 1), "binary"),
    "non-ascii": (lambda p8: p8.replace("-----BEGIN", "–----BEGIN"), "non-ASCII"),
    "utf8-bom": (lambda p8: b"\xef\xbb\xbf" + p8.encode(), "byte-order mark"),
    "newlines-stripped": (lambda p8: p8.replace("\n", ""), "lost its line breaks"),
    "newlines-to-spaces": (lambda p8: p8.replace("\n", " "), "lost its line breaks"),
    "truncated-body": (lambda p8: p8.replace(body_of(p8)[-30:], "", 1), "not valid base64"),
    "damaged-body": (lambda p8: p8.replace(body_of(p8)[10:14], "!!!!", 1), "damaged PEM block"),
    "no-end-line": (lambda p8: p8.replace("-----END PRIVATE KEY-----", ""), "damaged PEM block"),
    "too-large": (lambda p8: p8 + "\n" * MAX_P8_BYTES, "larger than"),
    "base64-of-the-file": (lambda p8: base64.b64encode(p8.encode()).decode(), "base64-encoded once more"),
    "garbage-text": (lambda p8: "hello world, not a key", "neither a PEM"),
    "garbage-base64": (lambda p8: base64.b64encode(b"not a key at all").decode(), "readable private key"),
}


@pytest.mark.parametrize("case", KEY_FILE_CASES, ids=list(KEY_FILE_CASES))
def test_each_bad_key_file_gets_its_own_message(customer_key: CustomerKey, case: str) -> None:
    make, words = KEY_FILE_CASES[case]
    upload = make(customer_key.p8)
    error = rejected(customer_key, upload)
    assert error.field == "p8"
    assert words in error.problem
    assert error.remedy
    assert str(error) == f"p8: {error.problem}. {error.remedy}"
    # The message must never echo the key material it rejected.
    for secret in (body_of(customer_key.p8)[:24], body_of(customer_key.p8)[-24:]):
        assert secret not in str(error)


def test_rejection_messages_are_distinct_per_kind(customer_key: CustomerKey) -> None:
    distinct_kinds = [
        "junk-before",
        "two-blocks",
        "encrypted",
        "rsa-pkcs8",
        "ed25519",
        "p384",
        "sec1",
        "certificate",
        "csr",
        "public-key",
        "empty",
        "binary-der",
        "newlines-stripped",
    ]
    problems = {rejected(customer_key, KEY_FILE_CASES[k][0](customer_key.p8)).problem for k in distinct_kinds}
    assert len(problems) == len(distinct_kinds)


# -- identifiers -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key_id", ["", "ABC123", "ABCDEFGHIJK", "abcdefghij", "ABCDE-GHIJ", "ＡBCDEFGHIJ", "ABCDEFGHI\n"]
)
def test_bad_key_ids_are_rejected(customer_key: CustomerKey, key_id: str) -> None:
    error = rejected(customer_key, customer_key.p8, key_id=key_id)
    assert error.field == "key_id"
    assert "10 characters" in error.problem
    assert "Users and Access" in error.remedy


@pytest.mark.parametrize(
    "issuer_id",
    [
        "",
        "not-a-uuid",
        "57246542-96fe-1a63-e053-0824d011072",
        "57246542-96fe-1a63-e053-0824d011072a-1",
        "{57246542-96fe-1a63-e053-0824d011072a}",
        "5724654296fe1a63e0530824d011072a",
    ],
)
def test_bad_issuer_ids_are_rejected(customer_key: CustomerKey, issuer_id: str) -> None:
    error = rejected(customer_key, customer_key.p8, issuer_id=issuer_id)
    assert error.field == "issuer_id"
    assert "UUID" in error.problem


def test_apple_style_issuer_id_is_accepted(customer_key: CustomerKey) -> None:
    assert load(customer_key, customer_key.p8, issuer_id="57246542-96fe-1a63-e053-0824d011072a")


@pytest.mark.parametrize(
    ("filename", "words"),
    [
        ("../AuthKey_{kid}.p8", "path separator"),
        ("dir\\AuthKey_{kid}.p8", "path separator"),
        ("AuthKey_{kid}.p8\x00.txt", "path separator, NUL"),
        ("AuthKey_{kid}.p8‮", "non-ASCII"),
        ("ＡuthKey_{kid}.p8", "non-ASCII"),
        ("AuthKey_{kid}.P8", "not of the form"),
        ("authkey_{kid}.p8", "not of the form"),
        ("AuthKey_{kid}.p8.txt", "not of the form"),
        ("AuthKey_{kid} (1).p8", "not of the form"),
        ("AuthKey_ZZZZZZZZZZ.p8", "different key ID"),
    ],
)
def test_bad_filenames_are_rejected(customer_key: CustomerKey, filename: str, words: str) -> None:
    error = rejected(customer_key, customer_key.p8, filename=filename.format(kid=customer_key.key_id))
    assert error.field == "filename"
    assert words in error.problem
    assert "AuthKey_<KEYID>.p8" in str(error) or "Key ID" in str(error)


# -- the secret stays inside -------------------------------------------------------------------------------------


def test_the_key_never_reveals_its_secret(customer_key: CustomerKey) -> None:
    key = load(customer_key, customer_key.p8)
    secret_body = body_of(customer_key.p8)
    private_value = serialization.load_pem_private_key(customer_key.p8.encode(), None)
    assert isinstance(private_value, ec.EllipticCurvePrivateKey)
    scalar = str(private_value.private_numbers().private_value)
    for shown in (repr(key), str(key), f"{key}", repr([key])):
        assert customer_key.key_id in shown
        assert secret_body[:20] not in shown
        assert scalar not in shown
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        copy.deepcopy(key)
    assert not hasattr(key, "__dict__")


def test_errors_about_keys_pickle_and_keep_their_fields(customer_key: CustomerKey) -> None:
    error = rejected(customer_key, customer_key.p8, key_id="short")
    copy_ = pickle.loads(pickle.dumps(error))
    assert (copy_.field, copy_.problem, copy_.remedy, str(copy_)) == (
        error.field,
        error.problem,
        error.remedy,
        str(error),
    )
    assert isinstance(copy_, ValueError)
