"""Log records shaped like key material are scrubbed whoever logs them."""

from __future__ import annotations

import base64
import logging

import jwt
import pytest

from ascflow import redaction
from tests.fixtures.keys import CustomerKey


@pytest.fixture(autouse=True)
def installed():
    redaction.install()


def body_of(pem: str) -> str:
    return "".join(line for line in pem.splitlines() if not line.startswith("-----"))


@pytest.mark.parametrize(
    "form",
    [
        lambda k: k.p8,
        lambda k: repr(k.p8),
        lambda k: k.p8.replace("\n", "\r\n"),
        lambda k: body_of(k.p8),
        lambda k: jwt.encode({"iss": k.issuer_id}, k.p8, algorithm="ES256", headers={"kid": k.key_id}),
    ],
    ids=["pem", "repr", "crlf", "bare-body", "jwt"],
)
def test_key_material_never_reaches_a_handler(customer_key: CustomerKey, caplog, form):
    secret = form(customer_key)
    before = redaction.redactions
    with caplog.at_level(logging.INFO):
        logging.getLogger("some.library").info("request failed with %s", secret)
    assert redaction.MARK in caplog.text
    for window in (body_of(customer_key.p8)[40:60], body_of(customer_key.p8)[-30:-10]):
        assert window not in caplog.text
    assert redaction.redactions > before


def test_ordinary_lines_pass_untouched(caplog):
    before = redaction.redactions
    with caplog.at_level(logging.INFO):
        logging.getLogger("ascflow").info("certificate %s created for %s", "ZX4C9N7W2Q", "com.acme.game")
    assert "certificate ZX4C9N7W2Q created for com.acme.game" in caplog.text
    assert redaction.redactions == before


def test_base64_of_a_pem_is_not_mistaken_for_text(customer_key: CustomerKey):
    # A base64-wrapped PEM is not caught by shape (the canary scans in the tests catch that); the rule here is
    # only that the scrubber never mangles what it does not recognise.
    wrapped = base64.b64encode(customer_key.p8.encode()).decode()
    assert redaction.scrub(wrapped) == (wrapped, 0)
