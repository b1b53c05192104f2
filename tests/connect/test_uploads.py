"""Apple's upload operations (reserve / PUT parts / commit / poll) against the simulator over real HTTP.

The helper is driven through raw documents (`ReservedAsset.from_document`, `session.patch`), the way any asset
kind without its own resource group uses it (screenshots below), and through `upload_build`, which uses it for
builds.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from PIL import Image

from ascflow.connect import ApiKey, Session
from ascflow.connect.actions import ActionFailed, find_app, upload_build
from ascflow.connect.actions.uploads import (
    AssetDeliveryFailed,
    ReservedAsset,
    deliver,
    md5_hex,
    send_parts,
    sha256_hex,
    wait_for_delivery,
)
from ascflow.connect.errors import ServerError
from ascflow.connect.models import AssetDeliveryStateValue, BuildUploadStateValue, Platform
from ascflow.connect.resources.base import linkage, request_document
from ascflow.connect.retry import RetryPolicy
from ascflow.simulator.control import LoggedRequest
from ascflow.simulator.faults import FaultPlan, FaultRule
from tests.connect.conftest import BUNDLE, POLL, Apple
from tests.fixtures.ipa import build_ipa

BUILD = "1"
# Apple moves a committed file on to COMPLETE; at the fixture's time scale that can happen at once.
COMMITTED = {"UPLOAD_COMPLETE", "COMPLETE"}
FAST = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.02, max_total_s=5.0)


@pytest.fixture
def ipa(tmp_path: Path) -> Path:
    path = build_ipa(tmp_path / "Example.ipa", BUNDLE, "1.0.0", BUILD, extra_size=1800, team_id=None)
    assert 2000 < path.stat().st_size <= 3000  # three parts at the fixture's 1000-byte part size
    return path


def reserve_file(apple: Apple, file: Path) -> str:
    """A build upload and its file reserved at Apple, as a run would leave them; returns the file's id."""
    app = find_app(apple.client, BUNDLE)
    upload = apple.client.build_uploads.create(
        app_id=app.id, short_version="1.0.0", version=BUILD, platform=Platform.IOS
    )
    reserved = apple.client.build_uploads.create_file(
        upload_id=upload.id,
        file_name=file.name,
        file_size=file.stat().st_size,
        uti="com.apple.ipa",
        asset_type="ASSET",
    )
    return reserved.id


def deliver_file(session: Session, file: Path, file_id: str) -> bool:
    path = f"/v1/buildUploadFiles/{file_id}"
    checksums = {"file": {"hash": sha256_hex(file), "algorithm": "SHA_256"}}
    commit = request_document(
        "buildUploadFiles", id_=file_id, attributes={"uploaded": True, "sourceFileChecksums": checksums}
    )
    return deliver(
        session,
        file,
        reserved=ReservedAsset.from_document(session.get(path)),
        read=lambda: ReservedAsset.from_document(session.get(path)),
        commit=lambda: session.patch(path, commit),
    )


def parts(apple: Apple) -> list[LoggedRequest]:
    return [r for r in apple.log() if r.path.startswith("/_upload/")]


def commits(apple: Apple) -> list[LoggedRequest]:
    return [r for r in apple.log() if r.method == "PATCH" and r.path.startswith("/v1/buildUploadFiles/")]


def file_state(apple: Apple, file_id: str) -> str:
    document = apple.client.session.get(f"/v1/buildUploadFiles/{file_id}")
    return str(document["data"]["attributes"]["assetDeliveryState"]["state"])


def fast_session(apple: Apple) -> Session:
    key = apple.simulator.admin_key
    api_key = ApiKey.from_p8(key.p8, key_id=key.key_id, issuer_id=key.issuer_id)
    return Session(api_key, base_url=apple.simulator.base_url, retry=FAST, timeout=httpx.Timeout(5.0))


def test_a_file_goes_up_in_every_part_without_a_token_and_is_committed_once(apple: Apple, ipa: Path) -> None:
    file_id = reserve_file(apple, ipa)
    assert deliver_file(apple.client.session, ipa, file_id)
    sent = parts(apple)
    # One PUT per part, each to its own presigned URL, none carrying our JWT.
    assert [(r.method, r.status, r.key_id) for r in sent] == [("PUT", 200, None)] * 3
    assert len({r.path for r in sent}) == 3
    # The simulator accepts the commit only if the parts joined in order hash to the file's SHA-256.
    assert [r.status for r in commits(apple)] == [200]
    assert file_state(apple, file_id) in COMMITTED


def test_a_failed_part_is_sent_again_and_the_file_completes(
    make_apple: Callable[..., Apple], ipa: Path
) -> None:
    apple = make_apple(
        faults=FaultPlan(
            rules=[
                FaultRule(kind="server_error", path="/_upload/*/2", methods=["PUT"], count=1, status=503),
                FaultRule(kind="reset", path="/_upload/*/3", methods=["PUT"], count=1),
            ]
        )
    )
    file_id = reserve_file(apple, ipa)
    assert deliver_file(apple.client.session, ipa, file_id)
    sent = parts(apple)
    assert [(r.path.rsplit("/", 1)[1], r.fault) for r in sent] == [
        ("1", None),
        ("2", "server_error"),
        ("2", None),
        ("3", "reset"),
        ("3", None),
    ]
    assert [r.status for r in commits(apple)] == [
        200
    ]  # the checksum matched: every byte arrived once, in place
    assert file_state(apple, file_id) in COMMITTED


def test_a_part_that_keeps_failing_stops_the_upload_before_the_commit(
    make_apple: Callable[..., Apple], ipa: Path
) -> None:
    apple = make_apple(
        faults=FaultPlan(rules=[FaultRule(kind="server_error", path="/_upload/*/2", status=500)])
    )
    file_id = reserve_file(apple, ipa)
    with fast_session(apple) as session, pytest.raises(ServerError, match="HTTP 500"):
        deliver_file(session, ipa, file_id)
    assert [r.path.rsplit("/", 1)[1] for r in parts(apple)] == ["1", "2", "2", "2"]  # FAST: 3 attempts
    assert commits(apple) == []
    assert file_state(apple, file_id) == "AWAITING_UPLOAD"


def test_a_resumed_reservation_is_reused_and_gets_every_part_again(apple: Apple, ipa: Path) -> None:
    """A run that reserved the upload and sent one part, then crashed: the next run reserves nothing new.

    Apple does not say which parts it holds, so the rerun sends all three again (a part PUT is idempotent).
    """
    file_id = reserve_file(apple, ipa)
    operations = ReservedAsset.from_document(
        apple.client.session.get(f"/v1/buildUploadFiles/{file_id}")
    ).operations
    send_parts(apple.client.session, operations[:1], ipa)

    resumed = upload_build(
        apple.client,
        app_id=find_app(apple.client, BUNDLE).id,
        ipa=ipa,
        short_version="1.0.0",
        version=BUILD,
        poll_interval=POLL,
        timeout=10,
    )
    assert not resumed.created
    assert resumed.sent_now  # the summary says "upload resumed", not "reused"
    assert resumed.upload.attributes.state.state is BuildUploadStateValue.COMPLETE
    assert apple.writes("POST", "/v1/buildUploads") == 1
    assert apple.writes("POST", "/v1/buildUploadFiles") == 1
    assert [r.path.rsplit("/", 1)[1] for r in parts(apple)] == ["1", "1", "2", "3"]
    assert [r.status for r in commits(apple)] == [200]


def test_a_reservation_committed_before_a_crash_is_neither_sent_nor_committed_again(
    apple: Apple, ipa: Path
) -> None:
    file_id = reserve_file(apple, ipa)
    assert deliver_file(apple.client.session, ipa, file_id)
    before = len(apple.log())

    assert not deliver_file(apple.client.session, ipa, file_id)
    resumed = upload_build(
        apple.client,
        app_id=find_app(apple.client, BUNDLE).id,
        ipa=ipa,
        short_version="1.0.0",
        version=BUILD,
        poll_interval=POLL,
        timeout=10,
    )
    assert resumed.upload.attributes.state.state is BuildUploadStateValue.COMPLETE
    later = apple.log()[before:]
    assert [r for r in later if r.path.startswith("/_upload/")] == []
    assert [r for r in later if r.method in {"POST", "PATCH"}] == []


def test_a_commit_whose_answer_was_lost_is_read_back_not_sent_twice(
    make_apple: Callable[..., Apple], ipa: Path
) -> None:
    apple = make_apple(
        faults=FaultPlan(
            rules=[
                FaultRule(kind="drop_after_write", path="/v1/buildUploadFiles/*", methods=["PATCH"], count=1)
            ]
        )
    )
    file_id = reserve_file(apple, ipa)
    assert deliver_file(apple.client.session, ipa, file_id)
    assert [(r.fault) for r in commits(apple)] == ["drop_after_write"]
    assert file_state(apple, file_id) in COMMITTED


def test_the_committed_file_is_polled_until_apple_has_processed_it(apple: Apple, ipa: Path) -> None:
    file_id = reserve_file(apple, ipa)
    deliver_file(apple.client.session, ipa, file_id)
    session = apple.client.session
    done = wait_for_delivery(
        lambda: ReservedAsset.from_document(session.get(f"/v1/buildUploadFiles/{file_id}")),
        what=ipa.name,
        poll_interval=POLL,
        timeout=10,
    )
    assert done.delivery is not None
    assert done.delivery.state is AssetDeliveryStateValue.COMPLETE


def test_an_expired_upload_url_says_to_reserve_again(make_apple: Callable[..., Apple], ipa: Path) -> None:
    apple = make_apple(upload_url_lifetime_seconds=1)  # one Apple second: a fraction of a millisecond here
    file_id = reserve_file(apple, ipa)
    time.sleep(0.01)
    with pytest.raises(ActionFailed, match=r"part 1 was refused \(HTTP 403\)") as caught:
        deliver_file(apple.client.session, ipa, file_id)
    assert "fresh upload URLs" in caught.value.next_step
    assert len(parts(apple)) == 1  # a refused URL is not retried
    assert commits(apple) == []


def test_a_file_shorter_than_its_reservation_sends_nothing(apple: Apple, ipa: Path) -> None:
    file_id = reserve_file(apple, ipa)
    size = ipa.stat().st_size
    ipa.write_bytes(ipa.read_bytes()[:-1])
    with pytest.raises(ActionFailed, match=rf"bytes 2000\.\.{size} but the file has {size - 1}"):
        deliver_file(apple.client.session, ipa, file_id)
    assert parts(apple) == []


def test_the_checksums_are_apples_algorithms(tmp_path: Path) -> None:
    path = tmp_path / "shot.png"
    content = os.urandom(3 * 1024 * 1024 + 7)
    path.write_bytes(content)
    assert md5_hex(path) == hashlib.md5(content).hexdigest()
    assert sha256_hex(path) == hashlib.sha256(content).hexdigest()


# Screenshots: the protocol on `appScreenshots` (reference first-release.md 8.4), parts of PART bytes.
PART = 16 * 1024


def screenshot_set(apple: Apple) -> str:
    """A new APP_IPHONE_65 set of a new version's primary localization; returns the set's id."""
    app = find_app(apple.client, BUNDLE)
    version = apple.client.versions.create(app_id=app.id, platform=Platform.IOS, version_string="1.1")
    localization = apple.client.localizations.list_for_version(version.id)[0]
    body = request_document(
        "appScreenshotSets",
        attributes={"screenshotDisplayType": "APP_IPHONE_65"},
        relationships={
            "appStoreVersionLocalization": linkage("appStoreVersionLocalizations", localization.id)
        },
    )
    return str(apple.client.session.post("/v1/appScreenshotSets", body)["data"]["id"])


def upload_screenshot(session: Session, set_id: str, image: Path) -> ReservedAsset:
    """A screenshot the way the listing step will send one: reserve, parts, MD5 commit, wait for processing."""
    body = request_document(
        "appScreenshots",
        attributes={"fileName": image.name, "fileSize": image.stat().st_size},
        relationships={"appScreenshotSet": linkage("appScreenshotSets", set_id)},
    )
    reservation = session.post("/v1/appScreenshots", body)
    path = f"/v1/appScreenshots/{reservation['data']['id']}"
    commit = request_document(
        "appScreenshots",
        id_=reservation["data"]["id"],
        attributes={"uploaded": True, "sourceFileChecksum": md5_hex(image)},
    )
    deliver(
        session,
        image,
        reserved=ReservedAsset.from_document(reservation),
        read=lambda: ReservedAsset.from_document(session.get(path)),
        commit=lambda: session.patch(path, commit),
    )
    return wait_for_delivery(
        lambda: ReservedAsset.from_document(session.get(path)),
        what=image.name,
        poll_interval=POLL,
        timeout=10,
    )


def png(path: Path, size: tuple[int, int]) -> Path:
    image = Image.new("RGB", size, "white")
    image.paste(Image.effect_noise((200, 200), 64).convert("RGB"))  # noise does not compress: several parts
    image.save(path, "PNG")
    return path


def test_a_screenshot_goes_up_in_parts_and_apple_processes_it(
    make_apple: Callable[..., Apple], tmp_path: Path
) -> None:
    apple = make_apple(
        upload_part_size=PART,
        faults=FaultPlan(
            rules=[FaultRule(kind="server_error", path="/_upload/*/2", methods=["PUT"], count=1)]
        ),
    )
    image = png(tmp_path / "home.png", (1284, 2778))
    done = upload_screenshot(apple.client.session, screenshot_set(apple), image)
    assert done.delivery is not None
    assert done.delivery.state is AssetDeliveryStateValue.COMPLETE
    sent = parts(apple)
    assert len({r.path for r in sent}) == math.ceil(image.stat().st_size / PART) > 2
    assert [r.fault for r in sent].count("server_error") == 1
    assert {r.key_id for r in sent} == {None}
    shots = [r for r in apple.log() if r.method == "PATCH" and r.path.startswith("/v1/appScreenshots/")]
    assert [r.status for r in shots] == [200]


def test_a_screenshot_apple_cannot_use_fails_with_apples_reason(apple: Apple, tmp_path: Path) -> None:
    image = png(tmp_path / "small.png", (640, 960))
    with pytest.raises(AssetDeliveryFailed, match="IMG_BAD_DIMENSIONS") as caught:
        upload_screenshot(apple.client.session, screenshot_set(apple), image)
    assert "upload it again" in caught.value.next_step
