"""Many tenants on the real engine, beside the same job done by a plain sequential script.

    .venv/bin/python -m benchmarks.fleet [--runs 200 --tenants 20] [--small] [--faults 0.1] [--seed 7]

The operator's stack: a Prefect server on the machine's PostgreSQL (a fresh database, dropped afterwards), the
work pool and `prefect deploy --all` from prefect.yaml, two `prefect worker start` process workers (each runs
every flow run in a process of its own, at most `--limit` at once), and the simulator with 100 ms on every App
Store Connect call (its `latency` fault; Apple time runs at 3600x, so processing waits are short but every call
costs its 100 ms). Each tenant has its own API key; each onboarding publishes version 1.1 of its own app (an
update), uploading its own build, and destroys its custody record after the submission.

First one onboarding alone (a first release with the example listing, then an update) for the overlap: its
wall time under Prefect, where background steps run beside the rest, against the sequential script's. Then N
onboardings over T tenants at once. Then the same job by the sequential script: a fresh simulator with the
same apps and faults, and a plain loop over the same library functions (the step list, `run_in_process`),
one onboarding after another, polling every 5 Apple seconds, no Prefect. The pipeline polls at the same
interval under Prefect, so the figures compare the engine, not the poll.

Printed: every final state (and each non-completed run's state message), wall time, p50/p95 per run (the
flow run's own start to end, and from submission), Apple calls per run, the most calls one key made in a
wall-clock hour (Apple allows 3600; the simulator's budget counts Apple hours, so this is counted from its
request log) and 429s that did not come from an injected fault, peak RSS (VmHWM) of the server, the workers and
the flow-run processes they started, and the wall-time ratio. `--faults P` injects, with probability P per call
split evenly, 5xx, 429 with Retry-After 1 s, connection resets and (on writes) responses dropped after the
write was applied, from a seeded generator; duplicates at Apple are then counted (certificates per tenant,
profiles, invitations, versions, submissions and builds per app: each must be 1).

Run by `make benchmarks` (MAKELEVEL set), the default is `--small` (8 onboardings over 2 tenants).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from pydantic import SecretStr

from ascflow.audit import Actor
from ascflow.custody import CustodyInput
from ascflow.listing import ListingSource, write_example_screenshots
from ascflow.local_prefect import LocalPrefect
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.request import BuildSource, Invitee, OnboardingRequest, ReviewContact
from ascflow.pipeline.steps import run_in_process
from ascflow.runs import start_onboarding
from ascflow.settings import Settings
from ascflow.simulator.control import LoggedRequest
from ascflow.simulator.faults import FaultPlan, FaultRule
from ascflow.simulator.scenario import AppSpec, Delays, KeySpec, Scenario, VersionSpec
from ascflow.simulator.server import SimulatorServer
from benchmarks.apple_calls import EXAMPLE_LISTING
from benchmarks.concurrent_onboardings import postgres_database
from deployments.work_pool import WORK_POOL
from tests.fixtures.ipa import build_ipa
from tests.fixtures.keys import CustomerKey, make_customer_key

TIME_SCALE = 3600.0
LATENCY = 0.1
POLL_APPLE_SECONDS = 5.0
API = "/v[12]/*"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
NOT_REVIEW = frozenset({"await-review"})
SOLO_TENANT = "solo"
SOLO_FIRST = AppSpec(
    name="Tally Lists", bundle_id="com.example.tally", sku="TALLY-1", app_privacy_published=True
)
SOLO_UPDATE = AppSpec(
    name="Solo", bundle_id="com.example.solo", sku="SOLO-1", versions=[VersionSpec(version_string="1.0")]
)


@dataclass(frozen=True)
class Onboarding:
    tenant: str
    key: CustomerKey
    request: OnboardingRequest  # custody_id is filled in when the key is deposited


@dataclass
class Outcome:
    state: str
    seconds: float  # the run's own start to end
    since_submitted: float
    reason: str = ""


def fleet_app(index: int) -> AppSpec:
    return AppSpec(
        name=f"Fleet {index}",
        bundle_id=f"com.example.fleet{index}",
        sku=f"FLEET{index}",
        versions=[VersionSpec(version_string="1.0")],
    )


def update_request(tenant: str, bundle_id: str, number: str, folder: Path) -> OnboardingRequest:
    ipa = folder / f"{bundle_id}.ipa"
    if not ipa.exists():  # the app's own build: Apple reads its bundle ID from the Info.plist
        build_ipa(ipa, bundle_id, "1.1", number, extra_size=1024 * 1024)
    return OnboardingRequest(
        tenant=tenant,
        bundle_id=bundle_id,
        version="1.1",
        build=BuildSource(path=str(ipa), build_number=number),
        whats_new={"en-US": "Faster."},
        review_contact=ReviewContact(
            first_name="R", last_name="V", phone="+1 555 0100", email="r@example.com"
        ),
        invitees=[Invitee(email=f"dev@{bundle_id}.example", first_name="D", last_name="V")],
        destroy_credentials="after_submission",
    )


def first_release_request(tenant: str, folder: Path) -> OnboardingRequest:
    listing = folder / "listing.yaml"
    if not listing.exists():
        write_example_screenshots(folder / "screenshots")
        listing.write_text(EXAMPLE_LISTING.read_text())
    ipa = build_ipa(folder / "tally.ipa", SOLO_FIRST.bundle_id, "1.0", "7", extra_size=1024 * 1024)
    return OnboardingRequest(
        tenant=tenant,
        bundle_id=SOLO_FIRST.bundle_id,
        version="1.0",
        build=BuildSource(path=str(ipa), build_number="7"),
        whats_new={},
        listing=ListingSource(path=str(listing)),
        invitees=[Invitee(email="dev@tally.example", first_name="D", last_name="V")],
        destroy_credentials="after_submission",
    )


def fault_plan(probability: float, seed: int) -> FaultPlan:
    rules = [FaultRule(kind="latency", path=API, latency_seconds=LATENCY)]
    if probability > 0:
        share = probability / 4
        rules += [
            FaultRule(kind="server_error", path=API, probability=share, status=503),
            FaultRule(kind="rate_limit", path=API, probability=share, retry_after=1),
            FaultRule(kind="reset", path=API, probability=share),
            FaultRule(
                kind="drop_after_write", path=API, methods=["POST", "PATCH", "DELETE"], probability=share
            ),
        ]
    return FaultPlan(seed=seed, rules=rules)


def scenario_for(keys: list[CustomerKey], apps: int, plan: FaultPlan) -> Scenario:
    issuer = keys[0].issuer_id
    return Scenario(
        issuer_id=issuer,
        keys=[KeySpec(key_id=k.key_id, public_key_pem=k.public_pem) for k in keys],
        apps=[SOLO_FIRST, SOLO_UPDATE, *(fleet_app(i) for i in range(apps))],
        time_scale=TIME_SCALE,
        # The review never starts within the benchmark: reruns meet the submission open.
        delays=Delays(upload_processing_seconds=120, build_processing_seconds=900, review_wait_seconds=10**9),
        # The simulator is one team; each tenant here stands for a customer's team with its own certificate.
        certificate_limits={"DISTRIBUTION": len(keys) + 2, "IOS_DISTRIBUTION": len(keys) + 2},
        faults=plan,
    )


def deposit(settings: Settings, onboarding: Onboarding) -> OnboardingRequest:
    ctx = StepContext(
        tenant=onboarding.tenant,
        run_id="deposit",
        actor=Actor(kind="customer", id=onboarding.tenant),
        settings=settings,
    )
    key = onboarding.key
    record = ctx.custody.deposit(
        CustodyInput(
            tenant=onboarding.tenant,
            key_id=key.key_id,
            issuer_id=SecretStr(key.issuer_id),
            p8=SecretStr(key.p8),
        ),
        actor=ctx.actor,
    )
    return onboarding.request.model_copy(update={"custody_id": record.id})


# ---- the sequential script ----


def sequential(settings: Settings, onboardings: list[Onboarding]) -> tuple[float, list[Outcome]]:
    """One onboarding after another through the same library functions, in this process, no Prefect."""
    outcomes = []
    started = time.monotonic()
    for index, onboarding in enumerate(onboardings):
        request = deposit(settings, onboarding)
        custody_id = request.custody_id or ""
        ctx = StepContext(
            tenant=onboarding.tenant,
            run_id=f"seq-{index}",
            actor=Actor(kind="system", id="sequential"),
            settings=settings,
        )
        began = time.monotonic()
        try:
            _, wait = run_in_process(ctx, request, custody_id, skip=NOT_REVIEW)
            state, reason = ("COMPLETED", "") if wait is None else ("WAITING", wait.description)
        except Exception as error:
            state, reason = "FAILED", f"{type(error).__name__}: {error}"
        spent = time.monotonic() - began
        outcomes.append(Outcome(state, spent, spent, reason))
    return time.monotonic() - started, outcomes


# ---- the Prefect stack ----


def read_kib(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += children(current)
    return pids


@dataclass
class Memory:
    """Peak RSS (VmHWM, KiB) of the processes this benchmark started, sampled while they live."""

    server: int = 0
    workers: dict[int, int] = field(default_factory=dict)
    run_process: int = 0
    runs_together: int = 0
    run_processes_seen: set[int] = field(default_factory=set)

    def sample(self, server_pid: int, worker_pids: list[int]) -> None:
        self.server = max(self.server, sum(read_kib(p, "VmHWM") for p in tree(server_pid)))
        together = 0
        for worker in worker_pids:
            self.workers[worker] = max(self.workers.get(worker, 0), read_kib(worker, "VmHWM"))
            for child in tree(worker)[1:]:
                self.run_processes_seen.add(child)
                self.run_process = max(self.run_process, read_kib(child, "VmHWM"))
                together += read_kib(child, "VmRSS")
        self.runs_together = max(self.runs_together, together)


@contextmanager
def sampling(memory: Memory, server_pid: int, worker_pids: list[int]) -> Iterator[None]:
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.5):
            memory.sample(server_pid, worker_pids)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        memory.sample(server_pid, worker_pids)


def snapshot(project: Path, target: Path) -> Path:
    """The checkout's files as they are now, for the workers: a flow run imports the code when it starts, and
    others edit the checkout meanwhile. Refuses a snapshot whose flow does not import."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=project, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = project / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    env = {**os.environ, "PYTHONPATH": str(target)}
    check = subprocess.run(
        [sys.executable, "-c", "import flows.onboard"], cwd=target, env=env, capture_output=True
    )
    if check.returncode != 0:
        raise RuntimeError(f"the checkout's flow does not import now: {check.stderr.decode()[-1500:]}")
    return target


@contextmanager
def operator_stack(
    root: Path, env: dict[str, str], workers: int, limit: int
) -> Iterator[tuple[LocalPrefect, list[subprocess.Popen[bytes]]]]:
    """Prefect's server, the work pool, prefect.yaml deployed, and process workers (as tests/flows does)."""
    code = snapshot(Path(__file__).resolve().parent.parent, root / "code")
    server = LocalPrefect(root / "prefect", env={**env, "PYTHONPATH": str(code)}, project_dir=code)
    # prefect.yaml's pull step is `{{ $PWD }}`: what a shell in the project root would set.
    stack_env = {**server.env, "PWD": str(code), "PREFECT_WORKER_QUERY_SECONDS": "1"}
    prefect_cli = str(Path(sys.executable).parent / "prefect")
    started: list[subprocess.Popen[bytes]] = []
    try:
        server.start_server()
        for command in (
            [sys.executable, "-m", "deployments.work_pool"],
            [prefect_cli, "--no-prompt", "deploy", "--all"],
        ):
            done = subprocess.run(
                command, env=stack_env, cwd=server.project_dir, capture_output=True, check=False
            )
            if done.returncode != 0:
                raise RuntimeError(
                    f"{' '.join(command[-3:])} failed: {done.stdout.decode()[-2000:]}{done.stderr.decode()[-2000:]}"
                )
        for index in range(workers):
            with (server.log_dir / f"worker-{index}.log").open("ab") as log:
                started.append(
                    subprocess.Popen(
                        [
                            prefect_cli,
                            "worker",
                            "start",
                            "--pool",
                            WORK_POOL,
                            "--name",
                            f"fleet-{index}",
                            "--limit",
                            str(limit),
                        ],
                        env=stack_env,
                        cwd=server.project_dir,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        yield server, started
    finally:
        for worker in started:
            worker.terminate()
        for worker in started:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        server.stop()


def run_all(
    prefect: LocalPrefect, settings: Settings, onboardings: list[Onboarding], timeout: float
) -> tuple[float, dict[UUID, Outcome]]:
    """Start every onboarding through Prefect's API, then wait for all to reach a final state."""
    started = time.monotonic()
    with prefect.client() as client:
        runs = [
            start_onboarding(client, request, f"fleet:{request.custody_id}").id
            for request in (deposit(settings, o) for o in onboardings)
        ]
        outcomes: dict[UUID, Outcome] = {}
        while len(outcomes) < len(runs) and time.monotonic() - started < timeout:
            time.sleep(1)
            pending = [r for r in runs if r not in outcomes]
            for run in client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=pending)), limit=len(pending)
            ):
                if run.state is None or run.state.type.value not in FINAL:
                    continue
                own = (
                    (run.end_time - run.start_time).total_seconds()
                    if run.end_time and run.start_time
                    else 0.0
                )
                reason = (
                    "" if run.state.type.value == "COMPLETED" else f"{run.state.name}: {run.state.message}"
                )
                outcomes[run.id] = Outcome(run.state.type.value, own, time.monotonic() - started, reason)
        for run_id in runs:
            outcomes.setdefault(
                run_id, Outcome("NOT FINISHED", 0.0, timeout, f"no final state in {timeout:.0f} s")
            )
    return time.monotonic() - started, outcomes


# ---- what Apple saw ----


def api_log(apple: SimulatorServer) -> list[LoggedRequest]:
    return [r for r in apple.control.requests() if r.path.startswith(("/v1/", "/v2/"))]


def busiest_hour(log: list[LoggedRequest]) -> tuple[int, int]:
    """The most calls one key made within any 3600 wall seconds, and within any 60."""
    times: dict[str, list[float]] = {}
    for record in log:
        if record.key_id:
            times.setdefault(record.key_id, []).append(record.time / TIME_SCALE)
    hour = minute = 0
    for stamps in times.values():
        stamps.sort()
        for window, best in ((3600.0, "hour"), (60.0, "minute")):
            start, most = 0, 0
            for end, stamp in enumerate(stamps):
                while stamp - stamps[start] > window:
                    start += 1
                most = max(most, end - start + 1)
            if best == "hour":
                hour = max(hour, most)
            else:
                minute = max(minute, most)
    return hour, minute


def duplicates(apple: SimulatorServer, tenants: int) -> dict[str, int]:
    """Resources Apple holds beyond one per app (one certificate per tenant): each must be 0."""
    state = apple.control.state()

    def extra(kind: str, key) -> int:
        counts = Counter(key(r) for r in state.get(kind, []))
        return sum(c - 1 for c in counts.values() if c > 1)

    certificates = [
        c for c in state.get("certificates", []) if "DISTRIBUTION" in c["attributes"]["certificateType"]
    ]
    return {
        "certificates": max(0, len(certificates) - tenants),
        "profiles": extra("profiles", lambda r: r["relationships"].get("bundleId")),
        "invitations": extra("userInvitations", lambda r: r["attributes"]["email"]),
        "versions": extra(
            "appStoreVersions", lambda r: (r["relationships"].get("app"), r["attributes"]["versionString"])
        ),
        "submissions": extra("reviewSubmissions", lambda r: r["relationships"].get("app")),
        "builds": extra("builds", lambda r: (r["relationships"].get("app"), r["attributes"]["version"])),
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def describe(label: str, wall: float, outcomes: list[Outcome], calls: int) -> None:
    own = [o.seconds for o in outcomes]
    submitted = [o.since_submitted for o in outcomes]
    print(f"{label}: wall {wall:.1f} s; final states {dict(Counter(o.state for o in outcomes))}")
    print(
        f"  per run p50 {percentile(own, 0.5):.1f} s, p95 {percentile(own, 0.95):.1f} s "
        f"(since submitting began: p50 {percentile(submitted, 0.5):.1f} s, p95 {percentile(submitted, 0.95):.1f} s)"
    )
    print(f"  Apple calls {calls}, {calls / max(1, len(outcomes)):.1f} per run")
    for outcome in outcomes:
        if outcome.state != "COMPLETED":
            print(f"  did not complete: {outcome.state}: {outcome.reason}")


def timeline(prefect: LocalPrefect, run_id: UUID) -> str:
    """The flow run's tasks as `name start-end` seconds from the run's start: what ran beside what."""
    with prefect.client() as client:
        run = client.read_flow_run(run_id)
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    if run.start_time is None:
        return "not started"
    spans = sorted(
        (
            (t.start_time - run.start_time).total_seconds(),
            (t.end_time - run.start_time).total_seconds(),
            t.name,
        )
        for t in tasks
        if t.start_time and t.end_time
    )
    return ", ".join(f"{name.rsplit('-', 1)[0]} {start:.1f}-{end:.1f}" for start, end, name in spans)


def describe_solo(
    name: str, engine: tuple[float, dict[UUID, Outcome]], plain: tuple[float, list[Outcome]]
) -> None:
    (from_submission, runs), (plain_wall, plain_runs) = engine, plain
    own = next(iter(runs.values()))
    print(
        f"  {name}: flow run {own.seconds:.1f} s ({own.state}; {from_submission:.1f} s from submission), "
        f"sequential {plain_wall:.1f} s ({plain_runs[0].state}): {own.seconds / plain_wall:.2f}x "
        f"(from submission {from_submission / plain_wall:.2f}x; target 0.8x)"
    )
    for outcome in (own, *plain_runs):
        if outcome.state != "COMPLETED":
            print(f"    did not complete: {outcome.reason}")


def describe_stack(log: list[LoggedRequest], memory: Memory) -> None:
    hour, minute = busiest_hour(log)
    own_429 = sum(1 for r in log if r.status == 429 and "rate_limit" not in (r.fault or ""))
    print(
        f"  most calls by one key in a wall-clock hour: {hour} (Apple allows 3600; its busiest minute: {minute}); "
        f"429s from the budget: {own_429}"
    )
    workers = ", ".join(f"{kib / 1024:.0f}" for kib in memory.workers.values())
    print(
        f"  peak RSS: server {memory.server / 1024:.0f} MiB (all its processes), workers {workers} MiB, "
        f"flow-run processes {memory.run_process / 1024:.0f} MiB each at most "
        f"({len(memory.run_processes_seen)} seen, {memory.runs_together / 1024:.0f} MiB together at the peak)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument(
        "--small", action="store_true", default="MAKELEVEL" in os.environ, help="8 runs over 2 tenants"
    )
    parser.add_argument(
        "--faults", type=float, default=0.0, help="probability per Apple call of an injected fault"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=6, help="flow runs at once per worker")
    parser.add_argument(
        "--baseline-runs", type=int, default=None, help="run the sequential script over the first K onboardings "
        "only and scale its wall time to all (it runs one after another, so its time adds up); default: all",
    )  # fmt: skip
    args = parser.parse_args()
    # The sequential script's retry lines (Apple's injected faults) are not figures.
    logging.getLogger("ascflow").setLevel(logging.ERROR)
    runs, tenants = (8, 2) if args.small else (args.runs, args.tenants)
    plan = fault_plan(args.faults, args.seed)
    issuer = str(uuid.uuid4())
    keys = [make_customer_key(issuer) for _ in range(tenants + 1)]  # the last one is the solo tenant's
    database = postgres_database()
    try:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            builds = root / "builds"
            builds.mkdir()
            fleet = [
                Onboarding(
                    f"tenant-{i % tenants}",
                    keys[i % tenants],
                    update_request(f"tenant-{i % tenants}", f"com.example.fleet{i}", str(100 + i), builds),
                )
                for i in range(runs)
            ]
            solo = [
                Onboarding(SOLO_TENANT, keys[-1], first_release_request(SOLO_TENANT, builds)),
                Onboarding(
                    SOLO_TENANT, keys[-1], update_request(SOLO_TENANT, SOLO_UPDATE.bundle_id, "11", builds)
                ),
            ]
            os.environ.setdefault("TALLY_DEMO_PASSWORD", "demo-password-for-review")
            poll = POLL_APPLE_SECONDS / TIME_SCALE
            with SimulatorServer(scenario_for(keys, runs, plan)) as apple:
                settings = Settings(data_dir=root / "engine", asc_base_url=apple.base_url)
                env = {
                    "ASCFLOW_DATA_DIR": str(settings.data_dir),
                    "ASCFLOW_ASC_BASE_URL": apple.base_url,
                    "ASCFLOW_POLL_INTERVAL_SECONDS": str(poll),
                    "PREFECT_API_DATABASE_CONNECTION_URL": database[1],
                }
                memory = Memory()
                with operator_stack(root, env, args.workers, args.limit) as (prefect, workers):
                    server_pid = prefect._processes[0].pid
                    with sampling(memory, server_pid, [w.pid for w in workers]):
                        solo_results = [run_all(prefect, settings, [o], 600) for o in solo]
                        solo_steps = [timeline(prefect, next(iter(r[1]))) for r in solo_results]
                        solo_calls = len(api_log(apple))
                        wall, outcomes = run_all(prefect, settings, fleet, 900 + 30 * runs)
                log = api_log(apple)[solo_calls:]
                fleet_dupes = duplicates(apple, tenants + 1)
            with SimulatorServer(scenario_for(keys, runs, plan)) as apple:
                settings = Settings(
                    data_dir=root / "sequential",
                    asc_base_url=apple.base_url,
                    poll_interval_seconds=poll,
                    access_backoff_seconds=[],
                )
                solo_sequential = [sequential(settings, [o]) for o in solo]
                solo_seq_calls = len(api_log(apple))
                baseline = fleet[: args.baseline_runs or runs]
                seq_wall, seq_outcomes = sequential(settings, baseline)
                seq_calls = len(api_log(apple)) - solo_seq_calls
                seq_dupes = duplicates(apple, tenants + 1)
    finally:
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", f"DROP DATABASE {database[0]} WITH (FORCE)"],
            check=False,
            capture_output=True,
        )
    faults = f", faults {args.faults:g} per call (seed {args.seed})" if args.faults else ""
    print(
        f"Fleet: {runs} onboardings over {tenants} tenants; Prefect on PostgreSQL, {args.workers} process "
        f"workers (limit {args.limit} each); 100 ms per Apple call{faults}\n"
    )
    print("One onboarding alone (overlap): Prefect flow run vs the sequential script")
    for name, engine, plain, steps in zip(
        ("first release with listing", "update"), solo_results, solo_sequential, solo_steps, strict=True
    ):
        describe_solo(name, engine, plain)
        print(f"    tasks (s from the run's start): {steps}")
    print()
    describe("Prefect fleet", wall, list(outcomes.values()), len(log))
    injected = Counter(k for r in log for k in (r.fault or "").split(",") if k and k != "latency")
    if injected:
        print(f"  faults injected: {dict(injected)}")
    describe_stack(log, memory)
    describe(f"Sequential script ({len(baseline)} of {runs} onboardings)", seq_wall, seq_outcomes, seq_calls)
    scaled = seq_wall * runs / len(baseline)
    if len(baseline) < runs:
        print(f"  its wall time for all {runs}, scaled from {len(baseline)}: {scaled:.1f} s")
    print(f"\nwall time, Prefect fleet / sequential script: {wall / scaled:.2f}x")
    if args.faults:
        print(f"duplicates at Apple (each must be 0): Prefect {fleet_dupes}; sequential {seq_dupes}")


if __name__ == "__main__":
    main()
