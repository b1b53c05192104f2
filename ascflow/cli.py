"""The `ascflow` command. Each area registers its own sub-commands here."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


@app.command()
def demo() -> None:
    """Run the whole pipeline against a local App Store Connect simulator."""
    typer.echo("The end-to-end demo is not built yet (issue 5): nothing was run.", err=True)
    raise typer.Exit(code=2)
