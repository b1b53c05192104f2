"""The `ascflow` command. Each area registers its own sub-commands here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ascflow.audit.cli import audit_app
from ascflow.custody.cli import custody_app
from ascflow.simulator.cli import run_simulator

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
app.command("simulator")(run_simulator)
app.add_typer(custody_app, name="custody")
app.add_typer(audit_app, name="audit")


@app.command()
def demo(
    workdir: Annotated[
        Path | None, typer.Option(help="Keep the demo's state here (default: a new temp folder).")
    ] = None,
) -> None:
    """Run the whole pipeline against a local App Store Connect simulator, on a local Prefect server."""
    from ascflow.demo import run_demo  # imports Prefect and the simulator: only when asked for

    raise typer.Exit(code=run_demo(workdir, echo=typer.echo))
