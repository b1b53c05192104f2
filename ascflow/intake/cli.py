"""`ascflow intake --port N`: serve the customer's upload page and the operator API."""

from __future__ import annotations

import copy
from typing import Annotated, Any

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

    # uvicorn's access log would print customer links (credentials); the app logs requests with them cut out.
    uvicorn.run(
        create_app(), host=host, port=port, access_log=False, server_header=False, log_config=_log_config()
    )


def _log_config() -> dict[str, Any]:
    """uvicorn's own logging setup (it replaces any configured before), plus ascflow's loggers."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["ascflow"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
