"""`ascflow intake --port N`: serve the customer's upload page and the operator API."""

from __future__ import annotations

from typing import Annotated

import typer


def run_intake(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    host: Annotated[
        str, typer.Option(help="Address to bind; put a TLS-terminating proxy in front.")
    ] = "127.0.0.1",
) -> None:
    """Serve the intake page (/o/<link>) and the operator API (/api, OpenAPI at /api/openapi.json)."""
    import uvicorn

    from ascflow.intake.app import create_app
    from ascflow.intake.process import disable_core_dumps, log_config

    disable_core_dumps()
    # uvicorn's access log would print customer links (credentials); the app logs requests with them cut out.
    uvicorn.run(
        create_app(),
        host=host,
        port=port,
        http="h11",
        access_log=False,
        server_header=False,
        log_config=log_config(),
    )
