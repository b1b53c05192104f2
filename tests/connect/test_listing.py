"""The listing actions against the simulator over real HTTP: a first release's listing applied, then again.

The first application writes what reference first-release.md §16a lists for these steps (and nothing else); a
rerun writes nothing and uploads nothing; a changed field writes only that field; a write whose answer is lost is
not applied twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from ascflow.connect.actions.listing import (
    AppInfoNotEditable,
    AppInfoText,
    VersionText,
    ensure_app_details,
    ensure_app_info,
    ensure_version_listing,
)
from ascflow.connect.actions.release import is_first_version
from ascflow.connect.models import Platform
from ascflow.simulator.faults import FaultPlan, FaultRule
from tests.connect.conftest import Apple
from tests.connect.first_release import (
    AGE_RATING,
    APP_INFO_TEXT,
    CATEGORIES,
    COPYRIGHT,
    VERSION_TEXT,
    FirstRelease,
    apply_listing,
    changes,
    start_first_release,
)
from tests.fixtures.simulator import DEFAULT_APP_ID

ID = "[0-9A-Za-z-]+"
# §16a steps 4-9, 13-19, 24 and 26: every write of a free iPhone app's listing, one locale, three screenshots.
FIRST_RELEASE_WRITES = [
    "PATCH /v1/apps/6400000042",
    f"PATCH /v1/appInfos/{ID}",
    f"PATCH /v1/appInfoLocalizations/{ID}",
    f"PATCH /v1/ageRatingDeclarations/{ID}",
    f"PATCH /v1/appStoreVersions/{ID}",
    f"PATCH /v1/appStoreVersionLocalizations/{ID}",
    "POST /v1/appScreenshotSets",
    *["POST /v1/appScreenshots", f"PATCH /v1/appScreenshots/{ID}"] * 3,
    "POST /v1/appPriceSchedules",
    "POST /v2/appAvailabilities",
]


def bodies(release: FirstRelease, method: str, path_pattern: str, since: int = 0) -> list[dict[str, object]]:
    return [
        json.loads(r.content)
        for r in release.api_calls(since)
        if r.method == method and re.fullmatch(path_pattern, r.url.path)
    ]


@pytest.fixture
def release(make_apple: Callable[..., Apple]) -> FirstRelease:
    return start_first_release(make_apple)


def test_first_application_writes_what_the_reference_lists_and_updates_what_apple_made(
    release: FirstRelease,
) -> None:
    results = apply_listing(release)
    writes = release.writes()
    assert len(writes) == len(FIRST_RELEASE_WRITES)
    for write, expected in zip(writes, FIRST_RELEASE_WRITES, strict=True):
        assert re.fullmatch(expected, write), (write, expected)
    calls = release.api_calls()
    print(f"\nfirst application: {len(calls)} App Store Connect API calls, {len(writes)} writes")
    assert len(calls) == 27  # §16a's 23 for these steps, its version read, and three probes (see report)
    # Apple made the primary-locale localizations with the app and the version: updated, not duplicated.
    state = release.apple.control.state()
    assert [loc["attributes"]["locale"] for loc in state["appInfoLocalizations"]] == ["en-US"]
    assert [loc["attributes"]["name"] for loc in state["appInfoLocalizations"]] == ["Tally Counter"]
    version_texts = state["appStoreVersionLocalizations"]
    assert [loc["attributes"]["locale"] for loc in version_texts] == ["en-US"]
    assert version_texts[0]["attributes"]["keywords"] == "counter,tally,clicker"
    # A first version: What's New is never sent (Apple refuses it), though the listing has one.
    assert all(b"whatsNew" not in r.content for r in release.api_calls())
    assert version_texts[0]["attributes"]["whatsNew"] is None
    assert "app: content rights declaration DOES_NOT_USE_THIRD_PARTY_CONTENT" in changes(results)
    assert state["apps"][0]["attributes"]["contentRightsDeclaration"] == "DOES_NOT_USE_THIRD_PARTY_CONTENT"
    (info,) = state["appInfos"]
    assert info["relationships"]["primaryCategory"] == "PRODUCTIVITY"
    assert state["ageRatingDeclarations"][0]["attributes"]["violenceRealistic"] == "NONE"


def test_a_rerun_reads_and_writes_nothing(release: FirstRelease) -> None:
    apply_listing(release)
    mark = len(release.apple.transport.requests)
    results = apply_listing(release)
    assert release.writes(mark) == []
    assert release.part_uploads(mark) == 0
    assert changes(results) == []
    assert not any(result.created for result in results)
    reads = release.api_calls(mark)
    print(f"\nrerun: {len(reads)} App Store Connect API calls, 0 writes")
    assert len(reads) == 9


def test_a_changed_field_writes_only_that_field(release: FirstRelease) -> None:
    apply_listing(release)
    mark = len(release.apple.transport.requests)
    changed = VERSION_TEXT.model_copy(update={"description": "Count anything, anywhere."})
    results = apply_listing(release, version_text=changed)
    assert len(release.writes(mark)) == 1
    (body,) = bodies(release, "PATCH", f"/v1/appStoreVersionLocalizations/{ID}", mark)
    assert body["data"]["attributes"] == {"description": "Count anything, anywhere."}  # type: ignore[index]
    assert changes(results) == ["version texts (en-US): description"]

    mark = len(release.apple.transport.requests)
    answers = AGE_RATING | {"contests": "INFREQUENT"}
    ensure_app_info(release.apple.client, release.app_id, CATEGORIES, {"en-US": APP_INFO_TEXT}, answers)
    (body,) = bodies(release, "PATCH", f"/v1/ageRatingDeclarations/{ID}", mark)
    assert body["data"]["attributes"] == {"contests": "INFREQUENT"}  # type: ignore[index]
    assert len(release.writes(mark)) == 1


def test_new_locales_are_created_once(release: FirstRelease) -> None:
    client = release.apple.client
    german = AppInfoText(name="Strichliste", privacy_policy_url="https://example.com/de/privacy")
    texts = {"en-US": APP_INFO_TEXT, "de-DE": german}
    made = ensure_app_info(client, release.app_id, CATEGORIES, texts, AGE_RATING)
    assert "app information (de-DE): created" in made.changes
    assert set(made.resource.localizations) == {"en-US", "de-DE"}
    version_texts = {
        "en-US": VERSION_TEXT,
        "de-DE": VersionText(description="Zählt alles.", keywords="zähler"),
    }
    listed = ensure_version_listing(
        client, release.version_id, COPYRIGHT, "MANUAL", None, version_texts, True
    )
    assert "version texts (de-DE): created" in listed.changes
    assert listed.resource.localizations["de-DE"].attributes.description == "Zählt alles."
    mark = len(release.apple.transport.requests)
    assert ensure_app_info(client, release.app_id, CATEGORIES, texts, AGE_RATING).changes == ()
    again = ensure_version_listing(client, release.version_id, COPYRIGHT, "MANUAL", None, version_texts, True)
    assert again.changes == ()
    assert release.writes(mark) == []
    assert release.apple.count("appInfoLocalizations") == 2


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/v1/apps/*"),
        ("PATCH", "/v1/appInfos/*"),
        ("PATCH", "/v1/appInfoLocalizations/*"),
        ("POST", "/v1/appInfoLocalizations"),
        ("PATCH", "/v1/ageRatingDeclarations/*"),
        ("PATCH", "/v1/appStoreVersions/*"),
        ("POST", "/v1/appStoreVersionLocalizations"),
    ],
)
def test_a_lost_answer_is_read_back_and_nothing_is_written_twice(
    make_apple: Callable[..., Apple], method: str, path: str
) -> None:
    rule = FaultRule(kind="drop_after_write", path=path, methods=[method], count=1)
    release = start_first_release(make_apple, faults=FaultPlan(rules=[rule]))
    client = release.apple.client
    texts = {"en-US": APP_INFO_TEXT, "fr-FR": AppInfoText(name="Compteur")}
    ensure_app_details(client, release.app_id, "USES_THIRD_PARTY_CONTENT")
    ensure_app_info(client, release.app_id, CATEGORIES, texts, AGE_RATING)
    version_texts = {"en-US": VERSION_TEXT, "fr-FR": VersionText(description="Compte tout.")}
    ensure_version_listing(client, release.version_id, COPYRIGHT, "MANUAL", None, version_texts, True)
    dropped = [r for r in release.apple.log() if r.fault == "drop_after_write"]
    assert len(dropped) == 1  # the fault fired: Apple applied the write and the answer was lost
    sent = [
        w
        for w in release.writes()
        if w.split()[0] == method and re.fullmatch(path.replace("*", ID), w.split()[1])
    ]
    assert len(sent) == 1, sent  # read back, found applied, not sent again
    state = release.apple.control.state()
    assert sorted(loc["attributes"]["locale"] for loc in state["appInfoLocalizations"]) == ["en-US", "fr-FR"]
    assert len(state["appStoreVersionLocalizations"]) == 2
    assert state["apps"][0]["attributes"]["contentRightsDeclaration"] == "USES_THIRD_PARTY_CONTENT"
    assert state["appStoreVersions"][0]["attributes"]["releaseType"] == "MANUAL"


def test_first_version_is_read_from_apples_version_states(make_apple: Callable[..., Apple]) -> None:
    release = start_first_release(make_apple)
    assert is_first_version(release.apple.client, app_id=release.app_id) is True
    released = make_apple()  # the default app: 0.9 is READY_FOR_DISTRIBUTION
    assert is_first_version(released.client, app_id=DEFAULT_APP_ID) is False


def test_an_update_sends_whats_new(make_apple: Callable[..., Apple]) -> None:
    apple = make_apple()
    client = apple.client
    version = client.versions.create(app_id=DEFAULT_APP_ID, platform=Platform.IOS, version_string="1.0")
    first = is_first_version(client, app_id=DEFAULT_APP_ID)
    listed = ensure_version_listing(
        client, version.id, COPYRIGHT, "AFTER_APPROVAL", None, {"en-US": VERSION_TEXT}, first
    )
    assert listed.resource.localizations["en-US"].id
    texts = [
        loc
        for loc in apple.control.state()["appStoreVersionLocalizations"]
        if loc["relationships"]["appStoreVersion"] == version.id
    ]
    assert [t["attributes"]["whatsNew"] for t in texts] == [VERSION_TEXT.whats_new]


def test_an_app_without_an_editable_app_info_is_refused_with_a_next_step(
    make_apple: Callable[..., Apple],
) -> None:
    apple = make_apple()  # released, no version in preparation: its only appInfo is live
    with pytest.raises(AppInfoNotEditable, match="READY_FOR_DISTRIBUTION") as refused:
        ensure_app_info(apple.client, DEFAULT_APP_ID, CATEGORIES, {"en-US": APP_INFO_TEXT}, AGE_RATING)
    assert "next version" in refused.value.next_step
    assert apple.writes("PATCH", f"/v1/apps/{DEFAULT_APP_ID}") == 0


def test_a_scheduled_release_needs_its_date(release: FirstRelease) -> None:
    with pytest.raises(ValueError, match="earliest_release_date"):
        ensure_version_listing(
            release.apple.client, release.version_id, COPYRIGHT, "SCHEDULED", None, {}, True
        )
    assert release.api_calls() == []


def test_an_update_edits_the_editable_app_info_and_leaves_the_live_one(
    make_apple: Callable[..., Apple],
) -> None:
    apple = make_apple()
    apple.client.versions.create(app_id=DEFAULT_APP_ID, platform=Platform.IOS, version_string="1.0")
    made = ensure_app_info(apple.client, DEFAULT_APP_ID, CATEGORIES, {"en-US": APP_INFO_TEXT}, AGE_RATING)
    assert made.resource.info.attributes.state.value == "PREPARE_FOR_SUBMISSION"
    infos = {i["attributes"]["state"]: i for i in apple.control.state()["appInfos"]}
    assert infos["READY_FOR_DISTRIBUTION"]["relationships"]["primaryCategory"] == "UTILITIES"
    assert infos["PREPARE_FOR_SUBMISSION"]["relationships"]["primaryCategory"] == "PRODUCTIVITY"
    names = {
        loc["relationships"]["appInfo"]: loc["attributes"]["name"]
        for loc in apple.control.state()["appInfoLocalizations"]
    }
    assert names[infos["READY_FOR_DISTRIBUTION"]["id"]] == "Demo App"
    assert names[infos["PREPARE_FOR_SUBMISSION"]["id"]] == "Tally Counter"
    # The age rating copied from the live appInfo already answers "no" throughout: nothing to write.
    assert not any(change.startswith("age rating") for change in made.changes)
