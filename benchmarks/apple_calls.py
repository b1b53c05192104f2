"""Fewest Apple calls: the minimum each step needs beside what the pipeline spends, first run and rerun.

    .venv/bin/python -m benchmarks.apple_calls

Two onboardings over loopback HTTP against the simulator, each run twice through the step list without Prefect
(the rerun is what every retry, resume or crash recovery costs): a first release (a new app with the example
listing, examples/listing.yaml: two locales, three screenshots, free, all territories) and an update (an app
whose 1.0 is on the store: a new 1.1 with What's New in one locale). The tenant has no certificate before the
first release; the update reuses it. Calls are App Store Connect API requests (the screenshot and build part
PUTs go to Apple's upload hosts without a token and are not counted). Apple's processing is instant here, so
each wait costs its one read: the minimum counts one read per wait, and slower processing adds the reads of
the fixed-interval poll to both.

The minimum per step, and why (a rerun's minimum is the reads that prove nothing is missing; every write is
find-or-create, so a first run cannot skip the reads a rerun needs either):

- validate: 3. One read per thing the run needs and Apple answers apart: `GET /v1/certificates` (the key
  works at all, provisioning, and Apple's agreements, which only provisioning endpoints refuse), `GET
  /v1/users` (the Admin role invitations need) and the app by bundle ID (its id for every later step). Rerun: 3.
- signing: 5 with a new certificate (read bundle IDs, read certificates, create the certificate, read profiles
  by name, create the profile), 4 reusing one; rerun 3 reads. The pipeline reads a new profile back once
  (a profile bound to the wrong App ID is a known silent failure), so it spends one more.
- team: 3 per new invitee (is a member, is invited, invite); rerun 2.
- app listing: §16a rows 1, 2, 4-7 (6) and the second locale's appInfoLocalization (1) = 7; rerun 2 reads.
- pricing: §16a rows 23-26 (4) and the reads of the schedule and availability a rerun needs to write nothing
  (2) = 6; rerun 4, not 2 as this table said before issue 17's second pass: the schedule, its manual prices
  with their price points (the amount lives on the price point, which the schedule's read cannot include: its
  `included` takes appPrices, apps and territories only), the availability, and its territory availabilities
  (all 175 territories here; an include gives at most 50 of them, the relationship's own read 200 a page).
- build upload: 6: find the upload, reserve it, reserve its file, commit the file, read the upload until
  COMPLETE with its build included (Apple's processing is instant here, so that read also finds the build
  VALID; slower processing adds the build's reads), answer export compliance (§16a row 10). The app's id is
  known from validate in the same run. Rerun 1 (the upload with its build included: COMPLETE, VALID, the
  export-compliance answer; this table said 2 before).
- version: 4 (read the app's versions, create the version with the build, read its review detail, create the
  detail: §16a rows 3 and 11 and the create §16a assumes done); an update adds reading the localizations Apple
  copied and one What's New write per locale (6). Rerun 1 (the versions with their build, review detail and,
  for an update, localizations included).
- version listing: §16a rows 8, 9, 12-22 (13), the second locale's version localization (1), and reading the
  new version's localizations (§16a row 3's include; the version is made in this run) = 15; rerun 2.
- review submission: §16a rows 27-30 = 4; rerun 1 (the open submissions, each naming its version:
  `include=appStoreVersionForReview`). The pipeline spends more: a rerun also reads the open submission's
  items, and an update's submission step reads the version's localizations (its preflight,
  ascflow/pipeline/review.py) though prepare-version read and wrote them in the same run.

§16a's 30 calls for the listing are rows 1-30: here they fall into app listing, pricing, version, version
listing, build upload (row 10) and review submission, with the example's second locale (2), the version create
(1), the review detail read (1) and the idempotency reads of pricing (2) on top.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from ascflow.audit import Actor
from ascflow.custody import CustodyInput
from ascflow.listing import ListingSource, write_example_screenshots
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.job import Job, StepResult
from ascflow.pipeline.request import BuildSource, Invitee, OnboardingRequest, ReviewContact
from ascflow.pipeline.steps import STEPS, run_step
from ascflow.settings import Settings
from ascflow.simulator.scenario import AppSpec, BuildSpec, Delays, KeySpec, Scenario, VersionSpec
from ascflow.simulator.server import SimulatorServer
from tests.fixtures.ipa import build_ipa
from tests.fixtures.keys import make_customer_key

EXAMPLE_LISTING = Path(__file__).resolve().parent.parent / "examples" / "listing.yaml"
TENANT = "calls"
FIRST_RELEASE = AppSpec(
    name="Tally Lists", bundle_id="com.example.tally", sku="TALLY-1", app_privacy_published=True
)
UPDATE = AppSpec(
    name="Ledger",
    bundle_id="com.example.ledger",
    sku="LEDGER-1",
    app_privacy_published=True,
    builds=[BuildSpec(version="1.0", build_number="10", uses_non_exempt_encryption=False)],
    versions=[VersionSpec(version_string="1.0", build_number="10")],
)
# (first run, rerun) per step; the module docstring says why.
MINIMUM: dict[str, dict[str, tuple[int, int]]] = {
    "first release": {
        "check-listing": (0, 0),
        "validate-credentials": (3, 3),
        "ensure-signing": (5, 3),
        "invite-team": (3, 2),
        "apply-app-listing": (7, 2),
        "apply-pricing": (6, 4),
        "upload-build": (6, 1),
        "prepare-version": (4, 1),
        "apply-version-listing": (15, 2),
        "submit-for-review": (4, 1),
    },
    "update": {
        "validate-credentials": (3, 3),
        "ensure-signing": (4, 3),
        "invite-team": (3, 2),
        "upload-build": (6, 1),
        "prepare-version": (6, 1),
        "submit-for-review": (4, 1),
    },
}
WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@dataclass(frozen=True)
class StepCost:
    calls: int
    writes: int


def api_requests(apple: SimulatorServer, since: int) -> list[tuple[str, str]]:
    """App Store Connect API requests (method, path) in the simulator's log from index `since`."""
    return [
        (r.method, r.path) for r in apple.control.requests()[since:] if r.path.startswith(("/v1/", "/v2/"))
    ]


def run_counted(
    apple: SimulatorServer, ctx: StepContext, request: OnboardingRequest, custody_id: str
) -> dict[str, StepCost]:
    """The step list in order without Prefect (no review wait), with each step's Apple requests."""
    costs: dict[str, StepCost] = {}
    results: dict[str, StepResult] = {}
    for step in STEPS:
        if step.name == "await-review" or not step.applies(request):
            continue
        before = len(apple.control.requests())
        job = Job(
            request=request,
            custody_id=custody_id,
            results={n: results[n] for n in step.needs if n in results},
        )
        result = run_step(step, ctx, job)
        if not isinstance(result, StepResult):
            raise RuntimeError(f"step {step.name} waited ({result.kind}): the benchmark's apps need no wait")
        results[step.name] = result
        made = api_requests(apple, before)
        costs[step.name] = StepCost(len(made), sum(1 for method, _ in made if method in WRITES))
    return costs


def requests_for(folder: Path, custody_id: str) -> dict[str, OnboardingRequest]:
    write_example_screenshots(folder / "screenshots")
    listing = folder / "listing.yaml"
    listing.write_text(EXAMPLE_LISTING.read_text())
    first_ipa = build_ipa(folder / "tally.ipa", FIRST_RELEASE.bundle_id, "1.0", "7")
    update_ipa = build_ipa(folder / "ledger.ipa", UPDATE.bundle_id, "1.1", "11")
    return {
        "first release": OnboardingRequest(
            tenant=TENANT,
            custody_id=custody_id,
            bundle_id=FIRST_RELEASE.bundle_id,
            version="1.0",
            build=BuildSource(path=str(first_ipa), build_number="7"),
            whats_new={},
            listing=ListingSource(path=str(listing)),
            invitees=[Invitee(email="dev1@publisher.example", first_name="D", last_name="One")],
        ),
        "update": OnboardingRequest(
            tenant=TENANT,
            custody_id=custody_id,
            bundle_id=UPDATE.bundle_id,
            version="1.1",
            build=BuildSource(path=str(update_ipa), build_number="11"),
            whats_new={"en-US": "Faster sums."},
            review_contact=ReviewContact(
                first_name="R", last_name="V", phone="+1 555 0100", email="r@example.com"
            ),
            invitees=[Invitee(email="dev2@publisher.example", first_name="D", last_name="Two")],
        ),
    }


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    # The example listing's demo account takes its password from the worker's environment.
    os.environ.setdefault("TALLY_DEMO_PASSWORD", "demo-password-for-review")
    key = make_customer_key()
    scenario = Scenario(
        issuer_id=key.issuer_id,
        keys=[KeySpec(key_id=key.key_id, public_key_pem=key.public_pem)],
        apps=[FIRST_RELEASE, UPDATE],
        time_scale=36_000,
        # Processing at once (one read per wait); the review never starts, so a rerun meets the submission open.
        delays=Delays(upload_processing_seconds=0, build_processing_seconds=0, review_wait_seconds=10**9),
    )
    with tempfile.TemporaryDirectory() as folder, SimulatorServer(scenario) as apple:
        root = Path(folder)
        settings = Settings(
            data_dir=root / "data",
            asc_base_url=apple.base_url,
            poll_interval_seconds=0.05,
            access_backoff_seconds=[],
        )
        ctx = StepContext(
            tenant=TENANT, run_id="calls", actor=Actor(kind="system", id="benchmark"), settings=settings
        )
        custody_id = ctx.custody.deposit(
            CustodyInput(
                tenant=TENANT, key_id=key.key_id, issuer_id=SecretStr(key.issuer_id), p8=SecretStr(key.p8)
            ),
            actor=ctx.actor,
        ).id
        measured = {
            case: (run_counted(apple, ctx, request, custody_id), run_counted(apple, ctx, request, custody_id))
            for case, request in requests_for(root, custody_id).items()
        }
        state = Counter({kind: len(items) for kind, items in apple.control.state().items()})
    print("Apple calls per step: the minimum (benchmarks/apple_calls.py says why) and the pipeline's\n")
    for case, (first, rerun) in measured.items():
        print(f"{case}")
        print(
            f"  {'step':<22} {'min':>4} {'calls':>6} {'writes':>7} | {'rerun min':>9} {'calls':>6} {'writes':>7}"
        )
        for step in first:
            # A step added to the list after this table was written shows "?" until its minimum is written down.
            least, least_rerun = (str(n) for n in MINIMUM[case].get(step, ("?", "?")))
            print(
                f"  {step:<22} {least:>4} {first[step].calls:>6} {first[step].writes:>7} | "
                f"{least_rerun:>9} {rerun[step].calls:>6} {rerun[step].writes:>7}"
            )
        need = sum(m for m, _ in MINIMUM[case].values())
        need_rerun = sum(r for _, r in MINIMUM[case].values())
        spent = sum(c.calls for c in first.values())
        spent_rerun = sum(c.calls for c in rerun.values())
        print(
            f"  {'total':<22} {need:>4} {spent:>6} {sum(c.writes for c in first.values()):>7} | "
            f"{need_rerun:>9} {spent_rerun:>6} {sum(c.writes for c in rerun.values()):>7}"
        )
        print(
            f"  first run {spent / need:.2f}x the minimum (target 1.1x); "
            f"rerun {spent_rerun / need_rerun:.2f}x, writes {sum(c.writes for c in rerun.values())} (target 0)\n"
        )
    print(
        "Apple holds: "
        + ", ".join(f"{kind} {state[kind]}" for kind in ("certificates", "profiles", "appStoreVersions",
                                                          "reviewSubmissions", "appScreenshots", "userInvitations"))
    )  # fmt: skip


if __name__ == "__main__":
    main()
