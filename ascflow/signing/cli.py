"""`ascflow signing export`: hand a build machine the signing identity for one app. Prints no secret."""

from __future__ import annotations

import getpass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError

from ascflow.audit.events import Actor
from ascflow.audit.log import open_audit_log
from ascflow.connect.actions.common import ActionFailed
from ascflow.custody import open_custody
from ascflow.settings import get_settings
from ascflow.signing.export import (
    DEFAULT_URL_LIFETIME,
    Exported,
    ExportedToS3,
    export_to_directory,
    export_to_s3,
)

signing_app = typer.Typer(
    no_args_is_help=True, help="The signing identity ascflow made: export it to a build machine."
)


@signing_app.command("export")
def export(
    tenant: Annotated[str, typer.Option(help="The customer's tenant ID.")],
    bundle_id: Annotated[str, typer.Option(help="The app's bundle ID.")],
    out: Annotated[
        Path | None, typer.Option(help="A new directory, or an empty one with mode 0700, for the files.")
    ] = None,
    to_s3: Annotated[
        str | None,
        typer.Option(help="s3://bucket/prefix: one SSE-KMS zip and a presigned URL (S3 backend only)."),
    ] = None,
    url_minutes: Annotated[float, typer.Option(help="Lifetime of the presigned URL.")] = (
        DEFAULT_URL_LIFETIME.total_seconds() / 60
    ),
    operator: Annotated[
        str | None, typer.Option(help="Who is exporting, for the audit log (default: the login name).")
    ] = None,
) -> None:
    """Write distribution.p12, its password, <bundle id>.mobileprovision and ExportOptions.plist (audited)."""
    if (out is None) == (to_s3 is None):
        _fail("Give exactly one of --out DIR and --to-s3 s3://bucket/prefix.", code=2)
    try:
        actor = Actor(kind="operator", id=operator or getpass.getuser())
    except ValidationError:
        _fail("--operator: use letters, digits and . _ : - (at most 128), e.g. --operator alice", code=2)
    settings = get_settings()
    custody = open_custody(settings, audit=open_audit_log(settings))
    try:
        if out is not None:
            exported = export_to_directory(custody, tenant=tenant, bundle_id=bundle_id, out=out, actor=actor)
        else:
            exported = export_to_s3(
                custody,
                settings,
                tenant=tenant,
                bundle_id=bundle_id,
                to=to_s3 or "",
                actor=actor,
                url_lifetime=timedelta(minutes=url_minutes),
            )
    except ActionFailed as exc:
        _fail(str(exc), code=1)
    _report(exported)


def _report(exported: Exported) -> None:
    typer.echo(f"Exported the signing identity for {exported.bundle_id} (tenant {exported.tenant}):")
    typer.echo(f"  to {exported.destination}")
    for name in exported.files:
        typer.echo(f"  {name}")
    typer.echo(
        f"Certificate {exported.certificate_id}, profile {exported.profile_name!r}, team {exported.team_id}; "
        f"audit event {exported.audit_seq}."
    )
    if isinstance(exported, ExportedToS3):
        typer.echo(f"Download (until {exported.s3.url_expires_at:%Y-%m-%d %H:%M:%S} UTC): {exported.s3.url}")
    typer.echo("The build machine's steps: README, 'Signing the build'. Delete the files once imported.")


def _fail(message: str, *, code: int) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code=code)
