"""Object storage for raw segments, behind one interface.

The filesystem backend writes each segment to ``<key>.part`` at the chunk's offset, ``fsync``s the
file before a chunk may be acknowledged, and on seal verifies the whole segment, renames it to its
final key and ``fsync``s the directory: an acknowledged byte survives a crash or a kill -9.
A full disk raises ``StorageFull`` before anything is acknowledged.
"""

from __future__ import annotations

import errno
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class StorageFull(Exception):
    """No space left: nothing was acknowledged; the client retries later."""


class StorageError(Exception):
    """The backend failed (I/O error); nothing was acknowledged."""


class SegmentStore(Protocol):
    def write(self, key: str, offset: int, data: bytes) -> None: ...
    def read(self, key: str, offset: int, length: int) -> bytes: ...
    def partial_size(self, key: str) -> int: ...
    def seal(self, key: str, size: int) -> tuple[bytes, str]: ...
    def uri(self, key: str) -> str: ...
    def open_sealed(self, key: str) -> Path: ...


@dataclass
class FilesystemStore:
    root: Path

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise StorageError(f"key escapes the storage root: {key!r}")
        return path

    def write(self, key: str, offset: int, data: bytes) -> None:
        """Write ``data`` at ``offset`` of the partial segment and make it durable."""
        part = self._path(key + ".part")
        try:
            part.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(part, os.O_WRONLY | os.O_CREAT, 0o640)
            try:
                written = os.pwrite(fd, data, offset)
                if written != len(data):
                    raise StorageError(f"short write {written}/{len(data)} on {part}")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull(str(exc)) from exc
            raise StorageError(str(exc)) from exc

    def read(self, key: str, offset: int, length: int) -> bytes:
        for candidate in (self._path(key + ".part"), self._path(key)):
            if candidate.exists():
                with candidate.open("rb") as handle:
                    handle.seek(offset)
                    return handle.read(length)
        return b""

    def partial_size(self, key: str) -> int:
        part = self._path(key + ".part")
        return part.stat().st_size if part.exists() else 0

    def seal(self, key: str, size: int) -> tuple[bytes, str]:
        """Hash the first ``size`` bytes, truncate anything beyond, publish under the final key."""
        part, final = self._path(key + ".part"), self._path(key)
        if not part.exists() and final.exists():
            return _sha256_file(final, size), self.uri(key)
        try:
            with part.open("r+b") as handle:
                handle.truncate(size)
                handle.flush()
                os.fsync(handle.fileno())
            digest = _sha256_file(part, size)
            part.replace(final)
            dir_fd = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull(str(exc)) from exc
            raise StorageError(str(exc)) from exc
        return digest, self.uri(key)

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()

    def open_sealed(self, key: str) -> Path:
        return self._path(key)


def _sha256_file(path: Path, size: int) -> bytes:
    digest = hashlib.sha256()
    remaining = size
    with path.open("rb") as handle:
        while remaining > 0:
            block = handle.read(min(remaining, 1 << 20))
            if not block:
                break
            digest.update(block)
            remaining -= len(block)
    return digest.digest()
