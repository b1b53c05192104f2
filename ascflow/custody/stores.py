"""Where sealed records live: a private local directory here; a versioned S3 bucket in `aws.py`.

A store holds named blobs (`records/<id>.json`, `pending/<id>.json`, `receipts/<id>.json`, and the signing
profiles ascflow.signing keeps, `profiles/<tenant>@<bundle ID>.json`). For deletion it
can name every copy of a blob it holds (`copies`), remove them all (`remove`), and name them again afterwards,
which is how custody proves that nothing is left.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Protocol

from ascflow.custody.files import ensure_private_dir, replace_file, shred, write_new_file

FOLDERS = ("records", "pending", "receipts", "profiles")


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

    def discard(self, name: str) -> None:
        """Remove a blob that holds nothing secret (an intent): no overwrite first."""
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

    def discard(self, name: str) -> None:
        # Not fsynced: an intent that comes back after a crash is finished again, to the receipt already stored.
        with contextlib.suppress(FileNotFoundError):
            self._path(name).unlink()
