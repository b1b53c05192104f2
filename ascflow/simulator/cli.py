"""`ascflow simulator`: serve a local App Store Connect from a scenario file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def run_simulator(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8787,
    host: Annotated[str, typer.Option(help="Address to bind; keep loopback unless you mean to share it.")] = (
        "127.0.0.1"
    ),
    scenario: Annotated[
        Path | None,
        typer.Option(help="Scenario file (YAML or JSON) declaring the team; see the simulator README."),
    ] = None,
    demo_team: Annotated[
        Path | None,
        typer.Option(help="Write a dry-run team here (key, scenario, build, request) and print how."),
    ] = None,
) -> None:
    """Serve a local App Store Connect (Apple's API under /v1, control API under /_simulator/)."""
    if demo_team is not None:
        from ascflow.operator.demo_team import print_demo_team  # the operator's dry run, not the simulator

        print_demo_team(demo_team)
        return
    # Imported here so that every other `ascflow` command starts without loading the server.
    from ascflow.simulator.scenario import Scenario, ScenarioError
    from ascflow.simulator.server import serve_forever

    try:
        team = Scenario.load(scenario) if scenario else Scenario()
    except ScenarioError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    if not team.keys:
        typer.echo(
            "note: the scenario declares no API key; add one with POST /_simulator/keys before calling /v1.",
            err=True,
        )
    typer.echo(
        f"App Store Connect simulator on http://{host}:{port} (issuer {team.issuer_id}, time scale "
        f"{team.time_scale:g}x, {len(team.keys)} key(s), {len(team.apps)} app(s))"
    )
    serve_forever(team, host=host, port=port)
