"""Publishing over HTTP: upload in parts, processing, version, What's New, review details, submission; a rerun
writes nothing; the build may come from a path, from S3, or already be at Apple."""

from __future__ import annotations

import pytest

from ascflow.connect.actions.common import ActionFailed
from ascflow.demo import demo_build
from ascflow.pipeline.publish import check_review, publish
from ascflow.pipeline.request import BuildSource
from ascflow.pipeline.summary import RunSummary, Step
from ascflow.pipeline.teardown import destroy_credentials
from tests.pipeline.conftest import deposit, request_for

WRITES = ("POST", "PATCH", "PUT", "DELETE")


def writes(apple) -> list[str]:
    return [f"{r.method} {r.path}" for r in apple.control.requests() if r.method in WRITES]


@pytest.fixture
def ipa(tmp_path):
    return demo_build(tmp_path, size=6 * 1024 * 1024)


def test_publish_submits_once_and_a_rerun_writes_nothing(simulator, make_context, ipa):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    request = request_for(simulator, ipa)
    result = publish(ctx, custody_id, request)
    assert result.build_uploaded_now
    assert result.version_created
    assert result.submission_state == "WAITING_FOR_REVIEW"
    state = simulator.control.state()
    version = next(v for v in state["appStoreVersions"] if v["id"] == result.version_id)
    assert version["relationships"]["build"] == result.build_id
    localization = next(
        loc for loc in state["appStoreVersionLocalizations"]
        if loc["relationships"]["appStoreVersion"] == result.version_id
    )  # fmt: skip
    assert localization["attributes"]["whatsNew"] == "First release."
    parts = [w for w in writes(simulator) if w.startswith("PUT ")]
    assert len(parts) == 2  # 6 MB in the simulator's 5 MB parts

    before = len(writes(simulator))
    again = publish(make_context(simulator), custody_id, request)
    assert writes(simulator)[before:] == []
    assert (again.build_id, again.version_id, again.submission_id) == (
        result.build_id,
        result.version_id,
        result.submission_id,
    )
    assert not again.submission_created


def test_a_build_already_at_apple_is_published_by_its_number(simulator, make_context, ipa):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    first = publish(ctx, custody_id, request_for(simulator, ipa))
    by_number = request_for(simulator, None)
    assert by_number.build.path is None
    again = publish(make_context(simulator), custody_id, by_number)
    assert again.build_id == first.build_id
    assert again.build_upload_id is None


def test_a_build_from_s3_is_fetched_and_uploaded(simulator, make_context, ipa, aws):
    bucket = aws.versioned_bucket()
    aws.client("s3").upload_file(str(ipa), bucket, "builds/Demo.ipa")
    ctx = make_context(simulator)
    ctx.settings = ctx.settings.model_copy(update={"aws_endpoint_url": aws.endpoint_url})
    result = publish(
        ctx, deposit(ctx, simulator.admin_key), request_for(simulator, f"s3://{bucket}/builds/Demo.ipa")
    )
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
        publish(ctx, deposit(ctx, simulator.admin_key), request)
    assert "build.path" in failure.value.what
    assert problem in failure.value.what


def test_review_outcome_summary_and_destruction(simulator, make_context, ipa):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    request = request_for(simulator, ipa)
    published = publish(ctx, custody_id, request)
    status = check_review(ctx, custody_id, published.submission_id)
    deadline = 200
    while not status.finished and deadline:
        status, deadline = check_review(ctx, custody_id, published.submission_id), deadline - 1
    assert status.state == "COMPLETE"
    receipt = destroy_credentials(ctx, custody_id)
    summary = RunSummary(
        tenant=request.tenant,
        bundle_id=request.bundle_id,
        version=request.version,
        run_id="run-1",
        publish=Step(result=published, apple_calls=30, seconds=1.0),
        review=Step(result=status, apple_calls=1, seconds=0.1),
        receipt=receipt,
    )
    markdown = summary.markdown()
    assert published.submission_id in markdown
    assert "| review submission |" in markdown
    assert "Revoke the key now in App Store Connect" in markdown
    assert summary.apple_calls == 31
    outcomes = [(e.action.value, e.outcome) for e in ctx.audit.events()]
    assert ("review.outcome", "success") in outcomes
    assert ("credentials.destroyed", "success") in outcomes
