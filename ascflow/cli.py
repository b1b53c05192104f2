"""ascflow: publish an iOS app with a customer's App Store Connect key, then destroy the key, provably."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ascflow.audit.cli import audit_app
from ascflow.custody.cli import custody_app
from ascflow.intake.cli import run_intake
from ascflow.listing.cli import listing_app
from ascflow.operator.custody_cli import deposit
from ascflow.operator.release_cli import release
from ascflow.operator.runs_cli import runs_app
from ascflow.signing.cli import signing_app
from ascflow.simulator.cli import run_simulator

# Each area (simulator, custody, audit, intake) registers its own sub-commands here.
app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
app.command("simulator")(run_simulator)
app.command("intake")(run_intake)
app.add_typer(custody_app, name="custody")
custody_app.command("deposit")(deposit)
app.add_typer(runs_app, name="runs")
runs_app.command("release")(release)
app.add_typer(audit_app, name="audit")
app.add_typer(signing_app, name="signing")
app.add_typer(listing_app, name="listing")


@app.command()
def demo(
    workdir: Annotated[
        Path | None, typer.Option(help="Keep the demo's state here (default: a new temp folder).")
    ] = None,
) -> None:
    """Run the whole pipeline against a local App Store Connect simulator, on a local Prefect server."""
    from ascflow.demo import run_demo  # imports Prefect and the simulator: only when asked for

    raise typer.Exit(code=run_demo(workdir, echo=typer.echo))
