"""The S3-compatible segment store (AWS S3, MinIO, ...) through boto3.

S3 has no writes at an offset, so a partial segment is a set of objects, one per stored chunk:
``<key>.parts/<offset:016d>`` (zero-padded, so the listing order is the offset order). A chunk is
durable once its PutObject returned 200; every body carries its SHA-256 (``x-amz-checksum-sha256``),
which the server verifies before it stores anything. Before writing at ``offset`` every leftover
part at or beyond it is deleted: the upload server writes only at the committed end, so those are
unacknowledged leftovers of a crash. Reads and the seal follow the chain of parts from offset 0
(each part starts where the previous one ends), so a stray part off that chain is never used.

The seal assembles ``[0, size)`` from that chain (a hole is a ``StorageError``; a hash other than
the expected one is a ``SealMismatch`` and publishes nothing), stores the final object with its
SHA-256 as metadata ``x-amz-meta-sha256`` (one PutObject up to ``multipart_threshold``, a multipart
upload beyond, each part checksummed), then deletes the parts. Sealing a key whose final object
exists returns the stored hash without reading the object again. A write to a key sealed in storage
(the seal's transaction never committed) first turns the object back into part 0.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from proctor_storage.store import ObjectMissing, SealMismatch, StorageError, StorageFull, StorageSettings

PART_DIGITS = 16
BLOCK = 1 << 20
MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
FULL = frozenset({"SlowDown", "XMinioStorageFull", "StorageFull", "InsufficientStorage", "ServiceUnavailable",
                  "503", "XMinioServerNotInitialized", "RequestLimitExceeded"})
CORRUPT = frozenset({"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "XAmzContentChecksumMismatch"})


def translate(exc: ClientError | BotoCoreError, what: str) -> StorageError | StorageFull:
    """The store's error for a boto3 failure: missing → ``ObjectMissing``; throttling, an unavailable
    or full server → ``StorageFull`` (retry later); a body the server could not verify, a connection
    failure or anything else → ``StorageError``. Nothing was stored in any of these cases."""
    if isinstance(exc, BotoCoreError):
        return StorageError(f"{what}: {exc}")
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    message = f"{what}: {code or status} {error.get('Message', '')}".rstrip()
    if code in MISSING:
        return ObjectMissing(message)
    if code in FULL or status in (503, 507):
        return StorageFull(message)
    if code in CORRUPT:
        return StorageError(f"{message} (the server refused a body that does not match its checksum)")
    return StorageError(message)


@contextlib.contextmanager
def _mapped(what: str) -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, what) from exc


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def client_config(connect_timeout_s: float = 5.0, read_timeout_s: float = 30.0, max_attempts: int = 4,
                  pool: int = 32, path_style: bool = False) -> Config:
    """Bounded timeouts, the standard retry mode (throttling and 5xx retried with backoff), and only
    the checksums this store sends itself (SHA-256), not a second CRC of every body."""
    return Config(connect_timeout=connect_timeout_s, read_timeout=read_timeout_s,
                  retries={"mode": "standard", "max_attempts": max_attempts}, max_pool_connections=pool,
                  tcp_keepalive=True, request_checksum_calculation="when_required",
                  s3={"addressing_style": "path" if path_style else "auto"})


@dataclass(frozen=True)
class _Part:
    offset: int
    size: int
    name: str

    @property
    def end(self) -> int:
        return self.offset + self.size


def _chain(parts: list[_Part]) -> list[_Part]:
    """The parts reachable from offset 0, each starting where the previous one ends; a stray part
    off this chain (an unacknowledged leftover) is never read."""
    by_offset = {p.offset: p for p in parts}
    chain, position = [], 0
    while position in by_offset and by_offset[position].size > 0:
        chain.append(by_offset[position])
        position = chain[-1].end
    return chain


def _reach(parts: list[_Part]) -> int:
    """How far the chain of ``parts`` holds the segment contiguously from 0."""
    chain = _chain(parts)
    return chain[-1].end if chain else 0


@dataclass
class S3Store:
    """Segments in ``bucket`` under ``prefix``; ``client`` is a boto3 S3 client (thread-safe)."""

    client: Any
    bucket: str
    prefix: str = ""
    multipart_threshold: int = 16 << 20
    part_size: int = 8 << 20  # S3 needs >= 5 MiB for every part but the last
    _prefix: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._prefix = self.prefix.strip("/")
        if self.part_size < 5 << 20:
            raise ValueError("part_size below S3's 5 MiB minimum")

    @classmethod
    def from_settings(cls, settings: StorageSettings, **kwargs: Any) -> S3Store:
        parsed = urlparse(settings.url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"MEDIA_STORAGE_URL: expected s3://<bucket>[/<prefix>], got {settings.url!r}")
        access, secret = settings.s3_access_key.get_secret_value(), settings.s3_secret_key.get_secret_value()
        client = boto3.client(
            "s3", endpoint_url=settings.s3_endpoint_url or None, region_name=settings.s3_region,
            aws_access_key_id=access or None, aws_secret_access_key=secret or None,  # empty: default chain
            config=client_config(path_style=bool(settings.s3_endpoint_url)))
        return cls(client, parsed.netloc, parsed.path, **kwargs)

    # --- keys ---------------------------------------------------------------------------------------

    def _object(self, key: str) -> str:
        parts = PurePosixPath(key).parts
        if (not key or key.startswith("/") or key.endswith("/") or "//" in key or "\\" in key
                or any(p in (".", "..") for p in parts) or any(p.endswith(".parts") for p in parts[:-1])):
            raise StorageError(f"not a valid segment key: {key!r}")
        return f"{self._prefix}/{key}" if self._prefix else key

    def _parts_prefix(self, key: str) -> str:
        return self._object(key) + ".parts/"

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._object(key)}"

    def key_of(self, uri: str) -> str:
        parsed = urlparse(uri)
        if parsed.scheme != "s3" or parsed.netloc != self.bucket:
            raise StorageError(f"not an object of s3://{self.bucket}: {uri!r}")
        path = parsed.path.lstrip("/")
        if self._prefix:
            if not path.startswith(self._prefix + "/"):
                raise StorageError(f"URI outside the storage prefix {self._prefix!r}: {uri!r}")
            path = path[len(self._prefix) + 1:]
        self._object(path)  # validates
        return path

    # --- partial segments ---------------------------------------------------------------------------

    def _list_parts(self, key: str) -> list[_Part]:
        prefix = self._parts_prefix(key)
        found = []
        with _mapped(f"listing the parts of {key}"):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    suffix = item["Key"][len(prefix):]
                    if len(suffix) == PART_DIGITS and suffix.isdigit():
                        found.append(_Part(int(suffix), int(item["Size"]), item["Key"]))
        return sorted(found, key=lambda p: p.offset)

    def _part_name(self, key: str, offset: int) -> str:
        return f"{self._parts_prefix(key)}{offset:0{PART_DIGITS}d}"

    def _delete(self, names: list[str], what: str) -> None:
        for start in range(0, len(names), 1000):
            batch = [{"Key": n} for n in names[start:start + 1000]]
            with _mapped(what):
                response = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            errors = response.get("Errors", [])
            if errors:
                raise StorageError(f"{what}: {errors[0].get('Code')} {errors[0].get('Message')} on {errors[0]['Key']}")

    def write(self, key: str, offset: int, data: bytes) -> None:
        """Store ``data`` as the part at ``offset`` after removing unacknowledged parts at or beyond it.
        A key sealed in storage with nothing stored below ``offset`` is taken back first (a crash
        between the seal and its commit): the object becomes part 0 again, its bytes unchanged."""
        if offset < 0:
            raise StorageError(f"negative offset {offset}")
        parts = self._list_parts(key)
        if offset > 0 and _reach(parts) < offset:
            parts = self._unseal(key, parts)
        inside = [p for p in _chain(parts) if p.offset < offset < p.end]
        if inside:
            raise StorageError(f"write at {offset} of {key} falls inside the stored bytes "
                               f"[{inside[0].offset}, {inside[0].end}): writes go at the committed end")
        name = self._part_name(key, offset)
        leftovers = [p.name for p in parts if p.offset >= offset and p.name != name]
        if leftovers:
            self._delete(leftovers, f"removing unacknowledged parts of {key}")
        with _mapped(f"storing {len(data)} bytes at {offset} of {key}"):
            self.client.put_object(Bucket=self.bucket, Key=name, Body=data,
                                   ChecksumSHA256=_b64(hashlib.sha256(data).digest()))

    def _unseal(self, key: str, parts: list[_Part]) -> list[_Part]:
        final = self._object(key)
        head = self._head(final)
        if head is None:
            return parts
        name = self._part_name(key, 0)
        with _mapped(f"taking back the sealed {key}"):
            self.client.copy_object(Bucket=self.bucket, Key=name, CopySource={"Bucket": self.bucket, "Key": final})
            self.client.delete_object(Bucket=self.bucket, Key=final)
        return [_Part(0, int(head["ContentLength"]), name), *(p for p in parts if p.offset > 0)]

    def _range(self, name: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of one object (short at its end, empty beyond it)."""
        try:
            with _mapped(f"reading {name}"):
                response = self.client.get_object(Bucket=self.bucket, Key=name, Range=f"bytes={start}-{end - 1}")
                return bytes(response["Body"].read())
        except StorageError as exc:
            cause = exc.__cause__
            if isinstance(cause, ClientError) and cause.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""
            raise

    def read(self, key: str, offset: int, length: int) -> bytes:
        """Bytes of the partial segment, or of the sealed object when the parts do not hold them
        (short at the end, like a file)."""
        if length <= 0:
            return b""
        chain = _chain(self._list_parts(key))
        if _reach(chain) < offset + length:
            with contextlib.suppress(ObjectMissing):
                return self._range(self._object(key), offset, offset + length)
        out = bytearray()
        for part in chain:
            lo, hi = max(offset, part.offset), min(offset + length, part.end)
            if lo < hi:
                out += self._range(part.name, lo - part.offset, hi - part.offset)
        return bytes(out)

    # --- sealed objects -----------------------------------------------------------------------------

    def _head(self, name: str) -> dict[str, Any] | None:
        try:
            with _mapped(f"looking up {name}"):
                return dict(self.client.head_object(Bucket=self.bucket, Key=name))
        except ObjectMissing:
            return None

    def seal(self, key: str, size: int, expected_sha256: bytes | None = None) -> tuple[bytes, str]:
        """Publish ``[0, size)`` of the parts (they win over an older object: the seal's commit may
        never have happened), else confirm the object sealed before; then remove the parts."""
        final = self._object(key)
        parts = self._list_parts(key)
        chain = [p for p in _chain(parts) if p.offset < size]
        if parts and _reach(chain) >= size:

            def blocks() -> Iterator[bytes]:
                for part in chain:
                    yield self._range(part.name, 0, min(part.size, size - part.offset))

            digest = self._put(final, blocks, size, "application/octet-stream", expected_sha256)
        else:
            head = self._head(final)
            if head is None:
                if parts:
                    raise StorageError(f"segment {key} has a hole at byte {_reach(chain)} (sealing {size} bytes)")
                raise ObjectMissing(f"segment {key} has neither parts nor a sealed object")
            if int(head["ContentLength"]) != size:
                raise StorageError(f"{key} is already sealed with {head['ContentLength']} bytes, not {size}")
            digest = self._stored_digest(final, head)
            if expected_sha256 is not None and digest != expected_sha256:
                raise SealMismatch(digest)
        if parts:
            self._delete([p.name for p in parts], f"removing the parts of sealed {key}")
        return digest, self.uri(key)

    def _stored_digest(self, name: str, head: dict[str, Any]) -> bytes:
        stored = head.get("Metadata", {}).get("sha256", "")
        if len(stored) == 64:
            return bytes.fromhex(stored)
        digest = hashlib.sha256()  # an object this store did not write: hash it once
        with _mapped(f"reading {name}"):
            body = self.client.get_object(Bucket=self.bucket, Key=name)["Body"]
            for block in iter(lambda: body.read(BLOCK), b""):
                digest.update(block)
        return digest.digest()

    def _put(self, name: str, blocks: Callable[[], Iterator[bytes]], size: int, content_type: str,
             expected_sha256: bytes | None = None) -> bytes:
        """Store the bytes of ``blocks()`` (``size`` in all) as ``name`` with their SHA-256 as metadata.
        Small: one verified PutObject. Large: hash in a first pass (the metadata goes in with the upload's
        creation), then a multipart upload whose every part is checksummed and whose bytes are hashed
        again, so a source that changed in between fails instead of publishing a wrong hash. A hash
        other than ``expected_sha256`` raises ``SealMismatch`` before anything is published."""
        if size <= self.multipart_threshold:
            body = b"".join(blocks())
            if len(body) != size:
                raise StorageError(f"{name}: assembled {len(body)} bytes, expected {size}")
            digest = hashlib.sha256(body).digest()
            if expected_sha256 is not None and digest != expected_sha256:
                raise SealMismatch(digest)
            with _mapped(f"storing {name}"):
                self.client.put_object(Bucket=self.bucket, Key=name, Body=body, ContentType=content_type,
                                       ChecksumSHA256=_b64(digest), Metadata={"sha256": digest.hex()})
            return digest
        first = hashlib.sha256()
        for block in blocks():
            first.update(block)
        digest = first.digest()
        if expected_sha256 is not None and digest != expected_sha256:
            raise SealMismatch(digest)
        with _mapped(f"starting the multipart upload of {name}"):
            upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=name, ContentType=content_type, ChecksumAlgorithm="SHA256",
                Metadata={"sha256": digest.hex()})["UploadId"]
        try:
            self._upload_parts(name, upload_id, blocks, size, digest)
        except BaseException:
            # best effort; a bucket lifecycle rule for incomplete uploads removes whatever is left
            with contextlib.suppress(ClientError, BotoCoreError):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
            raise
        return digest

    def _upload_parts(self, name: str, upload_id: str, blocks: Callable[[], Iterator[bytes]], size: int,
                      digest: bytes) -> None:
        again, pending, total = hashlib.sha256(), bytearray(), 0
        done: list[dict[str, Any]] = []

        def send(body: bytes) -> None:
            number = len(done) + 1
            checksum = _b64(hashlib.sha256(body).digest())
            with _mapped(f"uploading part {number} of {name}"):
                response = self.client.upload_part(Bucket=self.bucket, Key=name, UploadId=upload_id,
                                                   PartNumber=number, Body=body, ChecksumSHA256=checksum)
            done.append({"PartNumber": number, "ETag": response["ETag"], "ChecksumSHA256": checksum})

        for block in blocks():
            again.update(block)
            total += len(block)
            pending += block
            while len(pending) >= self.part_size:
                send(bytes(pending[:self.part_size]))
                del pending[:self.part_size]
        if pending or not done:
            send(bytes(pending))
        if total != size or again.digest() != digest:
            raise StorageError(f"{name}: the source changed while it was being stored")
        with _mapped(f"completing the multipart upload of {name}"):
            self.client.complete_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id,
                                                  MultipartUpload={"Parts": done})

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> str:
        size = path.stat().st_size

        def blocks() -> Iterator[bytes]:
            with path.open("rb") as handle:
                yield from iter(lambda: handle.read(BLOCK), b"")

        self._put(self._object(key), blocks, size, content_type)
        return self.uri(key)

    def fetch(self, uri: str, dest: Path) -> Path:
        """Download to ``dest`` (through a temporary file), checked against the stored SHA-256."""
        name = self._object(self.key_of(uri))
        tmp = dest.with_name(dest.name + ".tmp")
        digest = hashlib.sha256()
        try:
            with _mapped(f"reading {uri}"):
                response = self.client.get_object(Bucket=self.bucket, Key=name)
                with tmp.open("wb") as out:
                    for block in iter(lambda: response["Body"].read(BLOCK), b""):
                        digest.update(block)
                        out.write(block)
            expected = response.get("Metadata", {}).get("sha256")
            if expected and expected != digest.hexdigest():
                raise StorageError(f"{uri}: downloaded bytes do not match the stored SHA-256")
            tmp.replace(dest)
        finally:
            tmp.unlink(missing_ok=True)
        return dest

    def local_path(self, uri: str) -> Path | None:
        return None
