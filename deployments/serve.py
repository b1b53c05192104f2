"""Every flow served from one process with its schedule: the local all-in-one alternative to a work pool.

    python -m deployments.serve [--poll-seconds 300] [--cleanup-cron "17 * * * *"]

Deployment names match prefect.yaml, so `run_deployment("onboard-app/onboard-app", ...)` works either way.
"""

from __future__ import annotations

import argparse

from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment

from flows.access_poller import poll_waiting_runs
from flows.cleanup import cleanup_expired_credentials, destroy_credentials_now
from flows.onboard import onboard_app

# As in prefect.yaml: a poll or sweep that finds the previous one still running is dropped, not queued (a
# queued run waits out Prefect's 30 s slot wait and then repeats work the next scheduled run does anyway).
ONE_AT_A_TIME = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--poll-seconds", type=float, default=300.0, help="access-poller interval")
    parser.add_argument("--cleanup-cron", default="17 * * * *", help="credential-cleanup schedule (UTC)")
    parser.add_argument("--limit", type=int, default=8, help="flow runs at once")
    args = parser.parse_args(argv)
    serve(
        RunnerDeployment.from_flow(onboard_app, "onboard-app", tags=["ascflow", "onboarding"]),
        RunnerDeployment.from_flow(
            poll_waiting_runs,
            "access-poller",
            tags=["ascflow", "poller"],
            interval=args.poll_seconds,
            concurrency_limit=ONE_AT_A_TIME,
        ),
        RunnerDeployment.from_flow(
            cleanup_expired_credentials,
            "credential-cleanup",
            tags=["ascflow", "cleanup"],
            cron=args.cleanup_cron,
            concurrency_limit=ONE_AT_A_TIME,
        ),
        RunnerDeployment.from_flow(
            destroy_credentials_now, "destroy-credentials", tags=["ascflow", "cleanup"]
        ),
        limit=args.limit,
    )


if __name__ == "__main__":
    main()
