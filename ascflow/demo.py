"""`ascflow demo`: a first release, end to end, against a simulated App Store Connect on a local Prefect server.

A demo customer makes an Admin key that Apple activates only after a while; the key goes into custody; the
onboarding run checks the listing offline, checks the key, waits (suspended, holding no worker) until the access
poller sees the key work, creates the certificate, profile and invitation, applies the store listing (texts,
category, age rating, price, availability, three screenshots), uploads a generated build, and tries to submit
version 1.0: Apple refuses until the App Privacy answers are published, so the run waits again until the invited
team member publishes them (here through the simulator's control API, as the web UI would) and the poller
resumes it. Then it waits for Apple's review, destroys the key with a signed receipt, and the audit trail
verifies.
"""

from __future__ import annotations

import json
import os
import plistlib
import secrets
import shutil
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr

from ascflow.audit import Actor, open_audit_log
from ascflow.audit.verify import verify_log
from ascflow.custody import CustodyInput, open_custody
from ascflow.listing import ListingSource, write_example_screenshots
from ascflow.local_prefect import LocalPrefect
from ascflow.pipeline import steps as step_list
from ascflow.pipeline.request import BuildSource, Invitee, OnboardingRequest, ReviewContact
from ascflow.runs import start_onboarding
from ascflow.settings import Settings
from ascflow.simulator.scenario import AppSpec, Delays, Scenario, VersionSpec
from ascflow.simulator.server import SimulatorServer
from ascflow.simulator.signing import app_store_profile

TIME_SCALE = 3600.0  # one hour of Apple time per wall-clock second
ACCESS_DELAY_WALL_SECONDS = 30.0  # the run's first check comes before that even on a busy machine
DEMO_TENANT = "demo-games"
DEMO_TEAM_ID = Scenario.model_fields["team_id"].default
DEMO_BUNDLE_ID = "com.example.demogame"  # released before: an update (the operator's dry run uses it)
FIRST_RELEASE_BUNDLE_ID = "com.example.tally"  # a new app: the demo publishes its first release
FIRST_RELEASE_APP_ID = "6400000100"
EXAMPLE_LISTING = Path(__file__).resolve().parent.parent / "examples" / "listing.yaml"
# The example listing's demo account takes its password from this variable of the worker's environment.
DEMO_PASSWORD_ENV = "TALLY_DEMO_PASSWORD"
RUN_TIMEOUT = 600.0
Echo = Callable[[str], None]


def demo_scenario(issuer_id: str) -> Scenario:
    return Scenario(
        issuer_id=issuer_id,
        team_name="Demo Games Ltd",
        apps=[
            AppSpec(
                name="Demo Game",
                bundle_id=DEMO_BUNDLE_ID,
                sku="DEMOGAME01",
                versions=[VersionSpec(version_string="1.0", state="READY_FOR_DISTRIBUTION")],
            ),
            AppSpec(
                id=FIRST_RELEASE_APP_ID, name="Tally Lists", bundle_id=FIRST_RELEASE_BUNDLE_ID, sku="TALLY01"
            ),
        ],
        delays=Delays(
            upload_processing_seconds=300,
            build_processing_seconds=1800,
            review_wait_seconds=3 * 3600,
            review_seconds=2 * 3600,
        ),
        time_scale=TIME_SCALE,
    )


def demo_key() -> tuple[str, str, str]:
    """A customer key made now: (key ID, .p8 text, public key PEM). Never written to disk."""
    private = ec.generate_private_key(ec.SECP256R1())
    p8 = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_id = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(10))
    return key_id, p8, public.decode()


def demo_build(
    folder: Path,
    size: int = 12 * 1024 * 1024,
    *,
    bundle_id: str = DEMO_BUNDLE_ID,
    version: str = "1.1",
    build_number: str = "42",
) -> Path:
    """An .ipa big enough to need several upload parts, whose Info.plist names the app (Apple reads it), signed
    for the simulated team (it embeds that team's App Store profile for the app, which ascflow checks)."""
    ipa = folder / f"{bundle_id.rsplit('.', 1)[-1]}.ipa"
    info = {
        "CFBundleIdentifier": bundle_id,
        "CFBundleShortVersionString": version,
        "CFBundleVersion": build_number,
    }
    with zipfile.ZipFile(ipa, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("Payload/App.app/Info.plist", plistlib.dumps(info))
        archive.writestr("Payload/App.app/App", os.urandom(size))
        archive.writestr(
            "Payload/App.app/embedded.mobileprovision", app_store_profile(DEMO_TEAM_ID, bundle_id)
        )
    return ipa


def demo_listing(folder: Path) -> Path:
    """The example listing (examples/listing.yaml) beside its three generated screenshots."""
    folder.mkdir(parents=True, exist_ok=True)
    listing = folder / "listing.yaml"
    shutil.copyfile(EXAMPLE_LISTING, listing)
    write_example_screenshots(folder / "screenshots")
    return listing


def first_release_request(custody_id: str, ipa: Path, listing: Path) -> OnboardingRequest:
    """Version 1.0 of a new app: everything Apple needs besides the build comes from the listing."""
    return demo_request(custody_id, ipa).model_copy(
        update={
            "bundle_id": FIRST_RELEASE_BUNDLE_ID,
            "version": "1.0",
            "whats_new": {},
            "review_contact": None,
            "listing": ListingSource(path=str(listing)),
        }
    )


def demo_request(custody_id: str, ipa: Path) -> OnboardingRequest:
    return OnboardingRequest(
        tenant=DEMO_TENANT,
        custody_id=custody_id,
        bundle_id=DEMO_BUNDLE_ID,
        version="1.1",
        build=BuildSource(path=str(ipa), build_number="42"),
        whats_new={"en-US": "New levels and faster loading."},
        review_contact=ReviewContact(
            first_name="Robin", last_name="Reviewer", phone="+1 555 0100", email="review@demo-games.example"
        ),
        invitees=[
            Invitee(
                email="release@publisher.example",
                first_name="Pat",
                last_name="Publisher",
                roles=["APP_MANAGER"],
                provisioning_allowed=True,
            )
        ],
        destroy_credentials="after_review",
        access_wait_hours=1,
    )


def run_demo(workdir: Path | None = None, echo: Echo = print) -> int:
    root = workdir or Path(tempfile.mkdtemp(prefix="ascflow-demo-"))
    started = time.monotonic()
    issuer_id = str(uuid.uuid4())
    key_id, p8, public_pem = demo_key()
    echo(f"ascflow demo: working in {root}")
    with SimulatorServer(demo_scenario(issuer_id)) as apple:
        echo(f"  simulated App Store Connect at {apple.base_url}")
        env = {
            "ASCFLOW_DATA_DIR": str(root / "data"),
            "ASCFLOW_ASC_BASE_URL": apple.base_url,
            "ASCFLOW_POLL_INTERVAL_SECONDS": "0.2",
            "ASCFLOW_ACCESS_BACKOFF_SECONDS": "[0.5, 1.0]",
            "ASCFLOW_APP_PRIVACY_RECHECK_SECONDS": "2",
            DEMO_PASSWORD_ENV: secrets.token_urlsafe(12),
        }
        settings = Settings(data_dir=root / "data", asc_base_url=apple.base_url)
        audit = open_audit_log(settings)
        custody = open_custody(settings, audit=audit)
        record = custody.deposit(
            CustodyInput(
                tenant=DEMO_TENANT,
                app_bundle_id=FIRST_RELEASE_BUNDLE_ID,
                key_id=key_id,
                issuer_id=SecretStr(issuer_id),
                p8=SecretStr(p8),
            ),
            actor=Actor(kind="customer", id=DEMO_TENANT),
        )
        del p8
        echo(
            f"  the customer's key is in custody as {record.id} (expires {record.expires_at:%Y-%m-%d %H:%M} UTC)"
        )
        ipa = demo_build(root, bundle_id=FIRST_RELEASE_BUNDLE_ID, version="1.0")
        request = first_release_request(record.id, ipa, demo_listing(root / "listing"))
        echo("  starting a Prefect server and serving the flows (first start migrates its database)...")
        with LocalPrefect(root / "prefect", env=env, poll_seconds=3) as prefect:
            echo(f"  Prefect UI: {prefect.ui_url}")
            apple.control.add_key(
                key_id, public_pem, role="ADMIN", active_after_seconds=ACCESS_DELAY_WALL_SECONDS * TIME_SCALE
            )
            echo(
                f"  the customer made Admin key {key_id}; Apple accepts it only after {ACCESS_DELAY_WALL_SECONDS:.0f} s"
            )
            with prefect.client() as client:
                run = start_onboarding(client, request, idempotency_key=f"demo:{request.custody_id}")
            echo(f"  onboarding run {run.name} ({run.id}) started\n")

            def team_member_publishes_app_privacy() -> None:
                echo("  the invited team member answers App Privacy in App Store Connect and clicks Publish")
                apple.control.publish_app_privacy(FIRST_RELEASE_APP_ID)

            state = _follow(
                prefect, str(run.id), audit, echo, on_app_privacy=team_member_publishes_app_privacy
            )
            summary = _artifact(prefect, str(run.id))
        report = verify_log(audit.backend, audit.key.public)
        state_counts = {kind: len(items) for kind, items in apple.control.state().items()}
    echo("")
    echo(summary or "(no summary artifact)")
    echo(f"Audit trail: {report.summary()}")
    echo(f"Custody: {len([r for r in custody.list() if r.kind == 'api_key'])} customer key(s) left")
    echo(f"Simulated App Store Connect now holds: {json.dumps(state_counts)}")
    echo(
        f"\nThe run is kept in {root / 'prefect'}. To see it in the Prefect UI:\n"
        f"  PREFECT_HOME={root / 'prefect'} .venv/bin/prefect server start\n"
        f"  then open http://127.0.0.1:4200/runs/flow-run/{run.id}"
    )
    ok = state == "COMPLETED" and report.ok
    echo(f"\n{'Done' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s.")
    return 0 if ok else 1


def _follow(
    prefect: LocalPrefect, run_id: str, audit: Any, echo: Echo, *, on_app_privacy: Callable[[], None]
) -> str:
    seen_events = 0
    steps_done: list[str] = []
    last_state = ""
    deadline = time.monotonic() + RUN_TIMEOUT
    with httpx.Client(base_url=prefect.api_url, timeout=30) as api:
        while time.monotonic() < deadline:
            fresh = list(audit.events())[seen_events:]
            seen_events += len(fresh)
            for line in audit_lines(fresh):
                echo(line)
            for name in _finished_steps(api, run_id)[len(steps_done) :]:
                steps_done.append(name)
                echo(f"  step {name}: task finished")
            run = api.get(f"/flow_runs/{run_id}").raise_for_status().json()
            state = run["state"]
            label = f"{state['type']}/{state['name']}"
            if label != last_state:
                pause_key = (state.get("state_details") or {}).get("pause_key") or ""
                echo(state_line(state))
                if state["name"] == "Suspended" and pause_key.startswith("submit-for-review"):
                    on_app_privacy()
                last_state = label
            if state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                return str(state["type"])
            time.sleep(0.5)
    return "TIMED_OUT"


def audit_lines(records: list[Any]) -> list[str]:
    """One line per event; a run of the same event on the same target (a key opened by step after step) folds
    into one line with its count."""
    lines: list[tuple[str, str, int]] = []
    for record in records:
        target = record.target
        if target.custody_id:
            whose = "signing key" if record.action.value.startswith("signing_key.") else "the customer's key"
            what = f"custody {target.custody_id} ({whose})"
        else:
            what = f"{target.apple_type or ''} {target.apple_id or ''}".strip()
        key = f"{record.action.value:<32} {record.outcome:<8} {what}"
        if lines and lines[-1][1] == key:
            lines[-1] = (lines[-1][0], key, lines[-1][2] + 1)
        else:
            lines.append((f"#{record.seq}", key, 1))
    return [f"    audit {seq:<5} {key}" + (f"  (x{count})" if count > 1 else "") for seq, key, count in lines]


def _finished_steps(api: httpx.Client, run_id: str) -> list[str]:
    """The titles of the steps of the step list this run has finished, in the order they finished."""
    titles = {step.name: step.title for step in step_list.STEPS}
    response = api.post(
        "/task_runs/filter",
        json={
            "flow_runs": {"id": {"any_": [run_id]}},
            "task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
        },
    )
    finished = sorted(response.raise_for_status().json(), key=lambda t: t["end_time"] or "")
    names = [t["name"].rsplit("-", 1)[0] for t in finished]
    return [titles[name] for name in dict.fromkeys(names) if name in titles]


def state_line(state: dict[str, Any]) -> str:
    """The run's state as the demo prints it; a suspended run's state message says what it waits for."""
    if state["name"] == "Suspended":
        return f"  run state: Suspended, holding no worker: {state.get('message') or 'waiting to be resumed'}"
    return f"  run state: {state['name']}" + (" (resumed)" if state["name"] == "Resuming" else "")


def _artifact(prefect: LocalPrefect, run_id: str) -> str | None:
    response = httpx.post(
        f"{prefect.api_url}/artifacts/filter",
        json={"artifacts": {"flow_run_id": {"any_": [run_id]}, "type": {"any_": ["markdown"]}}},
        timeout=30,
    )
    artifacts = response.raise_for_status().json()
    return str(artifacts[-1]["data"]) if artifacts else None
