"""Build upload, processing, export compliance, version, whatsNew, review details and submission vs the simulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ascflow.connect import ApiKey, AppStoreConnect, Session
from ascflow.connect.actions import (
    BuildProcessingFailed,
    SubmissionBlocked,
    UploadedBuild,
    VersionNotEditable,
    WaitTimedOut,
    ensure_localizations,
    ensure_review_details,
    ensure_review_submission_submitted,
    ensure_version,
    find_app,
    review_state,
    set_export_compliance,
    upload_build,
    wait_for_build_processing,
)
from ascflow.connect.actions.common import poll_until
from ascflow.connect.models import (
    AppStoreReviewDetailAttributes,
    AppVersionState,
    BuildProcessingState,
    BuildUploadStateValue,
    Platform,
    ReviewSubmissionState,
)
from ascflow.simulator.faults import FaultPlan, FaultRule
from ascflow.simulator.scenario import AppSpec, Delays, VersionSpec
from tests.connect.conftest import BUNDLE, POLL, Apple
from tests.fixtures.ipa import build_ipa
from tests.fixtures.keys import CustomerKey
from tests.fixtures.openapi import SPEC

SUBMITTED = {
    ReviewSubmissionState.WAITING_FOR_REVIEW,
    ReviewSubmissionState.IN_REVIEW,
    ReviewSubmissionState.COMPLETING,
    ReviewSubmissionState.COMPLETE,
}
CONTACT = AppStoreReviewDetailAttributes(
    contact_first_name="Rita",
    contact_last_name="Reviewer",
    contact_phone="+1 555 0100",
    contact_email="rita@example.com",
)


@pytest.fixture
def ipa(tmp_path: Path) -> Path:
    # About 2.3 KB: three parts at the scenario's 1000-byte part size.
    return build_ipa(tmp_path / "Example.ipa", BUNDLE, "1.0.0", "1", extra_size=1500, team_id=None)


def upload(apple: Apple, ipa: Path, version: str = "1") -> UploadedBuild:
    app = find_app(apple.client, BUNDLE)
    return upload_build(
        apple.client,
        app_id=app.id,
        ipa=ipa,
        short_version="1.0.0",
        version=version,
        poll_interval=POLL,
        timeout=10,
    )


def test_upload_sends_every_part_commits_and_a_second_call_reuses_it(apple: Apple, ipa: Path) -> None:
    first = upload(apple, ipa)
    second = upload(apple, ipa)
    assert first.created
    assert not second.created
    assert first.upload.attributes.state.state is BuildUploadStateValue.COMPLETE
    assert (second.upload.id, second.build_id) == (first.upload.id, first.build_id)
    log = apple.log()
    parts = [r for r in log if r.method == "PUT" and not r.path.startswith("/v1/")]
    assert len(parts) == 3
    assert all(r.key_id is None for r in parts)  # no JWT on presigned parts
    assert apple.writes("POST", "/v1/buildUploads") == 1
    assert apple.writes("POST", "/v1/buildUploadFiles") == 1
    commits = [r for r in log if r.method == "PATCH" and r.path.startswith("/v1/buildUploadFiles/")]
    assert len(commits) == 1
    files = apple.control.state()["buildUploadFiles"]
    assert files[0]["attributes"]["sourceFileChecksums"]["file"]["algorithm"] == "SHA_256"


def test_upload_after_a_crash_between_reserving_and_sending_reuses_the_reservation(
    apple: Apple, ipa: Path
) -> None:
    ipa = build_ipa(ipa.with_name("Seven.ipa"), BUNDLE, "1.0.0", "7", extra_size=1500, team_id=None)
    app = find_app(apple.client, BUNDLE)
    stranded = apple.client.build_uploads.create(
        app_id=app.id, short_version="1.0.0", version="7", platform=Platform.IOS
    )
    apple.client.build_uploads.create_file(
        upload_id=stranded.id,
        file_name=ipa.name,
        file_size=ipa.stat().st_size,
        uti="com.apple.ipa",
        asset_type="ASSET",
    )
    resumed = upload(apple, ipa, version="7")
    assert not resumed.created
    assert resumed.upload.id == stranded.id
    assert resumed.upload.attributes.state.state is BuildUploadStateValue.COMPLETE
    assert apple.writes("POST", "/v1/buildUploads") == 1
    assert apple.writes("POST", "/v1/buildUploadFiles") == 1


def test_reservation_dropped_after_apple_applied_it_is_read_back(
    make_apple: Callable[..., Apple], ipa: Path
) -> None:
    apple = make_apple(
        faults=FaultPlan(
            rules=[FaultRule(kind="drop_after_write", path="/v1/buildUploads", methods=["POST"], count=1)]
        )
    )
    uploaded = upload(apple, ipa)
    assert uploaded.created
    assert len(apple.control.state()["buildUploads"]) == 1


def test_processing_export_compliance_and_bounded_waits(make_apple: Callable[..., Apple], ipa: Path) -> None:
    apple = make_apple()
    uploaded = upload(apple, ipa)
    build = wait_for_build_processing(apple.client, uploaded.build_id, poll_interval=POLL, timeout=10)
    assert build.attributes.processing_state is BuildProcessingState.VALID
    assert set_export_compliance(apple.client, uploaded.build_id, uses_non_exempt_encryption=False)
    assert not set_export_compliance(apple.client, uploaded.build_id, uses_non_exempt_encryption=False)
    assert apple.client.builds.get(uploaded.build_id).attributes.uses_non_exempt_encryption is False
    assert sum(1 for r in apple.log() if r.method == "PATCH" and r.path.startswith("/v1/builds/")) == 1


def test_waiting_for_processing_gives_up_within_its_bound(
    make_apple: Callable[..., Apple], ipa: Path
) -> None:
    apple = make_apple(
        time_scale=1.0, delays=Delays(upload_processing_seconds=0, build_processing_seconds=3600)
    )
    uploaded = upload(apple, ipa)
    slept: list[float] = []
    with pytest.raises(WaitTimedOut, match="finish processing"):
        wait_for_build_processing(
            apple.client, uploaded.build_id, poll_interval=0.01, timeout=0.05, sleep=slept.append
        )
    assert sum(slept) == pytest.approx(0.05)


@pytest.mark.parametrize("final", [BuildProcessingState.INVALID, BuildProcessingState.FAILED])
def test_a_build_that_fails_processing_is_reported(
    customer_key: CustomerKey, final: BuildProcessingState
) -> None:
    # The simulator always processes builds to VALID, so Apple's answer is built from the spec here.
    states = iter([BuildProcessingState.PROCESSING, final])

    def answer(request: httpx.Request) -> httpx.Response:
        document = SPEC.example("BuildResponse")
        document["data"]["attributes"]["processingState"] = next(states).value
        return httpx.Response(200, json=document)

    key = ApiKey.from_p8(customer_key.p8, key_id=customer_key.key_id, issuer_id=customer_key.issuer_id)
    session = Session(
        key, base_url="https://api.appstoreconnect.apple.com", transport=httpx.MockTransport(answer)
    )
    with (
        AppStoreConnect(session) as client,
        pytest.raises(BuildProcessingFailed, match=final.value) as caught,
    ):
        wait_for_build_processing(client, "B1", poll_interval=POLL, timeout=1, sleep=lambda _: None)
    assert "new build number" in caught.value.next_step


def prepared(apple: Apple, ipa: Path) -> tuple[str, str]:
    """An app with a processed build: (app id, build id)."""
    app = find_app(apple.client, BUNDLE)
    uploaded = upload(apple, ipa)
    wait_for_build_processing(apple.client, uploaded.build_id, poll_interval=POLL, timeout=10)
    set_export_compliance(apple.client, uploaded.build_id, uses_non_exempt_encryption=False)
    return app.id, uploaded.build_id


def test_version_is_created_once_and_holds_our_build(apple: Apple, ipa: Path) -> None:
    app_id, build_id = prepared(apple, ipa)
    first = ensure_version(apple.client, app_id=app_id, version_string="1.0.0", build_id=build_id)
    second = ensure_version(apple.client, app_id=app_id, version_string="1.0.0", build_id=build_id)
    assert first.created
    assert "attached build" in " ".join(first.changes) or first.created
    assert not second.created
    assert not second.changes
    assert second.resource.id == first.resource.id
    assert apple.client.versions.build_id(first.resource.id) == build_id
    assert apple.writes("POST", "/v1/appStoreVersions") == 1


def test_release_type_is_set_once(apple: Apple, ipa: Path) -> None:
    app_id, build_id = prepared(apple, ipa)
    first = ensure_version(
        apple.client, app_id=app_id, version_string="1.0.0", build_id=build_id, release_type="MANUAL"
    )
    again = ensure_version(
        apple.client, app_id=app_id, version_string="1.0.0", build_id=build_id, release_type="MANUAL"
    )
    assert first.resource.attributes.release_type == "MANUAL"
    assert again.resource.attributes.release_type == "MANUAL"
    changed = ensure_version(
        apple.client, app_id=app_id, version_string="1.0.0", build_id=build_id, release_type="AFTER_APPROVAL"
    )
    assert changed.resource.attributes.release_type == "AFTER_APPROVAL"
    assert apple.writes("PATCH", f"/v1/appStoreVersions/{first.resource.id}") == 1


def test_an_editable_version_is_reused_and_renamed(make_apple: Callable[..., Apple], ipa: Path) -> None:
    apple = make_apple(
        apps=[
            AppSpec(
                name="Example",
                bundle_id=BUNDLE,
                sku="EX1",
                versions=[
                    VersionSpec(version_string="0.9.0", state="READY_FOR_DISTRIBUTION"),
                    VersionSpec(version_string="0.9.9", state="PREPARE_FOR_SUBMISSION"),
                ],
            )
        ]
    )
    app_id, build_id = prepared(apple, ipa)
    with pytest.raises(VersionNotEditable) as stopped:
        ensure_version(apple.client, app_id=app_id, version_string="1.0.0", build_id=build_id, rename=False)
    assert "editable version is 0.9.9, not 1.0.0" in stopped.value.what
    strings = sorted(v["attributes"]["versionString"] for v in apple.control.state()["appStoreVersions"])
    assert strings == ["0.9.0", "0.9.9"]
    ensured = ensure_version(apple.client, app_id=app_id, version_string="1.0.0", build_id=build_id)
    assert not ensured.created
    assert ensured.changes[0] == "renamed the editable version 0.9.9 to 1.0.0"
    assert ensured.resource.attributes.version_string == "1.0.0"
    assert ensured.resource.attributes.app_version_state is AppVersionState.PREPARE_FOR_SUBMISSION
    assert apple.writes("POST", "/v1/appStoreVersions") == 0


def test_a_version_already_in_review_with_another_build_is_left_alone(
    make_apple: Callable[..., Apple], ipa: Path
) -> None:
    apple = make_apple(
        apps=[
            AppSpec(
                name="Example",
                bundle_id=BUNDLE,
                sku="EX1",
                versions=[VersionSpec(version_string="1.0.0", state="WAITING_FOR_REVIEW")],
            )
        ]
    )
    app_id, build_id = prepared(apple, ipa)
    with pytest.raises(VersionNotEditable, match=r"1\.0\.0 is already WAITING_FOR_REVIEW") as caught:
        ensure_version(apple.client, app_id=app_id, version_string="1.0.0", build_id=build_id)
    assert "cancel it in App Store Connect" in caught.value.next_step
    writes = [
        r for r in apple.log() if r.method in {"POST", "PATCH"} and r.path.startswith("/v1/appStoreVersions")
    ]
    assert writes == []


def test_whats_new_patches_existing_locales_and_creates_only_missing_ones(apple: Apple, ipa: Path) -> None:
    app_id, build_id = prepared(apple, ipa)
    version = ensure_version(apple.client, app_id=app_id, version_string="1.0.0", build_id=build_id).resource
    existing = {loc.attributes.locale for loc in apple.client.localizations.list_for_version(version.id)}
    assert "en-US" in existing  # Apple copies the primary locale into a new version
    texts = {"en-US": "Bug fixes.", "de-DE": "Fehlerbehebungen."}
    first = {r.resource.attributes.locale: r for r in ensure_localizations(apple.client, version.id, texts)}
    second = ensure_localizations(apple.client, version.id, texts)
    assert (first["en-US"].created, first["en-US"].updated) == (False, True)
    assert (first["de-DE"].created, first["de-DE"].updated) == (True, False)
    assert all(not r.created and not r.updated for r in second)
    stored = {
        loc.attributes.locale: loc.attributes.whats_new
        for loc in apple.client.localizations.list_for_version(version.id)
    }
    assert stored == {"en-US": "Bug fixes.", "de-DE": "Fehlerbehebungen."}
    assert apple.writes("POST", "/v1/appStoreVersionLocalizations") == 1


def test_review_details_are_created_once_and_updated_when_they_differ(apple: Apple, ipa: Path) -> None:
    app_id, build_id = prepared(apple, ipa)
    version = ensure_version(apple.client, app_id=app_id, version_string="1.0.0", build_id=build_id).resource
    first = ensure_review_details(apple.client, version.id, CONTACT)
    second = ensure_review_details(apple.client, version.id, CONTACT)
    changed = CONTACT.model_copy(update={"contact_phone": "+1 555 0199"})
    third = ensure_review_details(apple.client, version.id, changed)
    assert (first.created, second.created, second.updated, third.updated) == (True, False, False, True)
    detail = apple.client.review_details.for_version(version.id)
    assert detail is not None
    assert detail.attributes.contact_phone == "+1 555 0199"
    assert apple.writes("POST", "/v1/appStoreReviewDetails") == 1


def ready_version(apple: Apple, ipa: Path) -> tuple[str, str]:
    app_id, build_id = prepared(apple, ipa)
    version = ensure_version(apple.client, app_id=app_id, version_string="1.0.0", build_id=build_id).resource
    ensure_localizations(apple.client, version.id, {"en-US": "Bug fixes."})
    ensure_review_details(apple.client, version.id, CONTACT)
    return app_id, version.id


def test_submission_is_created_and_submitted_once(apple: Apple, ipa: Path) -> None:
    app_id, version_id = ready_version(apple, ipa)
    first = ensure_review_submission_submitted(apple.client, app_id=app_id, version_id=version_id)
    second = ensure_review_submission_submitted(apple.client, app_id=app_id, version_id=version_id)
    assert (first.created, first.updated) == (True, True)
    assert (second.created, second.updated) == (False, False)
    assert second.resource.id == first.resource.id
    assert first.resource.attributes.state in SUBMITTED
    assert apple.writes("POST", "/v1/reviewSubmissions") == 1
    assert apple.writes("POST", "/v1/reviewSubmissionItems") == 1
    assert review_state(apple.client, first.resource.id) in SUBMITTED


def test_a_rerun_after_the_review_finished_submits_nothing_again(apple: Apple, ipa: Path) -> None:
    app_id, version_id = ready_version(apple, ipa)
    first = ensure_review_submission_submitted(apple.client, app_id=app_id, version_id=version_id)
    poll_until(
        lambda: review_state(apple.client, first.resource.id),
        lambda state: state is ReviewSubmissionState.COMPLETE,
        what="the review",
        poll_interval=POLL,
        timeout=10,
    )
    build_id = apple.client.versions.build_id(version_id)
    assert build_id is not None
    again = ensure_version(apple.client, app_id=app_id, version_string="1.0.0", build_id=build_id)
    rerun = ensure_review_submission_submitted(apple.client, app_id=app_id, version_id=again.resource.id)
    assert (again.created, again.resource.id) == (False, version_id)
    assert (rerun.created, rerun.updated, rerun.resource.id) == (False, False, first.resource.id)
    assert apple.writes("POST", "/v1/reviewSubmissions") == 1
    assert apple.writes("POST", "/v1/appStoreVersions") == 1


def test_a_draft_stranded_by_a_crash_is_reused(apple: Apple, ipa: Path) -> None:
    app_id, version_id = ready_version(apple, ipa)
    draft = apple.client.review_submissions.create(app_id=app_id, platform=Platform.IOS)
    result = ensure_review_submission_submitted(apple.client, app_id=app_id, version_id=version_id)
    assert not result.created
    assert result.resource.id == draft.id
    assert result.resource.attributes.state in SUBMITTED
    assert apple.writes("POST", "/v1/reviewSubmissions") == 1


def test_a_draft_holding_our_version_is_submitted_not_duplicated(apple: Apple, ipa: Path) -> None:
    app_id, version_id = ready_version(apple, ipa)
    draft = apple.client.review_submissions.create(app_id=app_id, platform=Platform.IOS)
    apple.client.review_submissions.add_version(submission_id=draft.id, version_id=version_id)
    result = ensure_review_submission_submitted(apple.client, app_id=app_id, version_id=version_id)
    assert (result.created, result.updated, result.resource.id) == (False, True, draft.id)
    assert apple.writes("POST", "/v1/reviewSubmissionItems") == 1


def test_an_open_submission_holding_something_else_blocks_and_is_never_canceled(
    apple: Apple, ipa: Path
) -> None:
    app_id, version_id = ready_version(apple, ipa)
    draft = apple.client.review_submissions.create(app_id=app_id, platform=Platform.IOS)
    apple.client.review_submissions.add_version(submission_id=draft.id, version_id=version_id)
    with pytest.raises(SubmissionBlocked, match=draft.id) as caught:
        ensure_review_submission_submitted(apple.client, app_id=app_id, version_id="another-version")
    assert "never cancels" in caught.value.next_step
    assert review_state(apple.client, draft.id) is ReviewSubmissionState.READY_FOR_REVIEW
    assert not [r for r in apple.log() if r.method == "PATCH" and r.path.startswith("/v1/reviewSubmissions/")]


def test_submit_dropped_after_apple_applied_it_is_read_back(
    make_apple: Callable[..., Apple], ipa: Path
) -> None:
    apple = make_apple(
        faults=FaultPlan(
            rules=[
                FaultRule(kind="drop_after_write", path="/v1/reviewSubmissions/*", methods=["PATCH"], count=1)
            ]
        )
    )
    app_id, version_id = ready_version(apple, ipa)
    result = ensure_review_submission_submitted(apple.client, app_id=app_id, version_id=version_id)
    assert result.resource.attributes.state is not ReviewSubmissionState.READY_FOR_REVIEW
    patches = [r for r in apple.log() if r.method == "PATCH" and r.path.startswith("/v1/reviewSubmissions/")]
    assert len(patches) == 1
