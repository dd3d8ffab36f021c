"""Evidence thumbnails: read from object storage only for an incident the caller may see.

The browser names an incident and an evidence index, never a URI. The console first asks notify
``GetIncident`` with the caller's token (so the gRPC server decides), then reads exactly the
``thumbnail_uri`` of that evidence from the ``SegmentStore``. Only small images are served, with
their type checked from the bytes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from proctor_storage import ObjectMissing, SegmentStore, StorageError

MAX_THUMBNAIL_BYTES = 4 * 1024 * 1024


class ThumbnailUnavailable(Exception):
    def __init__(self, status: int, reason: str, message_en: str, message_zh: str) -> None:
        super().__init__(message_en)
        self.status, self.reason, self.message_en, self.message_zh = status, reason, message_en, message_zh


def image_type(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _read_capped(path: Path) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(MAX_THUMBNAIL_BYTES + 1)
    if len(data) > MAX_THUMBNAIL_BYTES:
        raise ThumbnailUnavailable(502, "THUMBNAIL_TOO_LARGE", "the thumbnail is too large to show",
                                   "缩略图过大，无法显示")
    return data


def read_thumbnail(store: SegmentStore, uri: str) -> tuple[bytes, str]:
    """(bytes, content type) of one thumbnail object; blocking, run it in a thread."""
    missing = ThumbnailUnavailable(404, "THUMBNAIL_NOT_FOUND", "the thumbnail is not (yet) stored",
                                   "缩略图尚未存储")
    try:
        local = store.local_path(uri)
        if local is not None:
            if not local.is_file():
                raise missing
            data = _read_capped(local)
        else:
            with tempfile.TemporaryDirectory(prefix="notify-thumb-") as tmp:
                data = _read_capped(store.fetch(uri, Path(tmp) / "thumbnail"))
    except ObjectMissing:
        raise missing from None
    except (StorageError, OSError):
        raise ThumbnailUnavailable(502, "THUMBNAIL_UNREADABLE", "the thumbnail could not be read from storage",
                                   "无法从存储读取缩略图") from None
    kind = image_type(data)
    if kind is None:
        raise ThumbnailUnavailable(502, "THUMBNAIL_INVALID", "the stored thumbnail is not an image",
                                   "存储的缩略图不是图片")
    return data, kind
