"""Uploading a build through buildUploads, waiting for Apple to process it, answering export compliance."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ascflow.connect.actions.common import (
    ActionFailed,
    Sleep,
    create_once,
    find_or_create,
    poll_until,
    update_once,
)
from ascflow.connect.actions.uploads import ReservedAsset, deliver, sha256_hex
from ascflow.connect.build_models import Build, BuildUpload, BuildUploadFile, Checksum, Checksums
from ascflow.connect.client import AppStoreConnect
from ascflow.connect.models import BuildProcessingState, BuildUploadStateValue, ChecksumAlgorithm, Platform

IPA_UTI = "com.apple.ipa"
IPA_ASSET_TYPE = "ASSET"


class BuildUploadFailed(ActionFailed):
    """Apple rejected the uploaded file (state FAILED); the errors are Apple's."""


class BuildProcessingFailed(ActionFailed):
    """Apple finished processing the build as FAILED or INVALID."""


@dataclass(frozen=True)
class UploadedBuild:
    upload: BuildUpload
    build_id: str
    created: bool
    # The file's parts went up in this call: with `created` False, an earlier run's reservation was resumed.
    sent_now: bool = False
    # The build as Apple sent it with the upload's last read (None: not included): the processing wait starts
    # from it instead of reading it again.
    build: Build | None = None


def _describe(details: list[tuple[str | None, str | None]]) -> str:
    return "; ".join(f"{code or '?'}: {text or ''}" for code, text in details) or "no detail given"


def upload_build(
    client: AppStoreConnect,
    *,
    app_id: str,
    ipa: Path,
    short_version: str,
    version: str,
    platform: Platform = Platform.IOS,
    poll_interval: float = 30.0,
    timeout: float = 3600.0,
    sleep: Sleep = time.sleep,
) -> UploadedBuild:
    """Reserve (or reuse the reservation for this version/build number), send the parts, commit, wait."""
    if not ipa.is_file():
        raise ActionFailed(f"ipa: {ipa} is not a file", next_step="Give the path of the .ipa to upload.")
    size = ipa.stat().st_size
    builds: dict[str, Build] = {}

    def find_upload() -> BuildUpload | None:
        found, included = client.build_uploads.list_for_app(
            app_id=app_id, short_version=short_version, version=version, platform=platform
        )
        builds.update(included)
        matching = [
            u
            for u in found
            if u.attributes.cf_bundle_version == version
            and u.attributes.cf_bundle_short_version_string == short_version
        ]
        # A FAILED reservation cannot be reused; a live one (awaiting, processing, complete) is continued.
        live = [u for u in matching if u.attributes.state.state is not BuildUploadStateValue.FAILED]
        return live[0] if live else (matching[0] if matching else None)

    ensured = find_or_create(
        find_upload,
        lambda: client.build_uploads.create(
            app_id=app_id, short_version=short_version, version=version, platform=platform
        ),
    )
    upload = ensured.resource
    state = upload.attributes.state
    if state.state is BuildUploadStateValue.FAILED:
        raise _upload_failed(upload, version)
    sent_now = state.state is BuildUploadStateValue.AWAITING_UPLOAD
    if sent_now:
        _send_file(client, upload.id, ipa, size, new_upload=ensured.created)
    done = (BuildUploadStateValue.COMPLETE, BuildUploadStateValue.FAILED)
    if state.state is BuildUploadStateValue.COMPLETE:
        # An earlier run's upload, read just now with its build: nothing left to wait for.
        finished, build = upload, builds.get(upload.related_id("build") or "")
    else:
        finished, build = poll_until(
            lambda: client.build_uploads.get(upload.id),
            lambda read: read[0].attributes.state.state in done,
            what=f"build upload {upload.id} ({short_version} ({version})) to finish",
            poll_interval=poll_interval,
            timeout=timeout,
            sleep=sleep,
        )
    if finished.attributes.state.state is BuildUploadStateValue.FAILED:
        raise _upload_failed(finished, version)
    build_id = finished.related_id("build") or _find_build_id(
        client, app_id, short_version, version, platform
    )
    return UploadedBuild(finished, build_id, created=ensured.created, sent_now=sent_now, build=build)


def _send_file(client: AppStoreConnect, upload_id: str, ipa: Path, size: int, *, new_upload: bool) -> None:
    """The file reserved (found first on an upload an earlier attempt made: one just made holds none), sent
    and committed."""

    def find_file() -> BuildUploadFile | None:
        return next(
            (
                f
                for f in client.build_uploads.files(upload_id)
                if f.attributes.file_name == ipa.name and f.attributes.file_size == size
            ),
            None,
        )

    def create_file() -> BuildUploadFile:
        return client.build_uploads.create_file(
            upload_id=upload_id, file_name=ipa.name, file_size=size, uti=IPA_UTI, asset_type=IPA_ASSET_TYPE
        )

    reserved = (
        create_once(create_file, find_file) if new_upload else find_or_create(find_file, create_file).resource
    )
    file_id = reserved.id
    deliver(
        client.session,
        ipa,
        reserved=_as_reserved(reserved),
        read=lambda: _as_reserved(client.build_uploads.get_file(file_id)),
        commit=lambda: client.build_uploads.commit_file(file_id, _sha256_checksums(ipa)),
    )


def _as_reserved(upload_file: BuildUploadFile) -> ReservedAsset:
    return ReservedAsset(
        upload_file.attributes.upload_operations, upload_file.attributes.asset_delivery_state
    )


def _sha256_checksums(ipa: Path) -> Checksums:
    return Checksums(file=Checksum(hash=sha256_hex(ipa), algorithm=ChecksumAlgorithm.SHA_256.value))


def _find_build_id(
    client: AppStoreConnect, app_id: str, short_version: str, version: str, platform: Platform
) -> str:
    builds = client.builds.list(
        app_id=app_id, version=version, short_version=short_version, platform=platform
    )
    if not builds:
        raise ActionFailed(
            f"The upload of {short_version} ({version}) is COMPLETE but Apple lists no build for it yet.",
            next_step="Retry this step in a few minutes: Apple makes the build record soon after the upload.",
        )
    return builds[0].id


def _upload_failed(upload: BuildUpload, version: str) -> BuildUploadFailed:
    errors = [(e.code, e.description) for e in upload.attributes.state.errors]
    return BuildUploadFailed(
        f"Apple rejected the upload of build {version} (upload {upload.id}): {_describe(errors)}.",
        next_step="Fix what Apple reports, raise the build number (CFBundleVersion), build again and upload.",
    )


def wait_for_build_processing(
    client: AppStoreConnect,
    build_id: str,
    *,
    poll_interval: float = 60.0,
    timeout: float = 7200.0,
    sleep: Sleep = time.sleep,
    read: Build | None = None,
) -> Build:
    """`read` is the build as the caller just read it (with its upload): it stands for the first read."""
    first = [read] if read is not None and read.id == build_id else []
    build = poll_until(
        lambda: first.pop() if first else client.builds.get(build_id),
        lambda b: b.attributes.processing_state is not BuildProcessingState.PROCESSING,
        what=f"build {build_id} to finish processing",
        poll_interval=poll_interval,
        timeout=timeout,
        sleep=sleep,
    )
    if build.attributes.processing_state is not BuildProcessingState.VALID:
        raise BuildProcessingFailed(
            f"Apple finished processing build {build.attributes.version} (id {build_id}) as "
            f"{build.attributes.processing_state.value}.",
            next_step="Read Apple's e-mail about this build, fix the binary, and upload a new build number.",
        )
    return build


def set_export_compliance(
    client: AppStoreConnect, build_id: str, *, uses_non_exempt_encryption: bool, read: Build | None = None
) -> bool:
    """Answer the export-compliance question; returns True if this call changed it. `read` is the build as the
    caller just read it (saves reading it again)."""

    def answered(build: Build | None = None) -> bool:
        current = build or client.builds.get(build_id)
        return current.attributes.uses_non_exempt_encryption is uses_non_exempt_encryption

    if answered(read):
        return False
    update_once(
        lambda: client.builds.set_uses_non_exempt_encryption(build_id, uses_non_exempt_encryption), answered
    )
    return True
