"""Storage at scale: the cleanup sweep over many custody records, and the status page and operator list over
many onboardings, each beside the old way (record by record, whole audit log per onboarding) in the same run.

    .venv/bin/python -m benchmarks.storage [--records 10000 --onboardings 10000] [--small]

Run by `make benchmarks` (MAKELEVEL set), the default is `--small` (500 records, 300 onboardings).

Local backends (a custody directory, the audit log's JSON lines, the intake's SQLite store) in a temporary
directory. The sweep: `--records` API keys deposited, half of them past their expiry at the sweep; the old way
is the sweep as it was (list, then `destroy` one record after another: its own audit append and fsync each),
on an identical copy of the same records, timed over the first `--old-records` of them (1000) and scaled to
all: each record costs it the same steps, one after another. The pages: `--onboardings` onboardings and their
audit trails (a finished run writes 48 events, 60 % have finished, the others stopped part-way), interleaved
as many runs write them; before each timed page the log grows by one more run's trail, which the page's index
catches up on. A page here is what the audit trail, the onboarding store and custody cost; the Prefect read
of the run state is left out (one read per status page before and after; one per list page now, one per
onboarding before).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr

from ascflow.audit import Action, Actor, AuditEvent, AuditLog, LocalBackend, ServiceKey, Target
from ascflow.custody import Custody, CustodyInput, LocalKek, LocalStore
from ascflow.intake.onboardings import Onboarding, OnboardingStore
from ascflow.intake.status import StepDone, page_steps, steps_from_index, steps_from_log
from ascflow.intake.trail import TrailIndex
from ascflow.pipeline.request import BuildSource, OnboardingRequest, ReviewContact

TTL = timedelta(hours=72)
SWEEPER = Actor(kind="schedule", id="credential-cleanup")
# One run's trail, 47 events (48 with the deposit): the key opened at each step, waits polled, the listing in parts.
RUN = [
    Action.RUN_STARTED,
    *[Action.CREDENTIALS_OPENED, Action.CREDENTIALS_VALIDATED, *[Action.ACCESS_WAITING] * 4],
    *[Action.ACCESS_GRANTED, Action.CREDENTIALS_OPENED, Action.SIGNING_BUNDLE_ID_ENSURED],
    *[Action.SIGNING_CERTIFICATE_ENSURED, Action.SIGNING_PROFILE_ENSURED, Action.CREDENTIALS_OPENED],
    *[Action.TEAM_INVITED, Action.TEAM_INVITED, Action.CREDENTIALS_OPENED, Action.BUILD_CHECKED],
    *[Action.BUILD_UPLOADED, *[Action.BUILD_PROCESSED] * 4, Action.CREDENTIALS_OPENED],
    *[Action.VERSION_PREPARED, *[Action.LISTING_APPLIED] * 10, Action.CREDENTIALS_OPENED],
    *[Action.REVIEW_SUBMITTED, *[Action.CREDENTIALS_OPENED] * 7, Action.REVIEW_OUTCOME],
    *[Action.CREDENTIALS_DESTROYED, Action.CREDENTIALS_RECEIPT_ISSUED, Action.RUN_FINISHED],
]
KEY_ACTIONS = {Action.CREDENTIALS_OPENED, Action.CREDENTIALS_VALIDATED, Action.CREDENTIALS_DESTROYED}


def p8_key() -> tuple[str, str]:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return "BENCH12345", pem.decode()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def custody_at(root: Path, clock: Clock, key: ServiceKey) -> Custody:
    audit = AuditLog(LocalBackend(root / "audit"), key)
    return Custody(
        store=LocalStore(root / "custody"),
        kek=LocalKek(root / "keys" / "kek.bin"),
        audit=audit,
        receipt_key=key,
        ttl=TTL,
        clock=clock,
    )


def timed(work: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def bench_sweep(root: Path, records: int, old_records: int) -> None:
    clock, key = Clock(), ServiceKey.generate()
    new = custody_at(root / "new", clock, key)
    key_id, p8 = p8_key()
    item = CustodyInput(
        tenant="acme", key_id=key_id, issuer_id=SecretStr(str(uuid.uuid4())), p8=SecretStr(p8)
    )
    expiring = records // 2

    def deposit(count: int) -> None:  # setup, on threads: each deposit waits on its own fsyncs
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: new.deposit(item, actor=SWEEPER), range(count)))

    setup, _ = timed(lambda: deposit(expiring))
    clock.now += TTL / 2
    setup += timed(lambda: deposit(records - expiring))[0]
    clock.now += TTL / 2
    shutil.copytree(root / "new", root / "old")  # the same records, keys and log for the old way
    old = custody_at(root / "old", clock, key)
    print(f"cleanup sweep: {records} custody records, {expiring} expired (deposited in {setup:.1f} s)")

    sampled = min(old_records, expiring)

    def old_way() -> None:  # the sweep as it was, over the first `sampled` due records
        due = [info.id for info in old.list() if info.expired(clock())]
        for custody_id in due[:sampled]:
            old.destroy(custody_id, actor=SWEEPER)

    old_s = timed(old_way)[0] * expiring / sampled  # each record costs the same: its own steps, one by one
    new_s, _ = timed(lambda: new.purge_expired(actor=SWEEPER))
    for label, custody in (("old", old), ("new", new)):
        left = len(custody.list())
        destroyed = sum(1 for e in custody.audit.events() if e.action == Action.CREDENTIALS_DESTROYED)
        receipts = len(custody.store.names("receipts"))
        print(f"  {label}: {records - left} destroyed, {destroyed} destroyed events, {receipts} receipts")
    per = 1000 / expiring
    sample = "" if sampled == expiring else f", extrapolated from {sampled} records"
    print(f"  old way (one record after another):  {old_s:6.2f} s  ({old_s * per:.2f} ms a record{sample})")
    print(f"  sweep (batched, 16 threads):         {new_s:6.2f} s  ({new_s * per:.2f} ms a record)")
    verdict = "met" if new_s < 10 else "NOT met"
    scale = (
        "" if records == 10_000 else f" (at {records}; scaled to 10,000: {new_s * 10_000 / records:.1f} s)"
    )
    print(f"  new/old: {new_s / old_s:.2f}; target under 10 s: {verdict}{scale}")


def request(i: int) -> OnboardingRequest:
    return OnboardingRequest(
        tenant=f"tenant{i % 200}",
        bundle_id=f"com.example.app{i}",
        version="1.1",
        build=BuildSource(path=None, build_number="42"),
        whats_new={"en-US": "Faster loading."},
        review_contact=ReviewContact(
            first_name="Robin", last_name="Reviewer", phone="+1 555 0100", email="review@acme.example"
        ),
    )


def make_onboardings(store: OnboardingStore, count: int) -> list[Onboarding]:
    """`count` onboardings with a run and a key, written in one transaction (setup, not what is measured)."""
    start = datetime.now(UTC)
    rows = []
    for i in range(count):
        req, made = request(i), (start + timedelta(milliseconds=i)).isoformat()
        rows.append(
            (
                uuid.uuid4().hex,
                req.tenant,
                req.bundle_id,
                req.model_dump_json(),
                uuid.uuid4().hex,
                (start + timedelta(days=2)).isoformat(),
                str(uuid.uuid4()),
                uuid.uuid4().hex,
                made,
                made,
            )
        )
    with store.connect() as db:
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO onboardings (id, tenant, bundle_id, request, link_nonce, link_expires_at, flow_run_id,"
            " custody_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.execute("COMMIT")
    return store.list()


def run_events(onboarding: Onboarding, upto: int) -> list[AuditEvent]:
    run, custody = onboarding.flow_run_id or "", onboarding.custody_id
    events = [
        AuditEvent(
            actor=Actor(kind="system", id="intake"),
            action=Action.CREDENTIALS_DEPOSITED,
            tenant=onboarding.tenant,
            target=Target(custody_id=custody),
            outcome="success",
        )
    ]
    for action in RUN[:upto]:
        target = Target(run_id=run, custody_id=custody if action in KEY_ACTIONS else None)
        events.append(
            AuditEvent(
                actor=Actor(kind="flow", id=run),
                action=action,
                tenant=onboarding.tenant,
                target=target,
                outcome="success",
            )
        )
    return events


def fill_log(audit: AuditLog, onboardings: list[Onboarding], rng: random.Random) -> int:
    """Every onboarding's trail, 50 runs at a time interleaved; 60 % done, the rest stopped part-way."""
    written = 0
    for group in range(0, len(onboardings), 50):
        streams = [
            run_events(o, len(RUN) if rng.random() < 0.6 else rng.randrange(1, len(RUN)))
            for o in onboardings[group : group + 50]
        ]
        merged = [s[i] for i in range(max(map(len, streams))) for s in streams if i < len(s)]
        for chunk in range(0, len(merged), 5000):
            written += len(audit.append_many(merged[chunk : chunk + 5000]))
    return written


def ms(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {1000 * statistics.median(ordered):8.1f} ms, p95 {1000 * p95:8.1f} ms"


def bench_pages(root: Path, count: int, samples: int, old_samples: int) -> None:
    rng = random.Random(7)
    store = OnboardingStore(root / "intake" / "onboardings.sqlite3")
    audit = AuditLog(LocalBackend(root / "audit"), ServiceKey.generate())
    custody = custody_at(root / "pages", Clock(), audit.key)
    trail = TrailIndex(root / "intake" / "trail-index.sqlite3", audit)
    setup, onboardings = timed(lambda: make_onboardings(store, count))
    assert isinstance(onboardings, list)
    setup_log, events = timed(lambda: fill_log(audit, onboardings, rng))
    size = (root / "audit" / "events.jsonl").stat().st_size
    print(
        f"status page and operator list: {count} onboardings, {events} audit events ({size / 1e6:.0f} MB log;"
        f" made in {setup + setup_log:.1f} s)"
    )
    built, _ = timed(trail.catch_up)
    print(f"  index built from the whole log once: {built:.2f} s (afterwards only what each page finds new)")

    def grow() -> None:  # between two pages, one more run writes its trail
        audit.append_many(run_events(rng.choice(onboardings), len(RUN)))

    def new_status(o: Onboarding) -> None:  # onboarding_status with the index, less Prefect
        page_steps([o], trail)
        custody.receipt(o.custody_id or "")

    def old_status(o: Onboarding) -> list[StepDone]:
        custody.receipt(o.custody_id or "")
        return steps_from_log(o, audit)

    def new_list(after: str | None) -> str | None:
        page = store.page(100, after)  # page_status, less the one Prefect read of the page's runs
        page_steps(page, trail)
        for o in page:
            custody.receipt(o.custody_id or "")
        return page[-1].id if page else None

    picks = rng.sample(onboardings, min(samples, count))
    new_pages, old_pages, list_pages = [], [], []
    for o in picks:
        grow()
        new_pages.append(timed(partial(new_status, o))[0])
    agreed: list[bool] = []
    for o in picks[:old_samples]:
        grow()
        trail.catch_up()
        spent, steps = timed(partial(old_status, o))
        old_pages.append(spent)
        agreed.append(steps == steps_from_index(o, trail))  # the same steps, whichever way read
    after: str | None = None
    while True:
        grow()
        start = time.perf_counter()
        after = new_list(after)
        if after is None:
            break
        list_pages.append(time.perf_counter() - start)
    old_one = statistics.median(old_pages)
    print(f"  the index and the whole log give the same steps: {sum(agreed)} of {len(agreed)} onboardings")
    print(
        f"  status page, index (catches up on ~{len(RUN) + 1} new events): {ms(new_pages)}  ({len(new_pages)} pages)"
    )
    print(f"  status page, whole log (old):              {ms(old_pages)}  ({len(old_pages)} pages)")
    print(
        f"  operator list page of 100, index:          {ms(list_pages)}  ({len(list_pages)} pages,"
        f" all {count} in {sum(list_pages):.2f} s)"
    )
    print(
        f"  operator list, whole log (old): one onboarding costs one whole-log read, so a page of 100 is"
        f" ~{100 * old_one:.0f} s and the old unpaged list of {count} ~{count * old_one:.0f} s"
        f" (extrapolated from {len(old_pages)} reads)"
    )
    p95 = max(sorted(pages)[int(0.95 * len(pages))] for pages in (new_pages, list_pages))
    worst = max(max(new_pages), max(list_pages))
    verdict = "met" if p95 < 0.2 else "NOT met"
    print(
        f"  target under 200 ms a page: {verdict} at p95 ({1000 * p95:.1f} ms; slowest page {1000 * worst:.1f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--onboardings", type=int, default=10_000)
    parser.add_argument("--old-records", type=int, default=1000, help="records the old sweep is timed on")
    parser.add_argument("--samples", type=int, default=50, help="status pages timed the new way")
    parser.add_argument("--old-samples", type=int, default=3, help="status pages timed the old way")
    parser.add_argument(
        "--small", action="store_true", default="MAKELEVEL" in os.environ, help="500 records, 300 onboardings"
    )
    args = parser.parse_args()
    records, onboardings = (500, 300) if args.small else (args.records, args.onboardings)
    with tempfile.TemporaryDirectory(prefix="ascflow-storage-") as tmp:
        bench_sweep(Path(tmp) / "sweep", records, args.old_records)
        bench_pages(Path(tmp) / "pages", onboardings, args.samples, args.old_samples)


if __name__ == "__main__":
    main()
