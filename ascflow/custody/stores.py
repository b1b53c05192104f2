"""Where sealed records live: a private local directory, or a versioned S3 bucket encrypted with SSE-KMS.

A store holds named blobs (`records/<id>.json`, `pending/<id>.json`, `receipts/<id>.json`). For deletion it
can name every copy of a blob it holds (`copies`), remove them all (`remove`), and name them again afterwards,
which is how custody proves that nothing is left.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import ClientError

from ascflow.custody.files import ensure_private_dir, replace_file, shred, write_new_file

FOLDERS = ("records", "pending", "receipts")


class Store(Protocol):
    location: str

    def put_new(self, name: str, data: bytes) -> bool:
        """Write `name` unless it exists; True if this call wrote it (first writer wins)."""
        ...

    def put(self, name: str, data: bytes) -> None: ...

    def get(self, name: str) -> bytes | None: ...

    def names(self, folder: str) -> list[str]:
        """Names of the blobs in `folder`, e.g. `records/<id>.json`."""
        ...

    def copies(self, name: str) -> list[str]:
        """Every stored copy of `name` (paths, or S3 object versions and delete markers)."""
        ...

    def remove(self, name: str) -> None:
        """Remove every copy of `name`; a no-op when there is none."""
        ...


class LocalStore:
    """Files 0600 in directories 0700 under `root`; removal overwrites the bytes before unlinking."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)
        for folder in FOLDERS:
            ensure_private_dir(root / folder)
        ensure_private_dir(root)

    def _path(self, name: str) -> Path:
        return self.root / name

    def put_new(self, name: str, data: bytes) -> bool:
        return write_new_file(self._path(name), data)

    def put(self, name: str, data: bytes) -> None:
        replace_file(self._path(name), data)

    def get(self, name: str) -> bytes | None:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            return None

    def names(self, folder: str) -> list[str]:
        return sorted(f"{folder}/{p.name}" for p in (self.root / folder).glob("*.json"))

    def copies(self, name: str) -> list[str]:
        path = self._path(name)
        return [f"file:{path}"] if path.exists() else []

    def remove(self, name: str) -> None:
        shred(self._path(name))


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

    def _delete_version(self, name: str, version_id: str) -> None:
        # A version a racing worker already deleted is no error; any real failure (Object Lock, access) shows
        # up in the read-back that follows, which then refuses to report the record destroyed.
        with contextlib.suppress(ClientError):
            self.client.delete_object(Bucket=self.bucket, Key=name, VersionId=version_id)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
