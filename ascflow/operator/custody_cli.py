"""`ascflow custody deposit`: an operator puts a customer's key into custody from a shell.

The key goes through the same strict checks as the intake page's upload (`ApiKey.from_p8`: key ID, issuer ID,
the file name's key ID, PKCS#8 EC P-256) before anything is stored. Apple is not asked here: the run's first
step checks the key at Apple and waits while Apple does not accept it yet.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import SecretStr, ValidationError

from ascflow.audit.log import open_audit_log
from ascflow.connect.keys import MAX_P8_BYTES, ApiKey, InvalidCredentialsInput
from ascflow.custody import CustodyInput, open_custody
from ascflow.custody.cli import OperatorOption, _operator
from ascflow.pipeline.request import BUNDLE_ID_PATTERN, TENANT_PATTERN
from ascflow.settings import get_settings

# The command's own option for each field the key loader names.
_OPTION = {"p8": "--key-file", "filename": "--key-file", "key_id": "--key-id", "issuer_id": "--issuer-id"}


def deposit(
    tenant: Annotated[str, typer.Option(help="The customer's slug, e.g. acme-games.")],
    bundle_id: Annotated[str, typer.Option(help="The app the key is for, e.g. com.acme.game.")],
    key_id: Annotated[str, typer.Option(help="Apple's key ID (10 characters; it is in the file name).")],
    issuer_id: Annotated[str, typer.Option(help="The team's issuer ID (a UUID, above Apple's key list).")],
    key_file: Annotated[
        str, typer.Option(help="The AuthKey_<KEY ID>.p8 file as downloaded, or - to read the key from stdin.")
    ],
    operator: str | None = OperatorOption,
) -> None:
    """Check a customer's App Store Connect key strictly and seal it in custody; print the custody ID and
    expiry (never the key). A key that fails a check is refused naming the option, and nothing is stored."""
    actor = _operator(operator)
    # The request's own rules, so that the record matches the request that will name it.
    if not re.fullmatch(TENANT_PATTERN, tenant):
        _refuse(
            "--tenant: use lower-case letters, digits and - (at most 63), as the request's tenant, e.g. acme-games."
        )
    if not re.fullmatch(BUNDLE_ID_PATTERN, bundle_id):
        _refuse("--bundle-id: use letters, digits, . and - as in App Store Connect, e.g. com.acme.game.")
    p8 = _read_key(key_file)
    filename = None if key_file == "-" else Path(key_file).name
    try:
        ApiKey.from_p8(p8, key_id=key_id, issuer_id=issuer_id, filename=filename)
        item = CustodyInput(
            tenant=tenant,
            app_bundle_id=bundle_id,
            key_id=key_id,
            issuer_id=SecretStr(issuer_id),
            p8=SecretStr(p8.decode("ascii")),
        )
    except InvalidCredentialsInput as error:
        _refuse(f"{_OPTION[error.field]}: {error.problem}. {error.remedy}")
    except ValidationError as error:
        # Only custody's own limits are left to fail here (the key and the IDs passed the checks above).
        fields = [f"{problem['loc'][0]}: {problem['msg']}" for problem in error.errors(include_input=False)]
        _refuse("; ".join(fields) + ".")
    finally:
        del p8
    settings = get_settings()
    record = open_custody(settings, audit=open_audit_log(settings)).deposit(item, actor=actor)
    typer.echo(f"custody ID: {record.id}")
    typer.echo(f"expires:    {record.expires_at.isoformat(timespec='seconds')}")
    typer.echo(f"key:        {record.key_id} (fingerprint {record.fingerprint[:16]}), tenant {record.tenant}")
    typer.echo(
        f'next:       put "custody_id": "{record.id}" in the request, then: ascflow runs start --request FILE'
    )


def _read_key(key_file: str) -> bytes:
    """The key's bytes, at most what a key file can be (a larger input is refused unread)."""
    try:
        if key_file == "-":
            data = sys.stdin.buffer.read(MAX_P8_BYTES + 1)
        else:
            with Path(key_file).open("rb") as handle:
                data = handle.read(MAX_P8_BYTES + 1)
    except OSError as error:
        _refuse(
            f"--key-file: cannot read the file ({error.strerror}). Give the path of the downloaded .p8 file."
        )
    if len(data) > MAX_P8_BYTES:
        _refuse(
            f"--key-file: is larger than {MAX_P8_BYTES} bytes, so it is not an App Store Connect key file."
        )
    return data


def _refuse(message: str) -> NoReturn:
    typer.echo(f"error: {message} Nothing was stored.", err=True)
    raise typer.Exit(code=2)
