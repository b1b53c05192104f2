"""A first release of a new app through the step list, without Prefect: the listing checked offline (a listing
Apple would refuse stops the run before any Apple call, naming the field), applied, the App Privacy wait (only
a person can publish the answers), then the submission; a rerun writes nothing and uploads no screenshot."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from ascflow.listing import ListingSource, write_example_screenshots
from ascflow.pipeline.listing import ListingRejected
from ascflow.pipeline.steps import run_in_process
from ascflow.simulator.scenario import AppSpec
from tests.fixtures.ipa import build_ipa
from tests.pipeline.conftest import deposit, request_for

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "listing.yaml"
NEW_APP = AppSpec(id="6400000077", name="Tally Lists", bundle_id="com.example.tally", sku="TALLY-1")
WRITES = ("POST", "PATCH", "PUT", "DELETE")
NOT_REVIEW = frozenset({"await-review"})


def listing_file(folder: Path, change: Any = None) -> Path:
    """The example listing with its screenshots, optionally changed by `change(data)` first."""
    data = yaml.safe_load(EXAMPLE.read_text())
    if change is not None:
        change(data)
    write_example_screenshots(folder / "screenshots")
    path = folder / "listing.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def first_release_request(apple, folder: Path, listing: Path):
    ipa = build_ipa(folder / "App.ipa", apple.bundle_id, "1.0", "7")
    return request_for(
        apple, ipa, whats_new={}, review_contact=None, listing=ListingSource(path=str(listing))
    )


def writes(apple, since: int = 0) -> list[str]:
    return [f"{r.method} {r.path}" for r in apple.control.requests()[since:] if r.method in WRITES]


@pytest.fixture
def new_app(start_simulator, monkeypatch):
    # The example's demo account takes its password from the worker's environment.
    monkeypatch.setenv("TALLY_DEMO_PASSWORD", "demo-password-for-review")
    apple = start_simulator(apps=[NEW_APP])
    apple.app_id, apple.bundle_id = NEW_APP.id, NEW_APP.bundle_id
    return apple


def test_a_first_release_waits_for_app_privacy_then_is_submitted_and_a_rerun_writes_nothing(
    new_app, make_context, tmp_path
):
    ctx = make_context(new_app)
    custody_id = deposit(ctx, new_app.admin_key)
    request = first_release_request(new_app, tmp_path, listing_file(tmp_path))

    done, wait = run_in_process(ctx, request, custody_id, skip=NOT_REVIEW)
    assert wait is not None, done.keys()
    assert wait.kind == "app-privacy"
    assert "App Privacy" in wait.description
    assert "Publish" in wait.description
    assert "submit-for-review" not in done
    states = {r["attributes"]["state"] for r in new_app.control.state().get("reviewSubmissions", [])}
    assert states <= {"READY_FOR_REVIEW"}, states  # nothing went to Apple's review half-done

    new_app.control.publish_app_privacy(NEW_APP.id)  # as the invited team member does in App Store Connect
    done, wait = run_in_process(make_context(new_app), request, custody_id, skip=NOT_REVIEW)
    assert wait is None
    assert done["submit-for-review"].submission_state == "WAITING_FOR_REVIEW"  # type: ignore[attr-defined]
    assert done["prepare-version"].first_version  # type: ignore[attr-defined]
    shots = list(new_app.control.state()["appScreenshots"])
    assert len(shots) == 3
    assert {s["attributes"]["assetDeliveryState"]["state"] for s in shots} == {"COMPLETE"}

    before = len(new_app.control.requests())
    done, wait = run_in_process(make_context(new_app), request, custody_id, skip=NOT_REVIEW)
    assert wait is None
    assert writes(new_app, before) == []  # no write, no screenshot uploaded again
    assert {step: result.outcome() for step, result in done.items() if step.startswith("apply-")} == {
        "apply-app-listing": "nothing to change",
        "apply-pricing": "nothing to change",
        "apply-version-listing": "nothing to change",
    }


def _drop(*path: str):
    def change(data: dict[str, Any]) -> None:
        node = data
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return change


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (_drop("localizations", "en-US", "description"), "localizations.en-US.description"),
        (_drop("localizations", "en-US", "keywords"), "localizations.en-US.keywords"),
        (_drop("localizations", "en-US", "support_url"), "localizations.en-US.support_url"),
        (_drop("localizations", "en-US", "privacy_policy_url"), "localizations.en-US.privacy_policy_url"),
        (_drop("copyright"), "copyright"),
        (_drop("content_rights"), "content_rights"),
        (_drop("categories"), "categories"),
        (_drop("age_rating", "violenceRealistic"), "age_rating.violenceRealistic"),
        (_drop("price"), "price"),
        (_drop("availability"), "availability"),
        (_drop("localizations", "en-US", "screenshots"), "screenshots"),
        (_drop("review", "contact"), "review.contact"),
    ],
)
def test_a_listing_apple_would_refuse_stops_the_run_before_any_apple_call(
    new_app, make_context, tmp_path, change, field
):
    ctx = make_context(new_app)
    custody_id = deposit(ctx, new_app.admin_key)
    request = first_release_request(new_app, tmp_path, listing_file(tmp_path, change))
    with pytest.raises(ListingRejected) as refused:
        run_in_process(ctx, request, custody_id, skip=NOT_REVIEW)
    assert field in refused.value.what, refused.value.what
    assert "nothing was sent to Apple" in refused.value.what
    assert new_app.control.requests() == []


def test_a_fixed_listing_completes_reusing_what_was_written(new_app, make_context, tmp_path):
    """The listing is right offline but Apple still refuses (App Privacy): fixing and rerunning reuses all."""
    ctx = make_context(new_app)
    custody_id = deposit(ctx, new_app.admin_key)
    request = first_release_request(new_app, tmp_path, listing_file(tmp_path))
    run_in_process(ctx, request, custody_id, skip=NOT_REVIEW)
    made = {kind: len(items) for kind, items in new_app.control.state().items()}
    new_app.control.publish_app_privacy(NEW_APP.id)
    done, wait = run_in_process(make_context(new_app), request, custody_id, skip=NOT_REVIEW)
    assert wait is None
    assert done["submit-for-review"].submission_state == "WAITING_FOR_REVIEW"  # type: ignore[attr-defined]
    after = {kind: len(items) for kind, items in new_app.control.state().items()}
    for kind in ("appScreenshots", "appScreenshotSets", "appInfoLocalizations", "appStoreVersions", "builds"):
        assert after.get(kind) == made.get(kind), kind
    shutil.rmtree(tmp_path / "screenshots")
