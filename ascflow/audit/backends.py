"""Where the log lives: a local directory (default) or an S3 bucket with Object Lock (production).

A backend appends one line after the current head, atomically with respect to other writers, and returns only
once the line is durable; otherwise it raises AuditWriteFailed. It also hands the stored lines back, in order,
to the reader and the verifier.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol, TypeVar

from ascflow.audit.chain import GENESIS
from ascflow.audit.errors import AuditWriteFailed

T = TypeVar("T")


class AuditPosition(NamedTuple):
    """A place in a chain: a line's sequence number and hash (0 and the genesis hash before the first)."""

    seq: int
    hash: str


START = AuditPosition(0, GENESIS)


@dataclass(frozen=True)
class StoredLine:
    """A stored line, where it came from (for reports), and anything the store itself found wrong with it."""

    location: str
    data: bytes
    problem: str | None = None


SeqField = Literal["seq", "n"]  # events are numbered by `seq`, checkpoints by `n`

# A builder turns the current head into (result, line); a backend may call it again after losing a race.
EventBuilder = Callable[[AuditPosition], tuple[T, bytes]]
CheckpointBuilder = Callable[[AuditPosition, AuditPosition], tuple[T, bytes]]


class AuditBackend(Protocol):
    def append_event(self, build: EventBuilder[T]) -> T: ...

    def append_events(self, builds: Sequence[EventBuilder[T]]) -> list[T]: ...

    def append_checkpoint(self, build: CheckpointBuilder[T]) -> T: ...

    def read_events(self) -> Iterator[StoredLine]: ...

    def read_events_after(self, seq: int, offset: int) -> Iterator[tuple[StoredLine, int]]:
        """Events after event `seq` (locally: from byte `offset`), each with the offset after it."""
        ...

    def read_checkpoints(self) -> Iterator[StoredLine]: ...

    def describe(self) -> str: ...


def position_of(line: bytes, seq_field: SeqField) -> AuditPosition:
    """The position a stored line stands for: its own number, and the hash the next line must chain to."""
    line = line.rstrip(b"\n")
    record = json.loads(line)
    if seq_field == "seq":
        return AuditPosition(int(record["seq"]), str(record["hash"]))
    return AuditPosition(int(record["n"]), hashlib.sha256(line).hexdigest())


def _read_from(path: Path, offset: int) -> bytes:
    with path.open("rb") as f:
        f.seek(offset)
        return f.read()


def _write_failed(what: str, exc: OSError) -> AuditWriteFailed:
    reason = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    return AuditWriteFailed(f"could not write {what} ({reason}: {exc.strerror or 'no detail'})")


class LocalBackend:
    """JSON lines in a directory (0700): events.jsonl and checkpoints.jsonl (0600), appended with O_APPEND.

    An exclusive flock on `.lock` serialises writers across threads and processes (each append opens its own
    descriptor, and flock excludes other open file descriptions, including those of the same process).
    """

    EVENTS = "events.jsonl"
    CHECKPOINTS = "checkpoints.jsonl"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def describe(self) -> str:
        return str(self.directory)

    def append_event(self, build: EventBuilder[T]) -> T:
        with self._locked():
            result, line = build(self._head(self.EVENTS, "seq"))
            self._append(self.EVENTS, line)
            return result

    def append_events(self, builds: Sequence[EventBuilder[T]]) -> list[T]:
        """Several events in one write and one fsync under one lock: all of them are durable, or none."""
        results, lines = [], []
        with self._locked():
            head = self._head(self.EVENTS, "seq")
            for build in builds:
                result, line = build(head)
                head = position_of(line, "seq")
                results.append(result)
                lines.append(line)
            if lines:
                self._append(self.EVENTS, b"".join(lines))
        return results

    def append_checkpoint(self, build: CheckpointBuilder[T]) -> T:
        with self._locked():
            result, line = build(self._head(self.EVENTS, "seq"), self._head(self.CHECKPOINTS, "n"))
            self._append(self.CHECKPOINTS, line)
            return result

    def read_events(self) -> Iterator[StoredLine]:
        return self._read(self.EVENTS)

    def read_checkpoints(self) -> Iterator[StoredLine]:
        return self._read(self.CHECKPOINTS)

    def read_events_after(self, seq: int, offset: int) -> Iterator[tuple[StoredLine, int]]:
        path = self.directory / self.EVENTS
        try:
            data = self._read_quietly(path, max(offset - 1, 0))
        except FileNotFoundError:
            data = b""
        if offset and not data.startswith(b"\n"):  # the byte before the cursor must end the cursor's line
            yield StoredLine(f"{path}@{offset}", b"", "no line of this file ends where the cursor points"), 0
            return
        for line in data[1 if offset else 0 :].splitlines(keepends=True):
            if not line.endswith(b"\n"):
                return  # a torn last line is not an event yet
            yield StoredLine(f"{path}@{offset}", line), offset + len(line)
            offset += len(line)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise _write_failed(f"the audit directory {self.directory}", exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _head(self, name: str, seq_field: SeqField) -> AuditPosition:
        path = self.directory / name
        try:
            with path.open("rb") as f:
                size = f.seek(0, os.SEEK_END)
                window = 4096
                while True:
                    start = max(0, size - window)
                    f.seek(start)
                    tail = f.read(size - start)
                    if tail and not tail.endswith(b"\n"):
                        raise AuditWriteFailed(f"the last line of {path} is incomplete: the log is damaged")
                    lines = tail.rstrip(b"\n").rsplit(b"\n", 1)
                    if start == 0 or len(lines) == 2:
                        break
                    window *= 4
        except FileNotFoundError:
            return START
        except OSError as exc:
            raise _write_failed(f"{path} (reading its last line)", exc) from None
        if not lines[-1]:
            return START
        try:
            return position_of(lines[-1], seq_field)
        except (ValueError, KeyError, TypeError):
            raise AuditWriteFailed(
                f"the last line of {path} is not a valid entry: the log is damaged"
            ) from None

    def _append(self, name: str, line: bytes) -> None:
        path = self.directory / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise _write_failed(str(path), exc) from None
        try:
            before = os.fstat(fd).st_size
            try:
                written = os.write(fd, line)
                if written != len(line):
                    raise OSError(errno.ENOSPC, "short write")
                os.fsync(fd)
            except OSError as exc:
                # Leave no torn line behind: the next writer must find a clean head.
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, before)
                raise _write_failed(str(path), exc) from None
            if before == 0:
                self._sync_directory()
        finally:
            os.close(fd)

    def _sync_directory(self) -> None:
        try:
            fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise _write_failed(f"the directory entry of {self.directory}", exc) from None

    def _read(self, name: str) -> Iterator[StoredLine]:
        path = self.directory / name
        try:
            data = self._read_quietly(path)
        except FileNotFoundError:
            return
        for number, line in enumerate(data.splitlines(keepends=True), start=1):
            problem = None if line.endswith(b"\n") else "the line is incomplete (no newline)"
            yield StoredLine(f"{path}:{number}", line, problem)

    def _read_quietly(self, path: Path, offset: int = 0) -> bytes:
        """The file's bytes from `offset`, read under a shared lock so no half-written line is seen. A copy
        handed to an auditor may have no lock file, and then there is no writer to wait for."""
        try:
            lock = os.open(self.directory / ".lock", os.O_RDONLY)
        except OSError:
            return _read_from(path, offset)
        try:
            fcntl.flock(lock, fcntl.LOCK_SH)
            return _read_from(path, offset)
        finally:
            os.close(lock)


ObjectLockMode = Literal["COMPLIANCE", "GOVERNANCE"]


class S3Backend:
    """One object per event and per checkpoint, written once under Object Lock retention.

    Keys are zero-padded sequence numbers, so a listing is in log order. A conditional PUT (If-None-Match: *)
    makes "write seq N" succeed for exactly one writer; the loser re-reads the head and tries N+1. The reader
    takes the first version of every key and flags a key that has more versions or a delete marker: with
    Object Lock nobody can remove that first version, but anyone with PutObject can stack a new one on it.
    """

    MAX_RACES = 100

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        prefix: str = "audit/",
        retention_mode: ObjectLockMode = "COMPLIANCE",
        retention_days: int = 2555,
    ) -> None:
        self.s3 = client
        self.bucket = bucket
        self.prefix = prefix
        self.retention_mode = retention_mode
        self.retention_days = retention_days
        self._guard = threading.Lock()
        self._heads: dict[str, AuditPosition] = {}

    @classmethod
    def from_endpoint(cls, endpoint_url: str | None, region: str, bucket: str, **options: Any) -> S3Backend:
        import boto3

        return cls(boto3.client("s3", endpoint_url=endpoint_url, region_name=region), bucket, **options)

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def append_event(self, build: EventBuilder[T]) -> T:
        return self._append("events/", "seq", lambda: build(self._head("events/", "seq")))

    def append_events(self, builds: Sequence[EventBuilder[T]]) -> list[T]:
        """One object per event, as always: a failure part-way leaves the events before it written."""
        return [self.append_event(build) for build in builds]

    def append_checkpoint(self, build: CheckpointBuilder[T]) -> T:
        return self._append(
            "checkpoints/", "n", lambda: build(self._head("events/", "seq"), self._head("checkpoints/", "n"))
        )

    def read_events(self) -> Iterator[StoredLine]:
        return self._read("events/")

    def read_checkpoints(self) -> Iterator[StoredLine]:
        return self._read("checkpoints/")

    def read_events_after(self, seq: int, offset: int) -> Iterator[tuple[StoredLine, int]]:
        after = self._key("events/", seq) if seq else None  # that key exists: S3 lists what follows it
        yield from ((stored, offset) for stored in self._read("events/", after))

    def _append(self, kind: str, seq_field: SeqField, build: Callable[[], tuple[T, bytes]]) -> T:
        from botocore.exceptions import BotoCoreError, ClientError

        with self._guard:
            for _attempt in range(self.MAX_RACES):
                try:
                    result, line = build()
                    position = position_of(line, seq_field)
                    self.s3.put_object(
                        Bucket=self.bucket,
                        Key=self._key(kind, position.seq),
                        Body=line,
                        ContentType="application/json",
                        IfNoneMatch="*",
                        ObjectLockMode=self.retention_mode,
                        ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(days=self.retention_days),
                        ChecksumAlgorithm="SHA256",
                    )
                except ClientError as exc:
                    code = str(exc.response.get("Error", {}).get("Code", ""))
                    if code in {"PreconditionFailed", "ConditionalRequestConflict"}:
                        continue  # another writer took this number: re-read the head and rebuild
                    raise AuditWriteFailed(
                        f"S3 refused {self.describe()}{kind} ({code or 'no code'})"
                    ) from None
                except BotoCoreError as exc:
                    raise AuditWriteFailed(f"no S3 at {self.describe()} ({type(exc).__name__})") from None
                self._heads[kind] = position
                return result
        raise AuditWriteFailed(f"lost {self.MAX_RACES} races for the next number in {self.describe()}{kind}")

    def _key(self, kind: str, number: int) -> str:
        return f"{self.prefix}{kind}{number:012d}.json"

    def _head(self, kind: str, seq_field: SeqField) -> AuditPosition:
        """The last object of `kind`, listing only past the one this process last saw."""
        known = self._heads.get(kind, START)
        last_key = self._key(kind, known.seq) if known.seq else None
        paginator = self.s3.get_paginator("list_objects_v2")
        options: dict[str, Any] = {"Bucket": self.bucket, "Prefix": f"{self.prefix}{kind}"}
        if last_key:
            options["StartAfter"] = last_key
        for page in paginator.paginate(**options):
            for item in page.get("Contents", []):
                last_key = item["Key"]
        if last_key is None:
            return START
        if known.seq and last_key == self._key(kind, known.seq):
            return known
        body = self.s3.get_object(Bucket=self.bucket, Key=last_key)["Body"].read()
        try:
            head = position_of(body, seq_field)
        except (ValueError, KeyError, TypeError):
            raise AuditWriteFailed(
                f"s3://{self.bucket}/{last_key} is not an audit entry: the log is damaged"
            ) from None
        self._heads[kind] = head
        return head

    def _read(self, kind: str, after: str | None = None) -> Iterator[StoredLine]:
        versions: dict[str, list[dict[str, Any]]] = {}
        markers: set[str] = set()
        paginator = self.s3.get_paginator("list_object_versions")
        marker = {"KeyMarker": after} if after else {}  # keys sort in log order: list only past `after`
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}{kind}", **marker):
            for version in page.get("Versions", []):
                versions.setdefault(version["Key"], []).append(version)
            for marker in page.get("DeleteMarkers", []):
                markers.add(marker["Key"])
        for key in sorted(versions):
            first = versions[key][-1]  # S3 lists a key's versions newest first
            body = self.s3.get_object(Bucket=self.bucket, Key=key, VersionId=first["VersionId"])[
                "Body"
            ].read()
            problem = None
            if len(versions[key]) > 1:
                problem = (
                    f"the object has {len(versions[key])} versions: it was overwritten after it was written"
                )
            elif key in markers:
                problem = "the object carries a delete marker: someone tried to delete it"
            yield StoredLine(f"s3://{self.bucket}/{key}", body, problem)
