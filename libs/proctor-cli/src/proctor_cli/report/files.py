"""Copying evidence thumbnails into the report directory, so the report is self-contained.

Thumbnails are objects in the project's storage (``proctor_storage``): ``file://`` URIs are read from
the local filesystem, ``s3://<bucket>/<key>`` URIs through the S3 store with the endpoint and
credentials of ``MEDIA_STORAGE_*`` (the same settings the services use). A thumbnail that cannot be
fetched is reported (the report says why) and never stops the report.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from proctor_cli.report.model import Report, Thumbnail
from proctor_storage import FilesystemStore, SegmentStore, StorageError, StorageSettings

THUMB_DIR = "thumbs"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def slug(text: str, limit: int = 60) -> str:
    """A file name for an id: safe characters only, plus a short hash when anything was changed."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", text)[:limit].lstrip(".")
    if safe == text and safe:
        return safe
    return f"{safe or 'x'}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


class ObjectFetcher:
    """Fetch objects by URI from the filesystem or S3 (one S3 client per bucket)."""

    def __init__(self, settings: StorageSettings | None = None) -> None:
        self.settings = settings or StorageSettings()
        self._stores: dict[str, SegmentStore] = {}

    def _store(self, uri: str) -> SegmentStore:
        parsed = urlparse(uri)
        if parsed.scheme == "file":
            key = "file"
            if key not in self._stores:
                self._stores[key] = FilesystemStore(Path("/"))
            return self._stores[key]
        if parsed.scheme == "s3" and parsed.netloc:
            key = f"s3://{parsed.netloc}"
            if key not in self._stores:
                from proctor_storage.s3 import S3Store  # boto3 only when an s3:// object is asked for

                self._stores[key] = S3Store.from_settings(self.settings.model_copy(update={"url": key}))
            return self._stores[key]
        raise StorageError(f"unsupported object URI {uri!r} (file:// or s3://<bucket>/<key>)")

    def fetch(self, uri: str, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        self._store(uri).fetch(uri, dest)
        return dest


def _thumb_name(uri: str, stem: str) -> str:
    suffix = PurePosixPath(urlparse(uri).path).suffix.lower()
    return f"{THUMB_DIR}/{slug(stem)}{suffix if suffix in IMAGE_SUFFIXES else '.jpg'}"


def thumbnail_sources(report: Report) -> Iterable[tuple[str, str]]:
    """(URI, file stem) of every evidence thumbnail of the report, each URI once."""
    seen: set[str] = set()
    for candidate in report.candidates:
        for entry in candidate.incidents:
            for index, evidence in enumerate(entry.evidence):
                uri = evidence.evidence.thumbnail_uri
                if uri and uri not in seen:
                    seen.add(uri)
                    yield uri, f"{entry.incident.incident_id}-{index}"


def copy_thumbnails(report: Report, out_dir: Path, fetcher: ObjectFetcher, workers: int = 8) -> None:
    """Copy every thumbnail into ``out_dir/thumbs``; ``report.thumbnails`` says where each went or why not."""

    def one(item: tuple[str, str]) -> Thumbnail:
        uri, stem = item
        name = _thumb_name(uri, stem)
        try:
            fetcher.fetch(uri, out_dir / name)
        except (StorageError, OSError) as exc:
            return Thumbnail(uri, error=str(exc) or type(exc).__name__)
        return Thumbnail(uri, file=name)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for thumb in pool.map(one, list(thumbnail_sources(report))):
            report.thumbnails[thumb.source_uri] = thumb
