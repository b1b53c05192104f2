"""Secret-bearing models never show a secret: not in repr, str, validation errors, exceptions, or pickle."""

from __future__ import annotations

import pickle

import pytest
from pydantic import SecretBytes, SecretStr, ValidationError

from ascflow.custody import Credentials, CustodyInput, KeyUnreadable
from ascflow.custody.records import SigningIdentityInput
from tests.custody.conftest import OPERATOR, Harness
from tests.fixtures.canary import CanaryKey
from tests.fixtures.keys import BEGIN


def test_models_mask_secrets_and_refuse_pickle(canary_key: CanaryKey) -> None:
    key = canary_key.key
    item = CustodyInput(
        tenant="acme", key_id=key.key_id, issuer_id=SecretStr(key.issuer_id), p8=SecretStr(key.p8)
    )
    creds = Credentials(key_id=key.key_id, issuer_id=SecretStr(key.issuer_id), p8=SecretStr(key.p8))
    for model in (item, creds):
        shown = [repr(model), str(model), model.model_dump_json(), str(model.model_dump())]
        assert canary_key.scanner.scan_strings((f"shown {i}", s) for i, s in enumerate(shown)) == []
        assert all(key.issuer_id not in s for s in shown)
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(model)


@pytest.mark.parametrize(
    "fault",
    [{"key_id": "not a key id"}, {"tenant": "Not A Tenant!"}, {"extra": "field"}, {"issuer_id": ""}],
)
def test_validation_errors_do_not_echo_the_input(canary_key: CanaryKey, fault: dict[str, str]) -> None:
    key = canary_key.key
    fields = {"tenant": "acme", "key_id": key.key_id, "issuer_id": key.issuer_id, "p8": key.p8} | fault
    # Secret fields given as plain text, the way a form or a JSON body arrives.
    with pytest.raises(ValidationError) as caught:
        CustodyInput.model_validate(fields)
    text = str(caught.value) + repr(caught.value) + str(caught.value.errors(include_input=False))
    assert canary_key.scanner.scan_text(text, "validation error") == []
    assert key.issuer_id not in text
    assert next(iter(fault)) in text  # the message still names the field at fault


def test_a_key_that_does_not_load_is_refused_with_a_fixed_message(
    harness: Harness, canary_key: CanaryKey
) -> None:
    key = canary_key.key
    lines = key.p8.splitlines()
    lines[2] = lines[2][:-8]  # a damaged PEM that still carries most of the key
    broken = "\n".join(lines)
    with pytest.raises(KeyUnreadable) as caught:
        harness.custody.deposit(
            CustodyInput(
                tenant="acme", key_id=key.key_id, issuer_id=SecretStr(key.issuer_id), p8=SecretStr(broken)
            ),
            actor=OPERATOR,
        )
    assert "Upload the original .p8" in str(caught.value)
    assert canary_key.scanner.scan_text(str(caught.value) + repr(caught.value), "error") == []
    assert harness.custody.list() == []


def test_signing_identity_errors_name_the_field_not_the_value(harness: Harness) -> None:
    with pytest.raises(ValueError, match="certificate_id") as caught:
        harness.custody.deposit_signing_identity(
            tenant="acme",
            issuer_id="team",
            certificate_id="bad id with spaces",
            private_key_pem=SecretBytes(BEGIN.encode()),
            p12=SecretBytes(b"p12"),
            p12_password=SecretStr("hunter2-password"),
            actor=OPERATOR,
        )
    assert "bad id with spaces" not in str(caught.value)
    assert "hunter2" not in str(caught.value)
    with pytest.raises(TypeError):
        pickle.dumps(
            SigningIdentityInput(
                tenant="acme",
                issuer_id=SecretStr("team"),
                certificate_id="C1",
                private_key_pem=SecretBytes(b"k"),
                p12=SecretBytes(b"p"),
                p12_password=SecretStr("pw"),
            )
        )


def test_an_invalid_secret_field_is_not_echoed(canary_key: CanaryKey) -> None:
    key = canary_key.key
    with pytest.raises(ValidationError) as caught:
        CustodyInput.model_validate(
            {"tenant": "acme", "key_id": key.key_id, "issuer_id": key.issuer_id * 3, "p8": key.p8 * 20}
        )
    text = str(caught.value) + repr(caught.value) + str(caught.value.errors(include_input=False))
    assert canary_key.scanner.scan_text(text, "validation error") == []
    assert key.issuer_id not in text
    assert "p8" in text
    assert "issuer_id" in text
