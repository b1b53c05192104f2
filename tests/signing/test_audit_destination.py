"""The audit event's `destination` (where an export went) holds a path or an S3 key, and no generated secret."""

from __future__ import annotations

import secrets

import pytest
from pydantic import ValidationError

from ascflow.audit import Target
from tests.audit.test_no_secrets import KEY, make_jwt, pem_body

TOKEN = make_jwt(KEY)
SECRET_SHAPES = {
    "p12-password": secrets.token_urlsafe(24),
    "pem": KEY.p8,
    "pem-body": pem_body(KEY.p8),
    "jwt": TOKEN,
    **{f"jwt-part-{i}": part for i, part in enumerate(TOKEN.split("."))},
}


@pytest.mark.parametrize("value", SECRET_SHAPES.values(), ids=SECRET_SHAPES.keys())
def test_a_secret_cannot_be_a_destination_and_the_refusal_does_not_echo_it(value: str) -> None:
    for destination in (f"dir:/home/ci/{value}", f"s3://acme-builds/{value}/signing.zip"):
        with pytest.raises(ValidationError) as refused:
            Target(destination=destination)
        assert value not in str(refused.value)


@pytest.mark.parametrize(
    "destination",
    [
        "dir:/Users/BuildAgent/work/acme-game/signing",
        "dir:/tmp/pytest-of-root/pytest-3/test_export0/out",
        "s3://acme-builds/signing/acme/com.acme.game/signing-4f1c0d8e2b7a4c55a1e3f9d2b6c8e0a1.zip",
    ],
)
def test_paths_and_keys_ascflow_writes_are_destinations(destination: str) -> None:
    assert Target(destination=destination).destination == destination
