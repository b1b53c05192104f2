"""`ascflow custody list | destroy ID | purge-expired`: operator commands. They print no secret."""

from __future__ import annotations

import getpass
import re
from datetime import UTC, datetime

import typer

from ascflow.audit.events import Actor
from ascflow.audit.log import open_audit_log
from ascflow.custody import Custody, CustodyError, open_custody
from ascflow.settings import get_settings

custody_app = typer.Typer(
    no_args_is_help=True, help="Credential custody: deposit, list, destroy, purge expired records."
)

OperatorOption = typer.Option(
    None, "--operator", help="Who is acting, for the audit log (default: the login name)."
)


def _custody() -> Custody:
    settings = get_settings()
    return open_custody(settings, audit=open_audit_log(settings))


def _operator(name: str | None) -> Actor:
    name = name or getpass.getuser()
    if not re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", name):
        typer.echo(
            "--operator: use letters, digits and . _ : - (at most 64), e.g. --operator alice", err=True
        )
        raise typer.Exit(code=2)
    return Actor(kind="operator", id=name)


@custody_app.command("list")
def list_records() -> None:
    """Every record held: ID, kind, tenant, Apple key ID, key fingerprint, expiry. Never key material."""
    records = _custody().list()
    if not records:
        typer.echo("No custody records.")
        return
    now = datetime.now(UTC)
    typer.echo(f"{'CUSTODY ID':32}  {'KIND':16}  {'TENANT':20}  {'KEY ID':12}  {'FINGERPRINT':16}  EXPIRES")
    for info in records:
        state = "expired" if info.expired(now) else "live"
        typer.echo(
            f"{info.id:32}  {info.kind:16}  {info.tenant:20}  {info.key_id:12}  {info.fingerprint[:16]:16}  "
            f"{info.expires_at.isoformat(timespec='seconds')} ({state})"
        )


@custody_app.command()
def destroy(custody_id: str, operator: str | None = OperatorOption) -> None:
    """Destroy one record, prove nothing is left, and print the signed deletion receipt (JSON)."""
    actor = _operator(operator)
    try:
        receipt = _custody().destroy(custody_id, actor=actor)
    except CustodyError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from None
    typer.echo(receipt.model_dump_json(indent=2))


@custody_app.command("purge-expired")
def purge_expired(operator: str | None = OperatorOption) -> None:
    """Destroy every expired record (and finish any interrupted destruction); one line per receipt."""
    actor = _operator(operator)
    try:
        receipts = _custody().purge_expired(actor=actor)
    except CustodyError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from None
    for receipt in receipts:
        typer.echo(
            f"destroyed {receipt.custody_id} (key {receipt.key_id}); receipt at audit seq {receipt.audit_seq}"
        )
    typer.echo(f"{len(receipts)} expired record(s) destroyed.")
