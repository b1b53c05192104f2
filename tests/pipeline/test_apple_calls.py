"""The calls each publishing step makes at Apple (issue 17 item 3): no read or write beyond what the step needs,
and a rerun that only reads."""

from __future__ import annotations

from ascflow.pipeline.steps import run_in_process
from tests.fixtures.ipa import build_ipa
from tests.pipeline.conftest import deposit, request_for

NOT_REVIEW = frozenset({"await-review"})


def calls(apple, since: int, prefix: str = "/v1/") -> list[str]:
    return [f"{r.method} {r.path}" for r in apple.control.requests()[since:] if r.path.startswith(prefix)]


def test_validate_reads_three_times_and_an_update_spends_only_what_each_step_needs(
    simulator, make_context, tmp_path
):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    ipa = build_ipa(tmp_path / "App.ipa", simulator.bundle_id, "1.1", "7")
    request = request_for(simulator, ipa, version="1.1")

    before = len(simulator.control.requests())
    done, wait = run_in_process(ctx, request, custody_id, skip=NOT_REVIEW | {"invite-team"})
    assert wait is None
    made = calls(simulator, before)
    # validate: the provisioning read, the Admin read, the app (no fourth "any key" read).
    assert made[:3] == ["GET /v1/certificates", "GET /v1/users", "GET /v1/apps"]
    version_id = done["prepare-version"].version_id  # type: ignore[attr-defined]
    # The version is made with its build: no read or write of its build relationship afterwards.
    assert "POST /v1/appStoreVersions" in made
    assert not [c for c in made if c.endswith(f"/appStoreVersions/{version_id}/relationships/build")]
    # One read of the app's versions serves the version and the first-release check.
    assert made.count(f"GET /v1/apps/{simulator.app_id}/appStoreVersions") == 1
    # The app is looked up once, by validate: the upload takes its id from validate's result.
    assert made.count("GET /v1/apps") == 1
    # The build read by the processing wait answers export compliance; the submit's answer is the submission.
    build_id = done["upload-build"].build_id  # type: ignore[attr-defined]
    assert made.count(f"PATCH /v1/builds/{build_id}") == 1
    submission_id = done["submit-for-review"].submission_id  # type: ignore[attr-defined]
    assert f"GET /v1/reviewSubmissions/{submission_id}" not in made
    # A new upload holds no file yet: its files are not listed before reserving one.
    upload_id = done["upload-build"].build_upload_id  # type: ignore[attr-defined]
    assert f"GET /v1/buildUploads/{upload_id}/buildUploadFiles" not in made
    state = simulator.control.state()
    version = next(v for v in state["appStoreVersions"] if v["id"] == version_id)
    assert version["relationships"]["build"] == build_id

    again = len(simulator.control.requests())
    _, wait = run_in_process(make_context(simulator), request, custody_id, skip=NOT_REVIEW | {"invite-team"})
    assert wait is None
    rerun = calls(simulator, again)
    assert [c for c in rerun if not c.startswith("GET ")] == []
    # The rerun proves the upload with its processed build, and the version with its build, review detail and
    # What's New, in one read each (the build, review detail and localizations are included).
    assert rerun.count(f"GET /v1/apps/{simulator.app_id}/buildUploads") == 1
    assert rerun.count(f"GET /v1/apps/{simulator.app_id}/appStoreVersions") == 1
    assert not [
        c
        for c in rerun
        if c.startswith(("GET /v1/buildUploads/", "GET /v1/builds/"))
        or c.endswith(("/relationships/build", "/appStoreReviewDetail"))
    ]
    # What's New is read again only by the submission's preflight (ascflow/pipeline/review.py).
    assert rerun.count(f"GET /v1/appStoreVersions/{version_id}/appStoreVersionLocalizations") == 1
