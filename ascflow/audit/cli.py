"""`ascflow audit ...`: verify the trail, show a tenant's timeline, checkpoint, print the public key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from ascflow.audit.backends import AuditPosition
from ascflow.audit.checkpoint import CheckpointReason
from ascflow.audit.events import AuditRecord
from ascflow.audit.log import SIGNING_KEY_FILE, backend_from_settings, open_audit_log
from ascflow.audit.signing import ServiceKey, ServiceKeyError, ServicePublicKey
from ascflow.audit.verify import verify_log
from ascflow.settings import get_settings

audit_app = typer.Typer(no_args_is_help=True, help="The audit trail: verify it, read it, checkpoint it.")

_ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


def _trusted_key(public_key: Path | None) -> ServicePublicKey:
    try:
        if public_key is not None:
            return ServicePublicKey.from_pem(public_key.read_bytes())
        path = get_settings().keys_dir / SIGNING_KEY_FILE
        if not path.exists():
            raise ServiceKeyError(f"no audit signing key at {path}: pass --public-key with the service's key")
        return ServiceKey.load(path).public
    except (ServiceKeyError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None


def _anchor(value: str) -> AuditPosition:
    match = _ANCHOR.match(value)
    if not match:
        raise typer.BadParameter(
            f"{value!r} is not SEQ:HASH (e.g. 42:<64 hex digits>), as printed on a receipt"
        )
    return AuditPosition(int(match[1]), match[2])


@audit_app.command()
def verify(
    tenant: Annotated[str | None, typer.Option(help="Also count this tenant's events in the report.")] = None,
    public_key: Annotated[
        Path | None, typer.Option(help="Trusted public key PEM (default: the service key in keys_dir).")
    ] = None,
    expect: Annotated[
        list[str] | None, typer.Option(help="SEQ:HASH from a receipt; the log must agree. Repeatable.")
    ] = None,
) -> None:
    """Check the whole chain and every signed checkpoint; name the first bad line. Exit 1 when it fails."""
    anchors = [_anchor(value) for value in expect or []]
    settings = get_settings()
    report = verify_log(backend_from_settings(settings), _trusted_key(public_key), expect=anchors)
    typer.echo(report.summary())
    if tenant is not None:
        typer.echo(f"tenant {tenant}: {report.tenant_events.get(tenant, 0)} events in the verified trail")
    if report.ok and report.unsealed:
        typer.echo(
            f"note: the last {report.unsealed} events are not yet covered by a signed checkpoint; "
            "`ascflow audit checkpoint` seals them"
        )
    if not report.ok:
        raise typer.Exit(code=1)


def _timeline_line(record: AuditRecord) -> str:
    target = record.target
    parts = [f"run={target.run_id}"] if target.run_id else []
    parts += [f"custody={target.custody_id}"] if target.custody_id else []
    if target.apple_type or target.apple_id:
        parts.append(f"{target.apple_type or '?'}/{target.apple_id or '?'}")
    parts += [f"key-sha256={target.key_fingerprint[:16]}…"] if target.key_fingerprint else []
    error = f" [{record.error_code}]" if record.error_code else ""
    return (
        f"{record.time}  #{record.seq:<6} {record.action.value:<30} {record.outcome + error:<24} "
        f"by {record.actor.kind}:{record.actor.id}  {' '.join(parts)}".rstrip()
    )


@audit_app.command()
def show(tenant: Annotated[str, typer.Option(help="The tenant whose timeline to print.")]) -> None:
    """Print one tenant's events, oldest first. Run `ascflow audit verify` to check they are intact."""
    log = open_audit_log()
    count = 0
    try:
        for record in log.events(tenant=tenant):
            if count == 0:
                typer.echo(f"Audit timeline for tenant {tenant} ({log.backend.describe()})")
            typer.echo(_timeline_line(record))
            count += 1
    except ValidationError:
        typer.echo("error: the trail holds a damaged line: run `ascflow audit verify` to find it", err=True)
        raise typer.Exit(code=1) from None
    if count == 0:
        typer.echo(f"No audit events for tenant {tenant} in {log.backend.describe()}.")


@audit_app.command()
def checkpoint(
    reason: Annotated[str, typer.Option(help="schedule | manual | run-end")] = "manual",
) -> None:
    """Sign a checkpoint of the trail as it stands now (run it on a schedule so idle gaps show)."""
    reasons: dict[str, CheckpointReason] = {"schedule": "schedule", "manual": "manual", "run-end": "run-end"}
    if reason not in reasons:
        raise typer.BadParameter(f"reason must be one of {', '.join(reasons)}, got {reason!r}")
    made = open_audit_log().checkpoint(reason=reasons[reason])
    typer.echo(f"checkpoint {made.n}: {made.size} events, head {made.size}:{made.head}")


@audit_app.command("public-key")
def public_key() -> None:
    """Print the audit public key (PEM) and its fingerprint, for auditors and `verify --public-key`."""
    key = ServiceKey.load_or_create(get_settings().keys_dir / SIGNING_KEY_FILE)
    typer.echo(key.public.pem.rstrip())
    typer.echo(f"sha256 fingerprint: {key.fingerprint}")
