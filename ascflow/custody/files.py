"""Private files: directories 0700, files 0600, written whole or not at all, removed by overwrite + unlink."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def ensure_private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(directory: Path, data: bytes) -> Path:
    temp = directory / f".tmp-{secrets.token_hex(8)}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return temp


def write_new_file(path: Path, data: bytes) -> bool:
    """Create `path` (0600) holding `data` unless it exists; True if this call created it. Never partial."""
    temp = _write_temp(path.parent, data)
    try:
        os.link(temp, path)
    except FileExistsError:
        return False
    finally:
        temp.unlink()
    fsync_dir(path.parent)
    return True


def replace_file(path: Path, data: bytes) -> None:
    os.replace(_write_temp(path.parent, data), path)
    fsync_dir(path.parent)


def shred(path: Path) -> bool:
    """Overwrite the file's bytes with random data, then unlink it. False if it was already gone.

    The file is first renamed out of the way, so a reader (another worker destroying the same record) sees the
    whole file or none, never the random bytes. On SSDs and journaling file systems overwriting is best effort;
    the real erasure is that the data key wrapped inside the file is gone with it.
    """
    doomed = path.with_name(f".shred-{secrets.token_hex(8)}")
    try:
        os.rename(path, doomed)
    except FileNotFoundError:
        return False
    fd = os.open(doomed, os.O_WRONLY)
    try:
        size = os.fstat(fd).st_size
        os.write(fd, secrets.token_bytes(size))
        os.fsync(fd)
    finally:
        os.close(fd)
    doomed.unlink()
    fsync_dir(path.parent)
    return True
