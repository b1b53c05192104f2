"""Where an exported signing bundle goes: a private local directory, or one SSE-KMS S3 object.

The directory is checked and written through one file descriptor opened without following links, so it
cannot be swapped for another between the check and the writes. Each file is created exclusively, 0600.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ascflow.signing.errors import ExportRefused

_PRIVATE = "Give a new path (it is made 0700), or an empty directory you own with `chmod 700`."


def write_private_dir(directory: Path, files: dict[str, bytes]) -> None:
    """Write `files` into `directory` (made 0700 if absent); refuse a directory that is not private and empty."""
    try:
        directory.mkdir(mode=0o700)
        os.chmod(directory, 0o700)  # whatever the umask
    except FileExistsError:
        pass  # checked below, through its descriptor
    except FileNotFoundError:
        raise ExportRefused(
            f"--out {directory}: its parent directory does not exist.", next_step=_PRIVATE
        ) from None
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno in (errno.ENOTDIR, errno.ELOOP):
            raise ExportRefused(
                f"--out {directory} is not a directory (a file or a symbolic link).", next_step=_PRIVATE
            ) from None
        raise ExportRefused(
            f"--out {directory} cannot be opened: {exc.strerror}.", next_step=_PRIVATE
        ) from None
    written: list[str] = []
    try:
        info = os.fstat(fd)
        if info.st_uid != os.getuid():
            raise ExportRefused(f"--out {directory} belongs to another user.", next_step=_PRIVATE)
        if info.st_mode & 0o077:
            raise ExportRefused(
                f"--out {directory} is readable by other users (mode {stat.S_IMODE(info.st_mode):04o}); "
                "the bundle needs mode 0700.",
                next_step=_PRIVATE,
            )
        present = os.listdir(fd)
        if present:
            raise ExportRefused(
                f"--out {directory} is not empty ({len(present)} entries, e.g. {sorted(present)[0]!r}).",
                next_step=_PRIVATE,
            )
        for name, data in files.items():
            _write_new(fd, name, data)
            written.append(name)
        os.fsync(fd)
    except BaseException:
        for name in written:
            os.unlink(name, dir_fd=fd)
        raise
    finally:
        os.close(fd)


def _write_new(dir_fd: int, name: str, data: bytes) -> None:
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=dir_fd)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_written(directory: Path, files: dict[str, bytes]) -> None:
    """Take an export back (its audit event could not be written); the emptied directory stays."""
    for name in files:
        (directory / name).unlink(missing_ok=True)


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> S3Location:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not url.startswith("s3://") or not bucket:
            raise ExportRefused(
                f"--to-s3 {url!r} is not an s3://bucket/prefix URL.",
                next_step="Give the bucket and a prefix, e.g. s3://acme-builds/signing.",
            )
        return cls(bucket, prefix.strip("/"))

    def key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    url: str
    url_expires_at: datetime

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def zip_bundle(files: dict[str, bytes], folder: str) -> bytes:
    """The bundle as one zip; the entries keep mode 0600 for `unzip` to restore."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(f"{folder}/{name}", date_time=(2020, 1, 1, 0, 0, 0))
            entry.external_attr = (stat.S_IFREG | 0o600) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return buffer.getvalue()


def put_s3_object(
    client: Any,
    *,
    bucket: str,
    key: str,
    data: bytes,
    kms_key_id: str | None,
    url_lifetime: timedelta,
    now: datetime,
) -> S3Object:
    """Write once with SSE-KMS, and presign a GET for `url_lifetime`."""
    encryption = {"ServerSideEncryption": "aws:kms"}
    if kms_key_id:
        encryption["SSEKMSKeyId"] = kms_key_id
    client.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*", **encryption)
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=int(url_lifetime.total_seconds())
    )
    return S3Object(bucket=bucket, key=key, url=str(url), url_expires_at=now + url_lifetime)
