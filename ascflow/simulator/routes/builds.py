"""Build uploads, their presigned parts and commit, and builds (processing, export compliance)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from ascflow.simulator.clock import iso
from ascflow.simulator.documents import ApiError, Errors
from ascflow.simulator.ipa import IpaRejected, Problem, bundle_id_problem, read_ipa
from ascflow.simulator.routes.reads import one
from ascflow.simulator.routing import Call, Reply, created, handles, no_content, ok
from ascflow.simulator.signing import upload_signature
from ascflow.simulator.state import Resource, Team

UPLOAD_PATH = "/_upload"


class PartRejected(Exception):
    """A presigned part request the storage refuses; the message says why (no secret in it)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@handles("POST", "/v1/buildUploads")
def reserve_upload(call: Call) -> Reply:
    team = call.team
    app = call.require_related("app", "apps")
    short = call.attributes["cfBundleShortVersionString"]
    number = call.attributes["cfBundleVersion"]
    platform = call.attributes["platform"]
    taken = any(
        b.attributes["version"] == number and b.hidden.get("preReleaseVersion.platform") == platform
        for b in team.related(app, "builds")
    ) or any(
        u.attributes["cfBundleVersion"] == number
        and u.attributes["platform"] == platform
        and u.attributes["state"]["state"] != "FAILED"
        for u in team.related(app, "buildUploads")
    )
    if taken:
        raise ApiError(
            Errors.entity_error(redundant_binary(number, short), "/data/attributes/cfBundleVersion")
        )
    upload = team.add(
        Resource(
            "buildUploads",
            team.new_id("buildUploads"),
            {
                "cfBundleShortVersionString": short,
                "cfBundleVersion": number,
                "platform": platform,
                "createdDate": team.now_iso(),
                "state": {"state": "AWAITING_UPLOAD", "errors": [], "warnings": [], "infos": []},
            },
            {"app": ("apps", app.id), "build": None},
        )
    )
    return created(call, upload)


def redundant_binary(number: str, short: str) -> str:
    """Apple's text (ITMS-90189) for a build number the app has already."""
    return (
        f"Redundant Binary Upload. You've already uploaded a build with build number '{number}' for "
        f"version number '{short}'. Make sure you increment the build string before you upload your app "
        "to App Store Connect."
    )


@handles("DELETE", "/v1/buildUploads/{id}")
def delete_upload(call: Call) -> Reply:
    upload = one(call, "buildUploads")
    if upload.attributes["state"]["state"] in {"PROCESSING", "COMPLETE"}:
        raise ApiError(Errors.entity_error("A build upload that was committed cannot be deleted."))
    for file in call.team.related(upload, "buildUploadFiles"):
        call.team.remove("buildUploadFiles", file.id)
    call.team.remove("buildUploads", upload.id)
    return no_content()


@handles("POST", "/v1/buildUploadFiles")
def reserve_file(call: Call) -> Reply:
    team = call.team
    upload = call.require_related("buildUpload", "buildUploads")
    if upload.attributes["state"]["state"] != "AWAITING_UPLOAD":
        raise ApiError(Errors.entity_error("The build upload no longer accepts files."))
    size = int(call.attributes["fileSize"])
    file_id = team.new_id("buildUploadFiles")
    operations = upload_operations(team, call.base_url, file_id, size)
    file = team.add(
        Resource(
            "buildUploadFiles",
            file_id,
            {
                "assetType": call.attributes["assetType"],
                "fileName": call.attributes["fileName"],
                "fileSize": size,
                "uti": call.attributes["uti"],
                "assetDeliveryState": {"state": "AWAITING_UPLOAD", "errors": [], "warnings": []},
                "uploadOperations": operations,
            },
            {"buildUpload": ("buildUploads", upload.id)},
            {"parts": {}},
        )
    )
    return created(call, file)


def upload_operations(team: Team, base_url: str, file_id: str, size: int) -> list[dict[str, Any]]:
    """Presigned PUTs of `upload_part_size` bytes each, covering the file; shared by every uploaded asset."""
    part_size = team.scenario.upload_part_size
    expires = int(team.now() + team.scenario.upload_url_lifetime_seconds)
    operations = []
    for number, offset in enumerate(range(0, size, part_size), start=1):
        length = min(part_size, size - offset)
        signature = upload_signature(team.upload_secret, file_id, str(number), str(expires))
        operations.append(
            {
                "method": "PUT",
                "url": f"{base_url}{UPLOAD_PATH}/{file_id}/{number}?Expires={expires}&Signature={signature}",
                "length": length,
                "offset": offset,
                "requestHeaders": [
                    {"name": "Content-Type", "value": "application/octet-stream"},
                    {"name": "Content-Range", "value": f"bytes {offset}-{offset + length - 1}/{size}"},
                ],
                "expiration": iso(expires),
                "partNumber": number,
            }
        )
    return operations


def receive_part(
    team: Team, file_id: str, part: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> None:
    """Store one presigned part after checking its signature, expiry, length and offset."""
    expires = query.get("Expires", "")
    expected = upload_signature(team.upload_secret, file_id, part, expires)
    if not hmac.compare_digest(expected, query.get("Signature", "")):
        raise PartRejected(403, "SignatureDoesNotMatch: the upload URL is not one the simulator signed")
    if not expires.isdigit() or int(expires) < team.now():
        raise PartRejected(403, "Request has expired: reserve the file again for fresh upload URLs")
    # A screenshot's parts arrive the same way as a build's.
    file = team.get("buildUploadFiles", file_id) or team.get("appScreenshots", file_id)
    if file is None:
        raise PartRejected(404, "NoSuchUpload: the build upload file was deleted")
    if file.attributes["assetDeliveryState"]["state"] != "AWAITING_UPLOAD":
        raise PartRejected(409, "The file was already committed; no more parts are accepted")
    operation = next(
        (op for op in file.attributes["uploadOperations"] if str(op["partNumber"]) == part), None
    )
    if operation is None:
        raise PartRejected(404, f"NoSuchPart: part {part} is not one of this file's upload operations")
    for header in operation["requestHeaders"]:
        sent = headers.get(header["name"].lower())
        if sent != header["value"]:
            raise PartRejected(
                400,
                f"header {header['name']} must be '{header['value']}' as the upload operation says, got {sent!r}",
            )
    if len(body) != operation["length"]:
        raise PartRejected(
            400,
            f"part {part} must be {operation['length']} bytes at offset "
            f"{operation['offset']}, got {len(body)} bytes",
        )
    file.hidden["parts"][int(part)] = body


@handles("PATCH", "/v1/buildUploadFiles/{id}")
def commit_file(call: Call) -> Reply:
    file = one(call, "buildUploadFiles")
    if not call.attributes.get("uploaded"):
        return ok(call, file)
    if file.attributes["assetDeliveryState"]["state"] != "AWAITING_UPLOAD":
        return ok(call, file)  # a repeated commit changes nothing
    parts: dict[int, bytes] = file.hidden["parts"]
    missing = [
        op["partNumber"] for op in file.attributes["uploadOperations"] if op["partNumber"] not in parts
    ]
    if missing:
        raise ApiError(
            Errors.entity_error(
                f"The file cannot be committed: parts {missing} were not uploaded. Upload every operation first.",
                "/data/attributes/uploaded",
            )
        )
    content = b"".join(parts[n] for n in sorted(parts))
    checksums = call.attributes.get("sourceFileChecksums") or {}
    expected = (checksums.get("file") or {}) if isinstance(checksums, dict) else {}
    if expected.get("hash"):
        algorithm = "sha256" if expected.get("algorithm") == "SHA_256" else "md5"
        actual = hashlib.new(algorithm, content).hexdigest()
        if actual.lower() != str(expected["hash"]).lower():
            raise ApiError(
                Errors.attribute_invalid(
                    "/data/attributes/sourceFileChecksums",
                    f"The file checksum does not match the uploaded bytes ({expected.get('algorithm')}).",
                )
            )
        file.attributes["sourceFileChecksums"] = checksums
    file.attributes["assetDeliveryState"]["state"] = "UPLOAD_COMPLETE"
    file.hidden["parts"] = {}
    for upload in call.team.related(file, "buildUpload"):
        if upload.attributes["state"]["state"] == "AWAITING_UPLOAD":
            upload.attributes["state"]["state"] = "PROCESSING"
            upload.attributes["uploadedDate"] = call.team.now_iso()
            upload.hidden["due"] = call.team.now() + call.team.scenario.delays.upload_processing_seconds
            upload.hidden.update(_read_upload(call.team, upload, file, content))
    return ok(call, file)


def _read_upload(team: Team, upload: Resource, file: Resource, content: bytes) -> dict[str, Any]:
    """What processing will make of the committed .ipa: its Info.plist facts, or Apple's errors.

    Read now, so the bytes need not be kept; the outcome shows when processing ends. Only an iOS app archive
    (`ASSET`, `com.apple.ipa`) is read; other assets keep the numbers the upload was reserved with.
    """
    if file.attributes["assetType"] != "ASSET" or file.attributes["uti"] != "com.apple.ipa":
        return {}
    app = team.related(upload, "app")[0]
    try:
        info = read_ipa(content)
    except IpaRejected as exc:
        return {"problems": [exc.problem.as_state_detail()]}
    problems = [bundle_id_problem(info, app.attributes["bundleId"])]
    if any(
        b.attributes["version"] == info.build_number
        and b.hidden.get("preReleaseVersion.platform") == upload.attributes["platform"]
        for b in team.related(app, "builds")
    ):
        problems.append(Problem(90189, redundant_binary(info.build_number, info.short_version)))
    found = [problem.as_state_detail() for problem in problems if problem is not None]
    return {"problems": found} if found else {"bundle": info}


@handles("PATCH", "/v1/builds/{id}")
def update_build(call: Call) -> Reply:
    build = one(call, "builds")
    build.attributes.update(call.given(("usesNonExemptEncryption", "expired")))
    return ok(call, build)
