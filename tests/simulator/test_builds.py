"""Build uploads over presigned parts, the commit, processing over Apple time, and builds."""

from __future__ import annotations

import io
import time
import zipfile

import httpx
import pytest

from tests.fixtures.ipa import ipa_bytes
from tests.fixtures.simulator import DEFAULT_BUNDLE_ID, RunningSimulator
from tests.simulator.helpers import body
from tests.simulator.publishing import commit, put_parts, reserve_file, reserve_upload, upload_build, wait_for


@pytest.fixture
def sim(start_simulator) -> RunningSimulator:
    return start_simulator(upload_part_size=1000)


def test_upload_parts_point_back_at_the_simulator_and_need_no_jwt(sim: RunningSimulator) -> None:
    api = sim.client()
    upload = reserve_upload(api, sim.app_id)
    assert upload.status_code == 201
    assert upload.json()["data"]["attributes"]["state"]["state"] == "AWAITING_UPLOAD"
    file = reserve_file(api, upload.json()["data"]["id"], 2500).json()["data"]
    operations = file["attributes"]["uploadOperations"]
    assert [(op["offset"], op["length"], op["partNumber"]) for op in operations] == [
        (0, 1000, 1),
        (1000, 1000, 2),
        (2000, 500, 3),
    ]
    for op in operations:
        assert op["url"].startswith(f"{sim.base_url}/_upload/")
        assert "Signature=" in op["url"]
        assert "Expires=" in op["url"]
    content = bytes(2500)
    assert put_parts(file, content) == [200, 200, 200]
    # The parts carried no Authorization header, so the log shows no key for them.
    parts = [e for e in sim.control.requests() if e.path.startswith("/_upload/")]
    assert len(parts) == 3
    assert {e.key_id for e in parts} == {None}
    assert {e.query["Signature"] for e in parts} == {"<redacted>"}


def test_a_part_of_the_wrong_length_or_offset_or_signature_is_refused(sim: RunningSimulator) -> None:
    api = sim.client()
    upload_id = reserve_upload(api, sim.app_id).json()["data"]["id"]
    file = reserve_file(api, upload_id, 2500).json()["data"]
    op = file["attributes"]["uploadOperations"][1]
    headers = {h["name"]: h["value"] for h in op["requestHeaders"]}
    short = httpx.put(op["url"], content=bytes(999), headers=headers)
    assert short.status_code == 400
    assert "1000 bytes at offset 1000" in short.text
    wrong_offset = httpx.put(
        op["url"], content=bytes(1000), headers={**headers, "Content-Range": "bytes 0-999/2500"}
    )
    assert wrong_offset.status_code == 400
    assert "Content-Range" in wrong_offset.text
    forged = httpx.put(op["url"].replace("Signature=", "Signature=0"), content=bytes(1000), headers=headers)
    assert forged.status_code == 403


def test_commit_before_every_part_is_409_and_a_bad_checksum_is_refused(sim: RunningSimulator) -> None:
    api = sim.client()
    upload_id = reserve_upload(api, sim.app_id).json()["data"]["id"]
    file = reserve_file(api, upload_id, 1500).json()["data"]
    early = commit(api, file["id"])
    assert early.status_code == 409
    assert "[1, 2]" in early.json()["errors"][0]["detail"]
    content = b"x" * 1500
    put_parts(file, content)
    wrong = commit(api, file["id"], b"y" * 1500)
    assert wrong.status_code == 409
    assert wrong.json()["errors"][0]["source"] == {"pointer": "/data/attributes/sourceFileChecksums"}
    done = commit(api, file["id"], content)
    assert done.status_code == 200
    assert done.json()["data"]["attributes"]["assetDeliveryState"]["state"] == "UPLOAD_COMPLETE"
    late = put_parts(file, content)
    assert late == [409, 409]


def test_upload_goes_processing_complete_and_build_processing_valid(sim: RunningSimulator) -> None:
    api = sim.client()
    build = upload_build(api, sim.app_id, "1.2.0", "42")
    assert build["attributes"]["version"] == "42"
    found = api.get(
        "/v1/builds",
        params={
            "filter[app]": sim.app_id,
            "filter[version]": "42",
            "filter[preReleaseVersion.version]": "1.2.0",
            "filter[processingState]": "VALID",
        },
    ).json()["data"]
    assert [b["id"] for b in found] == [build["id"]]
    assert api.get("/v1/builds", params={"filter[processingState]": "PROCESSING"}).json()["data"] == []
    assert [b["id"] for b in api.get(f"/v1/apps/{sim.app_id}/builds").json()["data"]] == [build["id"]]
    assert api.get(f"/v1/builds/{build['id']}/app").json()["data"]["id"] == sim.app_id


def test_processing_takes_apple_time_at_the_time_scale(start_simulator) -> None:
    # 15 Apple minutes of processing at 3600x: a quarter of a wall second.
    sim = start_simulator(time_scale=3600.0, upload_part_size=1000)
    api = sim.client()
    started = time.monotonic()
    upload_build(api, sim.app_id)
    elapsed = time.monotonic() - started
    assert 0.1 < elapsed < 3.0


def test_a_duplicate_build_number_is_rejected(sim: RunningSimulator) -> None:
    api = sim.client()
    upload_build(api, sim.app_id, "1.0", "7")
    duplicate = reserve_upload(api, sim.app_id, "1.0", "7")
    assert duplicate.status_code == 409
    error = duplicate.json()["errors"][0]
    assert error["code"] == "ENTITY_ERROR"
    assert "Redundant Binary Upload" in error["detail"]
    assert reserve_upload(api, sim.app_id, "1.0", "8").status_code == 201


def test_export_compliance_is_unanswered_until_patched(sim: RunningSimulator) -> None:
    api = sim.client()
    build = upload_build(api, sim.app_id)
    assert build["attributes"]["usesNonExemptEncryption"] is None
    unanswered = api.get("/v1/builds", params={"exists[usesNonExemptEncryption]": "false"}).json()["data"]
    assert [b["id"] for b in unanswered] == [build["id"]]
    patched = api.patch(
        f"/v1/builds/{build['id']}", json=body("builds", {"usesNonExemptEncryption": False}, id_=build["id"])
    )
    assert patched.status_code == 200
    assert patched.json()["data"]["attributes"]["usesNonExemptEncryption"] is False


def test_an_abandoned_upload_can_be_deleted(sim: RunningSimulator) -> None:
    api = sim.client()
    upload_id = reserve_upload(api, sim.app_id).json()["data"]["id"]
    reserve_file(api, upload_id, 10)
    assert api.delete(f"/v1/buildUploads/{upload_id}").status_code == 204
    assert api.get(f"/v1/buildUploads/{upload_id}").status_code == 404
    assert reserve_upload(api, sim.app_id).status_code == 201


def test_an_expired_part_url_is_refused(start_simulator) -> None:
    sim = start_simulator(upload_url_lifetime_seconds=60)  # one Apple minute: under 2 ms of wall time
    api = sim.client()
    upload_id = reserve_upload(api, sim.app_id).json()["data"]["id"]
    file = reserve_file(api, upload_id, 10).json()["data"]
    time.sleep(0.05)
    assert put_parts(file, bytes(10)) == [403]


def process(api: httpx.Client, app_id: str, content: bytes, short: str = "1.0", number: str = "1") -> dict:
    """Upload `content` as the .ipa of a new upload; returns the upload once processing ended."""
    upload = reserve_upload(api, app_id, short, number).json()["data"]
    file = reserve_file(api, upload["id"], len(content)).json()["data"]
    assert set(put_parts(file, content)) == {200}
    assert commit(api, file["id"], content).status_code == 200
    return wait_for(
        lambda: api.get(f"/v1/buildUploads/{upload['id']}").json()["data"],
        lambda doc: doc["attributes"]["state"]["state"] in {"COMPLETE", "FAILED"},
    )


def test_a_binary_info_plist_is_read_and_its_numbers_and_encryption_answer_make_the_build(
    sim: RunningSimulator,
) -> None:
    api = sim.client()
    # Reserved as 1.0 (1); the archive says 2.3.0 (57): the build is what the binary says.
    content = ipa_bytes(
        sim.bundle_id, "2.3.0", "57", binary_plist=True, info={"ITSAppUsesNonExemptEncryption": False}
    )
    assert content.count(b"bplist00") == 1
    upload = process(api, sim.app_id, content)
    assert upload["attributes"]["state"] == {"state": "COMPLETE", "errors": [], "warnings": [], "infos": []}
    builds = api.get(
        "/v1/builds", params={"filter[app]": sim.app_id, "filter[preReleaseVersion.version]": "2.3.0"}
    ).json()["data"]
    assert [b["attributes"]["version"] for b in builds] == ["57"]
    assert builds[0]["attributes"]["usesNonExemptEncryption"] is False


def test_an_ipa_for_another_bundle_id_fails_as_at_apple(sim: RunningSimulator) -> None:
    api = sim.client()
    upload = process(api, sim.app_id, ipa_bytes("com.example.otherapp", "1.0", "1"))
    state = upload["attributes"]["state"]
    assert state["state"] == "FAILED"
    assert state["errors"] == [
        {
            "code": "STATE_ERROR.VALIDATION_ERROR.90055",
            "description": "This bundle is invalid. The bundle identifier cannot be changed from the current "
            f"value, '{sim.bundle_id}'. If you want to change your bundle identifier, you will need to create "
            "a new application in App Store Connect.",
        }
    ]
    assert api.get("/v1/builds", params={"filter[app]": sim.app_id}).json()["data"] == []
    files = api.get(f"/v1/buildUploads/{upload['id']}/buildUploadFiles").json()["data"]
    assert files[0]["attributes"]["assetDeliveryState"]["state"] == "FAILED"
    # A failed upload does not hold its build number: the fixed archive goes up under the same number.
    assert process(api, sim.app_id, ipa_bytes(sim.bundle_id, "1.0", "1"))["attributes"]["state"]["state"] == (
        "COMPLETE"
    )


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


UNREADABLE = {
    "not a zip": (b"PK\x03\x04 but not really" * 40, "90167", "No .app bundles found in the package"),
    "no app in Payload": (_zip({"Payload/readme.txt": b"hi"}), "90167", "No .app bundles found"),
    "no Info.plist": (
        _zip({"Payload/App.app/App": b"\0" * 64}),
        "90036",
        "The Info.plist file for /Payload/App.app is missing or could not be read.",
    ),
    "Info.plist not a plist": (
        _zip({"Payload/App.app/Info.plist": b"<plist><dict><key>"}),
        "90036",
        "is missing or could not be read",
    ),
    "no CFBundleVersion": (
        ipa_bytes(DEFAULT_BUNDLE_ID, "1.0", "1", info={"CFBundleVersion": None}),
        "90056",
        "The Info.plist file is missing the required key: CFBundleVersion.",
    ),
    "empty CFBundleShortVersionString": (
        ipa_bytes(DEFAULT_BUNDLE_ID, "", "1"),
        "90057",
        "missing the required key: CFBundleShortVersionString.",
    ),
    "two apps": (ipa_bytes(DEFAULT_BUNDLE_ID, "1.0", "1", apps=2), "", "holds 2 .app bundles"),
}


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_an_archive_apple_cannot_read_fails_the_upload_with_apples_error(
    sim: RunningSimulator, case: str
) -> None:
    content, number, text = UNREADABLE[case]
    state = process(sim.client(), sim.app_id, content)["attributes"]["state"]
    assert state["state"] == "FAILED"
    [error] = state["errors"]
    assert error["code"] == "STATE_ERROR.VALIDATION_ERROR" + (f".{number}" if number else "")
    assert text in error["description"]


def test_a_build_number_the_app_has_already_fails_as_a_redundant_binary(sim: RunningSimulator) -> None:
    api = sim.client()
    upload_build(api, sim.app_id, "1.0", "7")
    # Reserved under a fresh number, but the binary says 7 again.
    state = process(api, sim.app_id, ipa_bytes(sim.bundle_id, "1.0", "7"), number="8")["attributes"]["state"]
    assert state["state"] == "FAILED"
    assert state["errors"][0]["code"] == "STATE_ERROR.VALIDATION_ERROR.90189"
    assert "Redundant Binary Upload" in state["errors"][0]["description"]
