"""Typed views of builds, build uploads and their files, as the pipeline reads them (see models.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ascflow.connect.models import (
    ApiModel,
    AssetDeliveryStateValue,
    BuildProcessingState,
    BuildUploadStateValue,
    MalformedDocument,
    NullableList,
    Platform,
    Resource,
)


class BuildAttributes(ApiModel):
    version: str
    uploaded_date: datetime | None = None
    expiration_date: datetime | None = None
    expired: bool | None = None
    min_os_version: str | None = None
    processing_state: BuildProcessingState
    # None means Apple still waits for the export-compliance answer.
    uses_non_exempt_encryption: bool | None = None


class Build(Resource):
    type: Literal["builds"]
    attributes: BuildAttributes


class StateDetail(ApiModel):
    code: str | None = None
    description: str | None = None


class BuildUploadState(ApiModel):
    state: BuildUploadStateValue
    errors: NullableList[StateDetail]
    warnings: NullableList[StateDetail]
    infos: NullableList[StateDetail]


class BuildUploadAttributes(ApiModel):
    cf_bundle_short_version_string: str
    cf_bundle_version: str
    platform: Platform
    created_date: datetime | None = None
    uploaded_date: datetime | None = None
    state: BuildUploadState


class BuildUpload(Resource):
    type: Literal["buildUploads"]
    attributes: BuildUploadAttributes


class HttpHeader(ApiModel):
    # Optional in Apple's schema; `UploadOperation.headers()` refuses an incomplete one when it is used.
    name: str | None = None
    value: str | None = None


class UploadOperation(ApiModel):
    """One presigned part: send exactly `length` bytes from `offset` with exactly these headers, no JWT."""

    method: str
    url: str
    length: int
    offset: int
    request_headers: NullableList[HttpHeader]
    expiration: datetime | None = None
    part_number: int | None = None

    def headers(self) -> dict[str, str]:
        """Exactly the headers Apple asked for; an incomplete one would make the part fail at Apple's end."""
        if any(h.name is None or h.value is None for h in self.request_headers):
            raise MalformedDocument(
                f"upload operation (part {self.part_number}) has a header without name or value"
            )
        return {str(h.name): str(h.value) for h in self.request_headers}

    def __repr__(self) -> str:
        # The URL is a bearer credential for the part until it expires.
        return f"UploadOperation(method={self.method!r}, offset={self.offset}, length={self.length})"

    __str__ = __repr__


class AssetDeliveryState(ApiModel):
    state: AssetDeliveryStateValue
    errors: NullableList[StateDetail]
    warnings: NullableList[StateDetail]


class Checksum(ApiModel):
    hash: str | None = None
    algorithm: str | None = None


class Checksums(ApiModel):
    file: Checksum | None = None
    composite: Checksum | None = None


class BuildUploadFileAttributes(ApiModel):
    asset_delivery_state: AssetDeliveryState | None = None
    asset_token: str | None = None
    asset_type: str | None = None
    file_name: str
    file_size: int
    source_file_checksums: Checksums | None = None
    upload_operations: NullableList[UploadOperation]
    uti: str | None = None


class BuildUploadFile(Resource):
    type: Literal["buildUploadFiles"]
    attributes: BuildUploadFileAttributes
