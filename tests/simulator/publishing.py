"""Steps of the publish path, written by hand against the spec, shared by the simulator's tests."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import httpx

from tests.fixtures.ipa import ipa_bytes
from tests.fixtures.simulator import DEFAULT_BUNDLE_ID
from tests.simulator.helpers import body


def reserve_upload(api: httpx.Client, app_id: str, short: str = "1.0", number: str = "1") -> httpx.Response:
    return api.post(
        "/v1/buildUploads",
        json=body(
            "buildUploads",
            {"cfBundleShortVersionString": short, "cfBundleVersion": number, "platform": "IOS"},
            app=("apps", app_id),
        ),
    )


def reserve_file(api: httpx.Client, upload_id: str, size: int) -> httpx.Response:
    return api.post(
        "/v1/buildUploadFiles",
        json=body(
            "buildUploadFiles",
            {"assetType": "ASSET", "fileName": "App.ipa", "fileSize": size, "uti": "com.apple.ipa"},
            buildUpload=("buildUploads", upload_id),
        ),
    )


def put_parts(file: dict[str, Any], content: bytes) -> list[int]:
    """PUT every part with its own headers and no JWT, as a client must; returns the statuses."""
    statuses = []
    for op in file["attributes"]["uploadOperations"]:
        headers = {h["name"]: h["value"] for h in op["requestHeaders"]}
        part = content[op["offset"] : op["offset"] + op["length"]]
        statuses.append(httpx.request(op["method"], op["url"], content=part, headers=headers).status_code)
    return statuses


def commit(api: httpx.Client, file_id: str, content: bytes | None = None) -> httpx.Response:
    attributes: dict[str, Any] = {"uploaded": True}
    if content is not None:
        attributes["sourceFileChecksums"] = {
            "file": {"hash": hashlib.md5(content).hexdigest(), "algorithm": "MD5"}
        }
    return api.patch(
        f"/v1/buildUploadFiles/{file_id}", json=body("buildUploadFiles", attributes, id_=file_id)
    )


def wait_for(read, predicate, timeout: float = 5.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if predicate(value):
            return value
        assert time.monotonic() < deadline, f"timed out; last value: {value}"
        time.sleep(interval)


def upload_build(
    api: httpx.Client,
    app_id: str,
    short: str = "1.0",
    number: str = "1",
    size: int = 2500,
    bundle_id: str = DEFAULT_BUNDLE_ID,
) -> dict:
    """The whole upload of an .ipa whose Info.plist matches the app; returns the build once it is VALID."""
    content = ipa_bytes(bundle_id, short, number, extra_size=size)
    upload = reserve_upload(api, app_id, short, number).json()["data"]
    file = reserve_file(api, upload["id"], len(content)).json()["data"]
    assert set(put_parts(file, content)) == {200}
    assert commit(api, file["id"], content).status_code == 200
    done = wait_for(
        lambda: api.get(f"/v1/buildUploads/{upload['id']}", params={"include": "build"}).json(),
        lambda doc: doc["data"]["attributes"]["state"]["state"] == "COMPLETE",
    )
    build_id = done["data"]["relationships"]["build"]["data"]["id"]
    return wait_for(
        lambda: api.get(f"/v1/builds/{build_id}").json()["data"],
        lambda build: build["attributes"]["processingState"] == "VALID",
    )
