"""Waiting costs little: a 48-hour wait for Apple to activate a key, checked on the wait's schedule beside the
simple way (a fixed 5-minute poll).

    .venv/bin/python -m benchmarks.waiting [--hours 48] [--activations 10m,3h,20h,47h] [--small]

Run by `make benchmarks` (MAKELEVEL set), the default is `--small`: an 8-hour wait, activations at 10m and 3h
(about 20 s; the 48-hour default makes some 1,800 real checks: 4 minutes on this shared machine).

A simulated clock, no real hours: every 300 s of it the access poller polls. The schedule way asks the real
schedule (`WaitRecord.due`, what the poller's flow asks, with `ASCFLOW_WAIT_CHECK_SCHEDULE`'s default) whether
the run is due; the simple way checks at every poll, as it did before. A check is the real one,
`check_credentials` (the poller's check-wait task), with a key in custody, against the simulator over loopback
HTTP. Each key is registered inactive and activated through the simulator's control API when the simulated
clock passes its activation time, one second after a poll (the worst moment for a fixed grid). Before
suspending, each run checks in process with its backoff, slept on the simulated clock: the schedule way with
`ASCFLOW_ACCESS_BACKOFF_SECONDS`' default (one re-check after 5 s), the simple way with the old
`[15, 30, 60]` (4 checks, the worker held 105 s). "never" is a key Apple does not activate within the wait, and
"check now" is the 20-hour activation with the customer pressing the status page's button a minute after it.
Checks and Apple calls count the in-process checks too; the delay runs from the activation to the poll that
resumes the run. The last lines give the schedule's worst delay over every activation moment (a pure sweep).
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from ascflow.audit import Actor
from ascflow.custody import CustodyInput
from ascflow.pipeline.check_schedule import CheckAsked, WaitRecord, checks_over
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.credentials import check_credentials
from ascflow.pipeline.waiting import Waiting
from ascflow.settings import Settings
from ascflow.simulator.scenario import AppSpec, Scenario
from ascflow.simulator.server import SimulatorServer
from tests.fixtures.keys import make_customer_key

POLL_SECONDS = 300.0
OLD_BACKOFF = [15.0, 30.0, 60.0]
TENANT = "waiting"
BUNDLE_ID = "com.example.waiting"
ORIGIN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NEVER = 10.0**12  # Apple seconds: a key the simulator never activates by itself
UNITS = {"m": 60.0, "h": 3600.0}


@dataclass
class Clock:
    seconds: float = 0.0

    def now(self) -> datetime:
        return ORIGIN + timedelta(seconds=self.seconds)

    def sleep(self, seconds: float) -> None:
        self.seconds += seconds


@dataclass
class Outcome:
    way: str
    activation: str
    checks: int
    apple_calls: int
    delay_seconds: float | None
    held_seconds: float


@dataclass
class Case:
    label: str
    activate_at: float | None  # simulated seconds from the start of the run
    asked_after: float | None = None  # the customer's check-now, seconds after the activation

    @property
    def asked_at(self) -> float | None:
        if self.activate_at is None or self.asked_after is None:
            return None
        return self.activate_at + self.asked_after


class Bench:
    def __init__(self, apple: SimulatorServer, settings: Settings, issuer_id: str) -> None:
        self.apple = apple
        self.settings = settings
        self.issuer_id = issuer_id
        self.ctx = StepContext(
            tenant=TENANT, run_id="waiting", actor=Actor(kind="system", id="benchmark"), settings=settings
        )

    def run(self, case: Case, way: str, hours: float) -> Outcome:
        key = make_customer_key(self.issuer_id)
        self.apple.control.add_key(key.key_id, key.public_pem, active_after_seconds=NEVER)
        custody_id = self.ctx.custody.deposit(
            CustodyInput(
                tenant=TENANT, key_id=key.key_id, issuer_id=SecretStr(key.issuer_id), p8=SecretStr(key.p8)
            ),
            actor=self.ctx.actor,
        ).id
        clock = Clock()
        activated = False
        backoff = self.settings.access_backoff_seconds if way == "schedule" else OLD_BACKOFF
        # The run's own checks before it suspends (the key is not active at the start in any case).
        first = check_credentials(self.ctx, custody_id, BUNDLE_ID, backoff=backoff, sleep=clock.sleep)
        checks, held = first.attempts, clock.seconds
        waiting = Waiting(
            kind="access",
            step="validate",
            tenant=TENANT,
            bundle_id=BUNDLE_ID,
            custody_id=custody_id,
            since=clock.now(),
        )
        record = WaitRecord(waiting=waiting)
        delay: float | None = None
        for poll in itertools.count(1):
            clock.seconds = poll * POLL_SECONDS
            if clock.seconds > hours * 3600:
                break
            if case.activate_at is not None and not activated and clock.seconds >= case.activate_at:
                self.apple.control.activate_key(key.key_id)
                activated = True
            if case.asked_at is not None and record.asked is None and clock.seconds >= case.asked_at:
                record.asked = CheckAsked(at=ORIGIN + timedelta(seconds=case.asked_at))
            if way == "schedule" and not record.due(self.settings.wait_check_schedule, clock.now()):
                continue
            checks += 1
            if check_credentials(self.ctx, custody_id, BUNDLE_ID).verdict == "works":
                delay = clock.seconds - (case.activate_at or 0.0)
                break
            record.checked = record.mark(clock.now())
        calls = sum(1 for r in self.apple.control.requests() if r.key_id == key.key_id)
        return Outcome(way, case.label, checks, calls, delay, held)


def parse_cases(spec: str) -> list[Case]:
    cases = []
    for item in spec.split(","):
        amount, unit = float(item[:-1]), item[-1]
        cases.append(Case(item, amount * UNITS[unit] + 1.0))
    return cases


def worst_delays(settings: Settings, hours: float) -> tuple[float, float]:
    """The longest gap between checks that starts before 6 hours, and after: the worst activation delay."""
    ages = [0.0, *checks_over(settings.wait_check_schedule, hours * 3600, POLL_SECONDS)]
    gaps = [(start, end - start) for start, end in itertools.pairwise(ages)]
    early = max(gap for start, gap in gaps if start < 6 * 3600)
    late = max((gap for start, gap in gaps if start >= 6 * 3600), default=0.0)
    return early, late


def minutes(seconds: float | None) -> str:
    return "not resumed" if seconds is None else f"{seconds / 60:.1f} min"


def print_table(outcomes: Sequence[Outcome], hours: float) -> None:
    print(
        f"A {hours:g}-hour wait for Apple to activate a key: the wait's schedule beside fixed 5-minute polls\n"
    )
    print(
        f"  {'activation':<15} {'way':<9} {'checks':>7} {'Apple calls':>12} {'delay':>12} {'worker held':>12}"
    )
    for o in outcomes:
        print(
            f"  {o.activation:<15} {o.way:<9} {o.checks:>7} {o.apple_calls:>12} "
            f"{minutes(o.delay_seconds):>12} {o.held_seconds:>10.0f} s"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=48.0, help="the wait's limit (simulated hours)")
    parser.add_argument("--activations", default="10m,3h,20h,47h", help="when Apple activates the key")
    parser.add_argument(
        "--small", action="store_true", default="MAKELEVEL" in os.environ, help="8 hours, activations 10m,3h"
    )
    args = parser.parse_args(argv)
    if args.small:
        args.hours, args.activations = 8.0, "10m,3h"
    key = make_customer_key()
    scenario = Scenario(
        issuer_id=key.issuer_id, apps=[AppSpec(name="Waiting", bundle_id=BUNDLE_ID, sku="WAIT-1")]
    )
    cases = [*parse_cases(args.activations), Case("never", None)]
    if args.hours * 3600 > 20 * 3600 + 1:
        cases.append(Case("20h, check now", 20 * 3600 + 1.0, asked_after=60.0))
    # Custody and the audit trail fsync every write (two audit events per check): on memory where the machine
    # has it, since the disk's latency is not what this counts.
    memory = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(dir=memory) as folder, SimulatorServer(scenario) as apple:
        settings = Settings(data_dir=Path(folder) / "data", asc_base_url=apple.base_url, _env_file=None)
        bench = Bench(apple, settings, key.issuer_id)
        outcomes = [
            bench.run(case, way, args.hours)
            for case in cases
            # A fixed poll checks at every poll anyway: pressing "check now" changes nothing for it.
            for way in (("schedule",) if case.asked_after is not None else ("schedule", "fixed"))
        ]
    print_table(outcomes, args.hours)
    totals = Counter({o.way: o.checks for o in outcomes if o.activation == "never"})
    early, late = worst_delays(settings, args.hours)
    print(
        f"\n  never activated: {totals['schedule']} checks on the schedule against {totals['fixed']} "
        f"(target: at most 100)"
    )
    print(
        f"  worst delay over every activation moment: {minutes(early)} in the first 6 hours (target 15 min), "
        f"{minutes(late)} after (target 60 min)"
    )


if __name__ == "__main__":
    main()
