"""What one onboarding costs at Apple and in time, step by step, first run and rerun (no Prefect overhead).

    .venv/bin/python -m benchmarks.onboarding_steps [--apps 5]

Runs the pipeline's steps (ascflow.pipeline) for N apps against the simulator over loopback HTTP, then runs
them all again (the rerun every retry, resume or crash recovery makes), and prints Apple requests and wall
time per step. The rerun must make no write; its reads are the price of idempotency.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from pydantic import SecretStr

from ascflow.audit import Actor
from ascflow.custody import CustodyInput
from ascflow.demo import demo_key
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.job import Job
from ascflow.pipeline.request import BuildSource, Invitee, OnboardingRequest, ReviewContact
from ascflow.pipeline.steps import STEPS
from ascflow.settings import Settings
from ascflow.simulator.scenario import AppSpec, Delays, KeySpec, Scenario, VersionSpec
from ascflow.simulator.server import SimulatorServer
from tests.fixtures.ipa import build_ipa


def request_for(index: int, custody_id: str, folder: Path) -> OnboardingRequest:
    bundle_id, number = f"com.example.bench{index}", str(100 + index)
    ipa = folder / f"{bundle_id}.ipa"  # the app's own build: Apple reads its bundle ID from Info.plist
    if not ipa.exists():
        build_ipa(ipa, bundle_id, "2.0", number, extra_size=6 * 1024 * 1024)
    return OnboardingRequest(
        tenant="bench",
        custody_id=custody_id,
        bundle_id=bundle_id,
        version="2.0",
        build=BuildSource(path=str(ipa), build_number=number),
        whats_new={"en-US": "Faster.", "de-DE": "Schneller."},
        review_contact=ReviewContact(
            first_name="R", last_name="V", phone="+1 555 0100", email="r@example.com"
        ),
        invitees=[Invitee(email=f"dev{index}@publisher.example", first_name="D", last_name="V")],
    )


def run_steps(
    ctx: StepContext, custody_id: str, request: OnboardingRequest
) -> dict[str, tuple[int, Counter[str], float]]:
    """The step list in order, as the flow runs it, without Prefect (and without waiting for the review)."""
    costs = {}
    results: dict[str, object] = {}
    for step in STEPS:
        if step.name == "await-review" or not step.applies(request):
            continue
        before, methods = ctx.calls.total, Counter(ctx.calls.by_method)
        started = time.perf_counter()
        job = Job(
            request=request,
            custody_id=custody_id,
            results={n: results[n] for n in step.needs if n in results},
        )
        results[step.name] = step.run(ctx, job)
        spent = Counter(ctx.calls.by_method)
        spent.subtract(methods)
        costs[step.name] = (ctx.calls.total - before, +spent, time.perf_counter() - started)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, default=5)
    args = parser.parse_args()
    key_id, p8, public_pem = demo_key()
    issuer = "9f1e4b7a-3c2d-4e5f-8a9b-0c1d2e3f4a5b"
    apps = [
        AppSpec(name=f"Bench {i}", bundle_id=f"com.example.bench{i}", sku=f"BENCH{i}",
                versions=[VersionSpec(version_string="1.0")])
        for i in range(args.apps)
    ]  # fmt: skip
    scenario = Scenario(
        issuer_id=issuer,
        keys=[KeySpec(key_id=key_id, public_key_pem=public_pem)],
        apps=apps,
        time_scale=36_000,
        delays=Delays(upload_processing_seconds=60, build_processing_seconds=600),
    )
    with tempfile.TemporaryDirectory() as folder, SimulatorServer(scenario) as apple:
        settings = Settings(data_dir=Path(folder), asc_base_url=apple.base_url, poll_interval_seconds=0.05)
        builds = Path(folder)
        results: dict[str, dict[str, list[tuple[int, Counter[str], float]]]] = {"first": {}, "rerun": {}}
        for round_name in results:
            for index in range(args.apps):
                ctx = StepContext(tenant="bench", run_id=f"bench-{round_name}-{index}",
                                  actor=Actor(kind="system", id="benchmark"), settings=settings)  # fmt: skip
                record = ctx.custody.deposit(
                    CustodyInput(
                        tenant="bench", key_id=key_id, issuer_id=SecretStr(issuer), p8=SecretStr(p8)
                    ),
                    actor=ctx.actor,
                )
                for step, cost in run_steps(ctx, record.id, request_for(index, record.id, builds)).items():
                    results[round_name].setdefault(step, []).append(cost)
        print(f"Onboarding steps, {args.apps} apps, simulator over loopback HTTP (time scale 36000)\n")
        print(f"{'step':<20} {'round':<6} {'Apple calls':>11} {'writes':>7} {'median s':>9} {'max s':>7}")
        for step in results["first"]:
            for round_name, by_step in results.items():
                costs = by_step[step]
                writes = statistics.mean(sum(v for m, v in c[1].items() if m != "GET") for c in costs)
                print(
                    f"{step:<20} {round_name:<6} {statistics.mean(c[0] for c in costs):>11.1f} {writes:>7.1f} "
                    f"{statistics.median(c[2] for c in costs):>9.3f} {max(c[2] for c in costs):>7.3f}"
                )
        totals = {r: sum(statistics.mean(c[0] for c in s) for s in by.values()) for r, by in results.items()}
        print(f"\nApple calls per onboarding: first run {totals['first']:.1f}, rerun {totals['rerun']:.1f}")


if __name__ == "__main__":
    main()
