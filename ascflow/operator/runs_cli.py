"""`ascflow runs start | status | retry`: onboarding runs from a shell, through Prefect's API at PREFECT_API_URL.

Prefect is imported inside each command: every other `ascflow` command starts without loading it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn
from uuid import UUID

import typer
from pydantic import ValidationError

from ascflow.pipeline.request import OnboardingRequest

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.objects import FlowRun

runs_app = typer.Typer(
    no_args_is_help=True,
    help="Onboarding runs: start one from a request file, show where it stands, retry it.",
)
RunArgument = typer.Argument(help="The flow run's ID (printed by `runs start`, shown in the Prefect UI).")


def load_request(path: Path, custody_id: str | None = None) -> OnboardingRequest:
    """The request file (with `custody_id` put in, if given) as the `onboard-app` deployment takes it; every
    problem named by its field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        _fail(f"--request: cannot read {path} ({error.strerror}).", code=2)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        _fail(f"--request: {path} is not JSON ({error}). See examples/request.json for the shape.", code=2)
    if custody_id is not None and isinstance(data, dict):
        data["custody_id"] = custody_id
    try:
        return OnboardingRequest.model_validate(data)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in problem['loc']) or 'request'}: {problem['msg']}"
            for problem in error.errors(include_input=False)
        ]
        _fail(
            f"{path}: {len(problems)} problem(s); nothing was started.\n  "
            + "\n  ".join(problems)
            + "\nFix these fields (examples/request.json is a complete request), then run this again.",
            code=2,
        )


@runs_app.command()
def start(
    request: Annotated[Path, typer.Option(help="An onboarding request as JSON (see examples/request.json).")],
    idempotency_key: Annotated[
        str | None,
        typer.Option(help="Starts one run however often it is sent (default: tenant:bundle ID:version)."),
    ] = None,
    custody_id: Annotated[
        str | None,
        typer.Option(help="The key's custody ID (printed by `custody deposit`), if not in the file."),
    ] = None,
) -> None:
    """Start an `onboard-app` run for the request; print its ID, name and where to watch it."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterIdempotencyKey

    from ascflow.runs import start_onboarding

    onboarding = load_request(request, custody_id)
    key = idempotency_key or f"{onboarding.tenant}:{onboarding.bundle_id}:{onboarding.version}"
    with _client() as client:
        existing = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(idempotency_key=FlowRunFilterIdempotencyKey(any_=[key])), limit=1
        )
        run = existing[0] if existing else start_onboarding(client, onboarding, key)
    if existing:
        typer.echo(f"A run with idempotency key {key} exists already; nothing was started.")
    _describe_start(run)
    if existing and run.state_type is not None and run.state_type.value in ("FAILED", "CRASHED", "CANCELLED"):
        typer.echo(
            f"next:    it ended {run.state_name}; start a new run for it with: ascflow runs retry {run.id}"
        )


@runs_app.command()
def status(run_id: UUID = RunArgument) -> None:
    """The run's state and its message, what it waits for if suspended, what it retries, and its summary."""
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterType
    from prefect.client.schemas.sorting import ArtifactSort

    from ascflow.operator.retry import retried_from

    with _client() as client:
        run = _read(client, run_id)
        waiting = _waiting(client, run)
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]), type=ArtifactFilterType(any_=["markdown"])
            ),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    state = run.state
    typer.echo(f"run:     {run.name} ({run.id})")
    typer.echo(
        f"state:   {run.state_name}" + (f" since {state.timestamp:%Y-%m-%d %H:%M:%S} UTC" if state else "")
    )
    if state and state.message:
        typer.echo(f"message: {state.message}")
    if waiting:
        typer.echo(f"waits:   {waiting}")
    if origin := retried_from(run):
        typer.echo(f"retries: {origin}")
    typer.echo(f"ui:      {_ui_link(run)}")
    if artifacts:
        typer.echo("\n" + str(artifacts[0].data))


@runs_app.command()
def retry(
    run_id: UUID = RunArgument,
    custody_id: Annotated[
        str | None,
        typer.Option(
            help="A new key's custody ID, when the run's key was destroyed (ascflow custody deposit)."
        ),
    ] = None,
) -> None:
    """Start a NEW run for the request of a failed, crashed or cancelled run, tagged retry-of:<run ID>.
    A suspended or running run is refused: resume it, or let it finish."""
    from ascflow.audit.log import open_audit_log
    from ascflow.custody import open_custody
    from ascflow.operator.retry import RetryRefused, retry_run
    from ascflow.settings import get_settings

    settings = get_settings()
    custody = open_custody(settings, audit=open_audit_log(settings))
    with _client() as client:
        _read(client, run_id)
        try:
            retried = retry_run(client, run_id, custody=custody, custody_id=custody_id)
        except RetryRefused as refused:
            _fail(f"{refused.what}\nnext: {refused.next_step}", code=1)
    if not retried.created:
        typer.echo(
            f"Run {retried.retried.name} was retried already; this is that retry (nothing was started)."
        )
    typer.echo(f"retries: {retried.retried.name} ({retried.retried.id})")
    _describe_start(retried.run)


def _describe_start(run: FlowRun) -> None:
    typer.echo(f"run ID:  {run.id}")
    typer.echo(f"name:    {run.name}")
    typer.echo(f"state:   {run.state_name}")
    typer.echo(f"ui:      {_ui_link(run)}")
    typer.echo(f"follow:  ascflow runs status {run.id}")


def _waiting(client: SyncPrefectClient, run: FlowRun) -> str | None:
    """What a suspended run waits for, from the `Waiting` the flow stored beside it before suspending."""
    from ascflow.pipeline.waiting import Waiting

    state = run.state
    pause_key = state.state_details.pause_key if state and state.type.value == "PAUSED" else None
    if not pause_key:
        return None
    stored = client.filter_flow_run_input(
        flow_run_id=run.id, key_prefix=Waiting.input_key(pause_key), limit=1, exclude_keys=set()
    )
    if not stored:
        return f"resume (pause key {pause_key})"
    waiting = Waiting.model_validate_json(stored[0].value)
    minutes = (datetime.now(UTC) - waiting.since).total_seconds() / 60
    step = f" at step {waiting.step}" if waiting.step else ""
    return (
        f"{waiting.kind}{step} for {waiting.tenant} / {waiting.bundle_id}, since "
        f"{waiting.since:%Y-%m-%d %H:%M:%S} UTC ({minutes:.0f} min)"
    )


def _ui_link(run: FlowRun) -> str:
    from prefect.settings import PREFECT_UI_URL

    return f"{PREFECT_UI_URL.value()}/runs/flow-run/{run.id}"


def _read(client: SyncPrefectClient, run_id: UUID) -> FlowRun:
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL

    try:
        return client.read_flow_run(run_id)
    except ObjectNotFound:
        _fail(
            f"No flow run {run_id} on the Prefect server at {PREFECT_API_URL.value()}. "
            "Check the ID and PREFECT_API_URL."
        )


@contextmanager
def _client() -> Iterator[SyncPrefectClient]:
    """A client of the server at PREFECT_API_URL; never Prefect's ephemeral in-process server, which would run
    nothing and show nothing."""
    import httpx
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL

    api_url = PREFECT_API_URL.value()
    if not api_url:
        _fail(
            "PREFECT_API_URL is not set. Point it at the server: "
            "export PREFECT_API_URL=http://127.0.0.1:$PREFECT_PORT/api"
        )
    try:
        with get_client(sync_client=True) as client:
            yield client
    except httpx.TransportError as error:
        _fail(
            f"the Prefect server at {api_url} does not answer ({type(error).__name__}). "
            "Start it (make server) or fix PREFECT_API_URL."
        )


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=code)
