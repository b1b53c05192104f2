"""Every deployment of prefect.yaml served from one process with its schedule: the local all-in-one alternative
to a work pool. prefect.yaml is the one declaration; this reads it (names, entrypoints, tags, schedules,
concurrency limits), so `run_deployment("onboard-app/onboard-app", ...)` works either way.

    python -m deployments.serve [--poll-seconds 300] [--cleanup-cron "17 * * * *"]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml
from prefect import Flow, serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.flows import load_flow_from_entrypoint

PROJECT = Path(__file__).resolve().parent.parent


def declared(path: Path = PROJECT / "prefect.yaml") -> list[dict[str, Any]]:
    deployments: list[dict[str, Any]] = yaml.safe_load(path.read_text())["deployments"]
    return deployments


def runner_deployment(spec: dict[str, Any], overrides: dict[str, dict[str, Any]]) -> RunnerDeployment:
    flow: Flow[..., Any] = load_flow_from_entrypoint(str(PROJECT / spec["entrypoint"]))
    declared_schedule: dict[str, Any] = next(iter(spec.get("schedules") or []), {})
    schedule = {k: v for k, v in declared_schedule.items() if k in ("interval", "cron")}
    schedule.update(overrides.get(spec["name"], {}))
    limit = spec.get("concurrency_limit")
    return RunnerDeployment.from_flow(
        flow,
        spec["name"],
        description=spec.get("description"),
        tags=spec.get("tags"),
        enforce_parameter_schema=spec.get("enforce_parameter_schema", True),
        concurrency_limit=(
            ConcurrencyLimitConfig(
                limit=limit["limit"], collision_strategy=ConcurrencyLimitStrategy(limit["collision_strategy"])
            )
            if limit
            else None
        ),
        **schedule,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--poll-seconds", type=float, default=None, help="access-poller interval")
    parser.add_argument("--cleanup-cron", default=None, help="credential-cleanup schedule (UTC)")
    parser.add_argument("--limit", type=int, default=8, help="flow runs at once")
    args = parser.parse_args(argv)
    overrides: dict[str, dict[str, Any]] = {}
    if args.poll_seconds is not None:
        overrides["access-poller"] = {"interval": args.poll_seconds}
    if args.cleanup_cron is not None:
        overrides["credential-cleanup"] = {"cron": args.cleanup_cron}
    serve(*(runner_deployment(spec, overrides) for spec in declared()), limit=args.limit)


if __name__ == "__main__":
    main()
