"""The listing file: check it offline, print its JSON schema, write example screenshots."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ascflow.listing.checks import inspect_listing
from ascflow.listing.model import listing_json_schema
from ascflow.listing.screenshots import write_example_screenshots
from ascflow.listing.source import ListingSource
from ascflow.settings import get_settings

PROBLEMS_EXIT_CODE = 2

listing_app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


@listing_app.command("check")
def check(
    file: Annotated[str, typer.Argument(help="The listing YAML: a path, or s3://bucket/key.")],
    ipad: Annotated[bool, typer.Option(help='The build runs on iPad: require the 13" iPad set.')] = False,
    update: Annotated[bool, typer.Option(help="Not the app's first version: require What's New.")] = False,
    secrets: Annotated[
        bool,
        typer.Option(
            "--secrets/--no-secrets",
            help="Also check that the secrets the listing names (the demo password's variable) are set here, "
            "as on the worker.",
        ),
    ] = False,
) -> None:
    """Check a listing against Apple's rules without calling Apple; exit code 2 when anything is wrong."""
    listing, problems = inspect_listing(
        ListingSource(path=file),
        get_settings(),
        needs_ipad=ipad,
        update=update,
        environ=os.environ if secrets else None,
    )
    if problems or listing is None:
        for problem in problems:
            typer.echo(f"{problem}", err=True)
        typer.echo(f"{file}: {len(problems)} problem(s); nothing was sent to Apple.", err=True)
        raise typer.Exit(code=PROBLEMS_EXIT_CODE)
    shots = sum(len(s) for loc in listing.localizations.values() for s in loc.screenshots.values())
    typer.echo(
        f"{file}: OK ({len(listing.localizations)} locale(s), primary {listing.primary_locale}, "
        f"{shots} screenshot(s) checked)."
    )


@listing_app.command("schema")
def schema() -> None:
    """Print the JSON schema of the listing file (as in examples/listing.schema.json)."""
    typer.echo(listing_json_schema(), nl=False)


@listing_app.command("example-screenshots")
def example_screenshots(
    folder: Annotated[Path, typer.Argument(help="Where to write them, e.g. examples/screenshots.")],
) -> None:
    """Write the three iPhone 6.9" screenshots that examples/listing.yaml names (1320x2868 PNG, RGB)."""
    for path in write_example_screenshots(folder):
        typer.echo(str(path))
