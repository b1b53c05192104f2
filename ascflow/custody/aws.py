"""The AWS backends of custody: a versioned S3 bucket with SSE-KMS, and KMS as key-encryption key.

Kept apart so that the local backends work without boto3 (the `aws` extra installs it).
"""

from __future__ import annotations

import contextlib
from typing import Any

from botocore.exceptions import ClientError

from ascflow.custody.errors import RecordTampered


class S3Store:
    """A versioned bucket, objects written with SSE-KMS. Removal deletes each version and delete marker."""

    def __init__(self, client: Any, bucket: str, *, kms_key_id: str | None, page_size: int = 1000) -> None:
        self.client = client
        self.bucket = bucket
        self.kms_key_id = kms_key_id
        self.page_size = page_size
        self.location = f"s3://{bucket}"

    def _encryption(self) -> dict[str, str]:
        if self.kms_key_id is None:
            return {"ServerSideEncryption": "aws:kms"}
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}

    def put_new(self, name: str, data: bytes) -> bool:
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=name, Body=data, IfNoneMatch="*", **self._encryption()
            )
        except ClientError as exc:
            if _code(exc) in {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}:
                return False
            raise
        return True

    def put(self, name: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=name, Body=data, **self._encryption())

    def get(self, name: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _code(exc) in {"NoSuchKey", "404"}:
                return None
            raise
        return bytes(answer["Body"].read())

    def names(self, folder: str) -> list[str]:
        found: list[str] = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{folder}/", PaginationConfig={"PageSize": self.page_size}
        )
        for page in pages:
            found.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(found)

    def _versions(self, name: str) -> list[tuple[str, bool]]:
        """(version ID, is a delete marker) for every version of exactly `name`, across all pages."""
        found: list[tuple[str, bool]] = []
        pages = self.client.get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=name, PaginationConfig={"PageSize": self.page_size}
        )
        for page in pages:
            found.extend((v["VersionId"], False) for v in page.get("Versions", []) if v["Key"] == name)
            found.extend((m["VersionId"], True) for m in page.get("DeleteMarkers", []) if m["Key"] == name)
        return found

    def copies(self, name: str) -> list[str]:
        return [
            f"s3://{self.bucket}/{name}?versionId={vid}" + ("&deleteMarker=true" if marker else "")
            for vid, marker in self._versions(name)
        ]

    def remove(self, name: str) -> None:
        for version_id, _ in self._versions(name):
            self._delete_version(name, version_id)

    def discard(self, name: str) -> None:
        self.remove(name)  # every version: a versioned bucket would otherwise keep the old ones

    def _delete_version(self, name: str, version_id: str) -> None:
        # A version a racing worker already deleted is no error; any real failure (Object Lock, access) shows
        # up in the read-back that follows, which then refuses to report the record destroyed.
        with contextlib.suppress(ClientError):
            self.client.delete_object(Bucket=self.bucket, Key=name, VersionId=version_id)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class KmsKek:
    """AWS KMS GenerateDataKey/Decrypt; the record header is the encryption context (shown in CloudTrail)."""

    name = "kms"

    def __init__(self, client: Any, key_id: str) -> None:
        self.client = client
        self.key_id = key_id

    def new_data_key(self, context: dict[str, str]) -> tuple[bytes, bytes]:
        answer = self.client.generate_data_key(
            KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=context
        )
        return bytes(answer["Plaintext"]), bytes(answer["CiphertextBlob"])

    def unwrap(self, wrapped: bytes, context: dict[str, str]) -> bytes:
        try:
            answer = self.client.decrypt(CiphertextBlob=wrapped, EncryptionContext=context, KeyId=self.key_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidCiphertextException":
                raise RecordTampered(context.get("custody_id")) from None
            raise
        return bytes(answer["Plaintext"])
