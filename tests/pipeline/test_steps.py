"""The step list over HTTP, without Prefect: upload in parts, processing, version, What's New, review details,
submission; a rerun writes nothing; the build may come from a path, from S3, or already be at Apple."""

from __future__ import annotations

import pytest

from ascflow.connect.actions.common import ActionFailed
from ascflow.pipeline import steps
from ascflow.pipeline.build import BuildResult, prepare_build
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.credentials import CredentialCheck, validate_credentials
from ascflow.pipeline.job import Job, Step, Wait
from ascflow.pipeline.request import BuildSource, OnboardingRequest
from ascflow.pipeline.review import SubmissionNotReady, SubmissionResult, check_review
from ascflow.pipeline.signing import ensure_signing
from ascflow.pipeline.steps import run_in_process
from ascflow.pipeline.summary import RunSummary
from ascflow.pipeline.teardown import destroy_credentials
from ascflow.pipeline.version import VersionResult
from ascflow.simulator.scenario import CertificateSpec
from tests.fixtures.ipa import build_ipa
from tests.pipeline.conftest import deposit, request_for

# Signing keeps the App Store profile the upload step checks the .ipa against.
PUBLISHING = ("ensure-signing", "upload-build", "prepare-version", "submit-for-review")

WRITES = ("POST", "PATCH", "PUT", "DELETE")


def publish(ctx: StepContext, custody_id: str, request: OnboardingRequest) -> dict[str, Step]:
    """The publishing steps of the step list in its order, each given the results of the steps it needs."""
    done: dict[str, Step] = {}
    for step in steps.STEPS:
        if step.name not in PUBLISHING:
            continue
        job = Job(
            request=request,
            custody_id=custody_id,
            results={n: done[n].result for n in step.needs if n in done},
        )
        result = step.run(ctx, job)
        assert not isinstance(result, Wait)
        done[step.name] = Step(result=result, apple_calls=0, seconds=0.0)
    return done


def facts(done: dict[str, Step]) -> tuple[BuildResult, VersionResult, SubmissionResult]:
    return done["upload-build"].result, done["prepare-version"].result, done["submit-for-review"].result


def writes(apple) -> list[str]:
    return [f"{r.method} {r.path}" for r in apple.control.requests() if r.method in WRITES]


@pytest.fixture
def ipa(tmp_path, simulator):
    return build_ipa(tmp_path / "App.ipa", simulator.bundle_id, "1.0", "7", extra_size=6 * 1024 * 1024)


def test_publish_submits_once_and_a_rerun_writes_nothing(simulator, make_context, ipa):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    request = request_for(simulator, ipa)
    build, version_made, submission = facts(publish(ctx, custody_id, request))
    assert build.build_uploaded_now
    assert version_made.version_created
    assert submission.submission_state == "WAITING_FOR_REVIEW"
    state = simulator.control.state()
    version = next(v for v in state["appStoreVersions"] if v["id"] == version_made.version_id)
    assert version["relationships"]["build"] == build.build_id
    localization = next(
        loc for loc in state["appStoreVersionLocalizations"]
        if loc["relationships"]["appStoreVersion"] == version_made.version_id
    )  # fmt: skip
    assert localization["attributes"]["whatsNew"] == "First release."
    parts = [w for w in writes(simulator) if w.startswith("PUT ")]
    assert len(parts) == 2  # 6 MB in the simulator's 5 MB parts

    before = len(writes(simulator))
    build_again, version_again, submission_again = facts(
        publish(make_context(simulator), custody_id, request)
    )
    assert writes(simulator)[before:] == []
    assert (build_again.build_id, version_again.version_id, submission_again.submission_id) == (
        build.build_id,
        version_made.version_id,
        submission.submission_id,
    )
    assert not submission_again.submission_created


def test_a_build_already_at_apple_is_published_by_its_number(simulator, make_context, ipa):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    first = facts(publish(ctx, custody_id, request_for(simulator, ipa)))[0]
    by_number = request_for(simulator, None)
    assert by_number.build.path is None
    again = prepare_build(make_context(simulator), Job(request=by_number, custody_id=custody_id))
    assert again.build_id == first.build_id
    assert again.build_upload_id is None


def test_a_build_from_s3_is_fetched_and_uploaded(simulator, make_context, ipa, aws):
    bucket = aws.versioned_bucket()
    aws.client("s3").upload_file(str(ipa), bucket, "builds/Demo.ipa")
    ctx = make_context(simulator)
    ctx.settings = ctx.settings.model_copy(update={"aws_endpoint_url": aws.endpoint_url})
    request = request_for(simulator, f"s3://{bucket}/builds/Demo.ipa")
    custody_id = deposit(ctx, simulator.admin_key)
    ensure_signing(ctx, Job(request=request, custody_id=custody_id))
    result = prepare_build(ctx, Job(request=request, custody_id=custody_id))
    assert result.build_uploaded_now


@pytest.mark.parametrize(
    ("path", "problem"),
    [("/nowhere/App.ipa", "not a readable file"), ("s3://only-a-bucket", "not an s3://bucket/key")],
)
def test_a_bad_build_location_names_the_field(simulator, make_context, path, problem):
    ctx = make_context(simulator)
    request = request_for(simulator, None).model_copy(
        update={"build": BuildSource(path=path, build_number="7")}
    )
    with pytest.raises(ActionFailed) as failure:
        prepare_build(ctx, Job(request=request, custody_id=deposit(ctx, simulator.admin_key)))
    assert "build.path" in failure.value.what
    assert problem in failure.value.what


def test_review_outcome_summary_and_destruction(simulator, make_context, ipa):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    request = request_for(simulator, ipa)
    done = publish(ctx, custody_id, request)
    submission_id = facts(done)[2].submission_id
    status = check_review(ctx, custody_id, submission_id)
    deadline = 200
    while not status.finished and deadline:
        status, deadline = check_review(ctx, custody_id, submission_id), deadline - 1
    assert status.state == "COMPLETE"
    receipt = destroy_credentials(ctx, custody_id)
    summary = RunSummary(
        tenant=request.tenant,
        bundle_id=request.bundle_id,
        version=request.version,
        run_id="run-1",
        steps={
            **{name: step.model_copy(update={"apple_calls": 10}) for name, step in done.items()},
            "await-review": Step(result=status, apple_calls=1, seconds=0.1),
        },
        receipt=receipt,
    )
    markdown = summary.markdown()
    assert submission_id in markdown
    assert "| review submission |" in markdown
    rows = [line.split(" | ")[0].lstrip("| ") for line in markdown.splitlines() if line.startswith("| ")]
    titles = [s.title for s in steps.STEPS if s.name in summary.steps]
    assert rows[1 : 1 + len(titles)] == titles  # the table follows the step list's order
    assert "Revoke the key now in App Store Connect" in markdown
    assert summary.apple_calls == 10 * len(done) + 1  # each step as measured, plus the review check
    outcomes = [(e.action.value, e.outcome) for e in ctx.audit.events()]
    assert ("review.outcome", "success") in outcomes
    assert ("credentials.destroyed", "success") in outcomes


def test_an_update_without_whats_new_is_refused_naming_it_and_nothing_is_submitted(
    simulator, make_context, ipa
):
    """Apple requires What's New on every update; the run stops with Apple's item and the field to fix."""
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    request = request_for(simulator, ipa, whats_new={})
    with pytest.raises(SubmissionNotReady) as refused:
        run_in_process(ctx, request, custody_id, skip=frozenset({"await-review"}))
    assert "What's New is missing for en-US" in refused.value.what
    assert "nothing was submitted" in refused.value.what
    assert not [r for r in simulator.control.requests() if r.path.startswith("/v1/reviewSubmission")]
    states = {s["attributes"]["state"] for s in simulator.control.state().get("reviewSubmissions", [])}
    assert states <= {"READY_FOR_REVIEW"}, states


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"short_version": "9.9"}, ("9.9", "1.0")),
        ({"team_id": "OTHERTEAM1"}, ("OTHERTEAM1", "SIM0TEAM01")),
        ({"team_id": None}, ("embedded.mobileprovision",)),
    ],
)
def test_an_ipa_that_is_not_this_release_is_refused_before_a_byte_is_sent(
    simulator, make_context, tmp_path, change, named
):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    fields = {"short_version": "1.0", "team_id": "SIM0TEAM01", **change}
    ipa = build_ipa(
        tmp_path / "Wrong.ipa", simulator.bundle_id, fields["short_version"], "7", team_id=fields["team_id"]
    )
    request = request_for(simulator, ipa)
    ensure_signing(ctx, Job(request=request, custody_id=custody_id))
    with pytest.raises(ActionFailed) as refused:
        prepare_build(ctx, Job(request=request, custody_id=custody_id))
    for value in named:
        assert value in refused.value.what, refused.value.what
    assert not [
        r for r in simulator.control.requests() if r.path.startswith(("/v1/buildUploads", "/_upload"))
    ]


def test_the_upload_checks_the_ipa_against_the_team_validate_read_and_need_not_wait_for_signing(
    start_simulator, simulator, make_context, tmp_path
):
    # A team with a certificate (an update's: its app is signed): validate reads the team from it.
    signed = start_simulator(certificates=[CertificateSpec()])
    ctx = make_context(signed)
    custody_id = deposit(ctx, signed.admin_key)
    request = request_for(
        signed, build_ipa(tmp_path / "App.ipa", signed.bundle_id, "1.1", "7"), version="1.1"
    )
    checked = validate_credentials(ctx, Job(request=request, custody_id=custody_id))
    assert isinstance(checked, CredentialCheck)
    assert checked.team_id == "SIM0TEAM01"
    upload = steps.step_named("upload-build")
    assert "ensure-signing" not in upload.waits_for({"validate-credentials": checked})
    # No profile is kept (ensure-signing has not run): the .ipa is checked against the team validate read.
    known = {"validate-credentials": checked}
    assert prepare_build(ctx, Job(request=request, custody_id=custody_id, results=known)).build_uploaded_now
    other = request.model_copy(
        update={
            "build": BuildSource(
                path=str(
                    build_ipa(tmp_path / "Other.ipa", signed.bundle_id, "1.1", "8", team_id="OTHERTEAM1")
                ),
                build_number="8",
            )
        }
    )
    with pytest.raises(ActionFailed) as refused:
        prepare_build(ctx, Job(request=other, custody_id=custody_id, results=known))
    assert "OTHERTEAM1" in refused.value.what

    # A team without any certificate yet: the upload waits for the profile ensure-signing makes.
    fresh = make_context(simulator)
    unsigned = validate_credentials(
        fresh, Job(request=request, custody_id=deposit(fresh, simulator.admin_key))
    )
    assert isinstance(unsigned, CredentialCheck)
    assert unsigned.team_id is None
    assert "ensure-signing" in upload.waits_for({"validate-credentials": unsigned})
