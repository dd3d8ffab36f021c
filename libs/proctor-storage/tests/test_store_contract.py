"""One contract for every segment store, run against the filesystem backend and the S3 backend on the
project's local MinIO server (a real S3 endpoint; the S3 cases skip with the reason when it is not built).

A "restart" is a new store instance over the same storage: it sees only what was made durable.
"""

from __future__ import annotations

import base64
import hashlib
import random
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from proctor_runtime.devinfra import S3Endpoint
from proctor_storage.s3 import S3Store, client_config, translate
from proctor_storage.store import (
    FilesystemStore,
    ObjectMissing,
    SealMismatch,
    SegmentStore,
    StorageError,
    StorageFull,
    StorageSettings,
    open_store,
)

MiB = 1 << 20
KEY = "sitting-1/cand-7/camera/seg-000001.raw"


@dataclass
class Backend:
    name: str
    open: Callable[[], SegmentStore]  # a fresh instance over the same storage, as after a restart
    foreign_uris: list[str]


def _settings(endpoint: S3Endpoint, prefix: str) -> StorageSettings:
    return StorageSettings(url=f"s3://{endpoint.bucket}/{prefix}", s3_endpoint_url=endpoint.endpoint_url,
                           s3_region=endpoint.region, s3_access_key=endpoint.access_key,
                           s3_secret_key=endpoint.secret_key)


def _raw_client(endpoint: S3Endpoint) -> Any:
    return boto3.client("s3", endpoint_url=endpoint.endpoint_url, region_name=endpoint.region,
                        aws_access_key_id=endpoint.access_key, aws_secret_access_key=endpoint.secret_key,
                        config=client_config(path_style=True))


def _objects(client: Any, bucket: str, prefix: str) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


@pytest.fixture
def s3_prefix(s3_endpoint: S3Endpoint) -> Iterator[str]:
    """A key prefix of one test in the development bucket, emptied afterwards."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = _raw_client(s3_endpoint)
    while names := _objects(client, s3_endpoint.bucket, prefix + "/")[:1000]:
        client.delete_objects(Bucket=s3_endpoint.bucket, Delete={"Objects": [{"Key": n} for n in names]})


def _s3_store(endpoint: S3Endpoint, prefix: str) -> S3Store:
    """Small multipart sizes, so the large-segment test crosses them."""
    return S3Store.from_settings(_settings(endpoint, prefix), multipart_threshold=6 * MiB, part_size=5 * MiB)


@pytest.fixture(params=["filesystem", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "filesystem":
        root = tmp_path / "media"
        root.mkdir()
        return Backend("filesystem", lambda: FilesystemStore(root),
                       [f"s3://bucket/{KEY}", (tmp_path / "elsewhere" / KEY).as_uri(), "https://example.com/x"])
    endpoint: S3Endpoint = request.getfixturevalue("s3_endpoint")
    prefix: str = request.getfixturevalue("s3_prefix")
    return Backend("s3", lambda: _s3_store(endpoint, prefix),
                   [(tmp_path / KEY).as_uri(), f"s3://another-bucket/{prefix}/{KEY}",
                    f"s3://{endpoint.bucket}/other-prefix/{KEY}", "https://example.com/x"])


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def test_written_chunks_survive_a_restart_and_read_back(backend):
    store = backend.open()
    store.write(KEY, 0, b"hello ")
    store.write(KEY, 6, b"world")
    after = backend.open()
    assert after.read(KEY, 0, 11) == b"hello world"
    assert after.read(KEY, 3, 5) == b"lo wo", "a read across two chunks"
    assert after.read(KEY, 9, 100) == b"ld", "short at the end, like a file"
    assert after.read("sitting-1/cand-7/camera/seg-000002.raw", 0, 4) == b""


def test_a_crash_leftover_is_replaced_by_the_rewrite_at_the_committed_end(backend, tmp_path):
    store = backend.open()
    store.write(KEY, 0, b"0123456789")  # acknowledged: committed = 10
    store.write(KEY, 10, b"LEFTOVER-1")  # stored, then the server died before acknowledging these two
    store.write(KEY, 20, b"LEFTOVER-2")
    after = backend.open()
    after.write(KEY, 10, b"abc")
    after.write(KEY, 13, b"defg")
    expected = b"0123456789abcdefg"
    assert after.read(KEY, 0, 17) == expected
    digest, uri = after.seal(KEY, 17)
    assert digest == sha(expected)
    assert after.fetch(uri, tmp_path / "fetched").read_bytes() == expected


def test_a_short_rewrite_over_a_longer_leftover_seals_only_the_committed_bytes(backend, tmp_path):
    store = backend.open()
    store.write(KEY, 0, b"head-")
    store.write(KEY, 5, b"a-long-unacknowledged-leftover")
    store.write(KEY, 5, b"tail")
    digest, uri = backend.open().seal(KEY, 9)
    assert digest == sha(b"head-tail")
    assert store.fetch(uri, tmp_path / "fetched").read_bytes() == b"head-tail"


def test_seal_publishes_and_sealing_again_is_idempotent(backend, tmp_path):
    store = backend.open()
    chunks = [b"segment ", b"bytes ", b"in three chunks"]
    offset = 0
    for data in chunks:
        store.write(KEY, offset, data)
        offset += len(data)
    whole = b"".join(chunks)
    digest, uri = store.seal(KEY, len(whole))
    assert (digest, uri) == (sha(whole), store.uri(KEY))
    assert store.key_of(uri) == KEY
    assert store.read(KEY, 8, 5) == b"bytes", "a sealed segment still reads (re-sent chunks are compared)"
    assert store.seal(KEY, len(whole)) == (digest, uri)
    assert backend.open().seal(KEY, len(whole)) == (digest, uri), "also after a restart"
    assert store.fetch(uri, tmp_path / "fetched").read_bytes() == whole


def test_a_seal_with_the_wrong_hash_publishes_nothing(backend, tmp_path):
    store = backend.open()
    store.write(KEY, 0, b"recorded bytes")
    with pytest.raises(SealMismatch) as err:
        store.seal(KEY, 14, expected_sha256=sha(b"claimed bytes!"))
    assert err.value.actual == sha(b"recorded bytes")
    with pytest.raises(ObjectMissing):
        store.fetch(store.uri(KEY), tmp_path / "never")
    assert store.read(KEY, 0, 14) == b"recorded bytes", "the partial segment stays as it was"
    digest, uri = store.seal(KEY, 14, expected_sha256=sha(b"recorded bytes"))
    assert digest == sha(b"recorded bytes")
    with pytest.raises(SealMismatch):
        store.seal(KEY, 14, expected_sha256=sha(b"claimed bytes!"))
    assert store.fetch(uri, tmp_path / "fetched").read_bytes() == b"recorded bytes"


def test_a_write_to_a_key_sealed_without_commit_takes_the_segment_back(backend, tmp_path):
    store = backend.open()
    store.write(KEY, 0, b"first ")
    store.seal(KEY, 6)  # the server died before the seal's transaction committed: still partial
    after = backend.open()
    after.write(KEY, 6, b"and more")
    with pytest.raises(ObjectMissing):
        after.fetch(after.uri(KEY), tmp_path / "stale")
    assert after.read(KEY, 0, 14) == b"first and more"
    digest, uri = after.seal(KEY, 14)
    assert digest == sha(b"first and more")
    assert after.fetch(uri, tmp_path / "fetched").read_bytes() == b"first and more"


def test_seal_publishes_only_the_first_size_bytes(backend, tmp_path):
    store = backend.open()
    store.write(KEY, 0, b"01234")
    store.write(KEY, 5, b"56789")
    digest, uri = store.seal(KEY, 7)
    assert digest == sha(b"0123456")
    assert store.fetch(uri, tmp_path / "fetched").read_bytes() == b"0123456"


@pytest.mark.parametrize("case", ["hole", "short"])
def test_missing_bytes_are_refused_at_seal(backend, case):
    if backend.name == "filesystem" and case == "hole":
        pytest.skip("a file cannot tell a never-written range inside a block from written zeros; the server "
                    "only writes at the committed end, so it never makes one")
    store = backend.open()
    store.write(KEY, 0, b"abcde")
    if case == "hole":
        store.write(KEY, 10, b"klmno")  # bytes 5..9 were never written
    with pytest.raises(StorageError):
        store.seal(KEY, 15)


def test_sealing_a_segment_never_written_is_an_error(backend):
    with pytest.raises(StorageError):
        backend.open().seal("sitting-1/cand-7/camera/seg-000099.raw", 10)


def test_put_file_fetch_key_of_and_uri_round_trip(backend, tmp_path):
    store = backend.open()
    source = tmp_path / "index.m3u8"
    source.write_text("#EXTM3U\n#EXT-X-VERSION:7\n")
    key = "sitting-1/cand-7/camera/review/index.m3u8"
    uri = store.put_file(key, source, "application/vnd.apple.mpegurl")
    assert uri == store.uri(key)
    assert backend.open().key_of(uri) == key
    assert backend.open().fetch(uri, tmp_path / "copy").read_bytes() == source.read_bytes()


def test_a_missing_object_is_object_missing(backend, tmp_path):
    store = backend.open()
    dest = tmp_path / "never"
    with pytest.raises(ObjectMissing):
        store.fetch(store.uri("sitting-1/cand-7/camera/seg-000404.raw"), dest)
    assert not dest.exists()


def test_foreign_uris_and_escaping_keys_are_refused(backend, tmp_path):
    store = backend.open()
    for uri in backend.foreign_uris:
        with pytest.raises(StorageError):
            store.key_of(uri)
        with pytest.raises(StorageError):
            store.fetch(uri, tmp_path / "x")
    with pytest.raises(StorageError):
        store.write("../outside/seg.raw", 0, b"x")


def test_a_large_segment_seals_whole(backend, tmp_path):
    data = random.Random(5).randbytes(12 * MiB + 12345)
    store = backend.open()
    for offset in range(0, len(data), MiB):
        store.write(KEY, offset, data[offset:offset + MiB])
    digest, uri = backend.open().seal(KEY, len(data))
    assert digest == sha(data)
    assert store.fetch(uri, tmp_path / "fetched").read_bytes() == data


# --- what only the S3 backend promises --------------------------------------------------------------

def test_s3_seal_stores_the_hash_as_metadata_and_removes_the_parts(s3_endpoint, s3_prefix):
    store = _s3_store(s3_endpoint, s3_prefix)
    client = _raw_client(s3_endpoint)
    store.write(KEY, 0, b"abc")
    store.write(KEY, 3, b"LEFTOVER")
    store.write(KEY, 3, b"def")
    parts = _objects(client, s3_endpoint.bucket, f"{s3_prefix}/{KEY}.parts/")
    assert [p.rsplit("/", 1)[1] for p in parts] == [f"{0:016d}", f"{3:016d}"]
    store.write(KEY, 6, b"ghi")
    store.write(KEY, 9, b"LEFTOVER")
    store.write(KEY, 6, b"GHI")  # removes the leftover at 9, overwrites the part at 6
    assert len(_objects(client, s3_endpoint.bucket, f"{s3_prefix}/{KEY}.parts/")) == 3
    digest, _ = store.seal(KEY, 9)
    assert digest == sha(b"abcdefGHI")
    head = client.head_object(Bucket=s3_endpoint.bucket, Key=f"{s3_prefix}/{KEY}")
    assert head["Metadata"]["sha256"] == digest.hex()
    assert _objects(client, s3_endpoint.bucket, f"{s3_prefix}/") == [f"{s3_prefix}/{KEY}"]


def test_s3_a_write_inside_stored_bytes_is_refused(s3_endpoint, s3_prefix):
    store = _s3_store(s3_endpoint, s3_prefix)
    store.write(KEY, 0, b"0123456789")
    with pytest.raises(StorageError, match="inside the stored bytes"):
        store.write(KEY, 5, b"xx")  # not at the committed end: a part cannot be patched in place
    assert store.read(KEY, 0, 10) == b"0123456789"


def test_s3_large_seal_is_a_checksummed_multipart_upload(s3_endpoint, s3_prefix, tmp_path):
    store = _s3_store(s3_endpoint, s3_prefix)
    data = random.Random(6).randbytes(11 * MiB)
    for offset in range(0, len(data), MiB):
        store.write(KEY, offset, data[offset:offset + MiB])
    with pytest.raises(SealMismatch):
        store.seal(KEY, len(data), expected_sha256=sha(b"something else"))
    assert "Contents" not in _raw_client(s3_endpoint).list_objects_v2(Bucket=s3_endpoint.bucket, Prefix=f"{s3_prefix}/{KEY}", Delimiter="/")
    digest, _ = store.seal(KEY, len(data), expected_sha256=sha(data))
    head = _raw_client(s3_endpoint).head_object(Bucket=s3_endpoint.bucket, Key=f"{s3_prefix}/{KEY}")
    assert head["ETag"].strip('"').endswith("-3"), "5 + 5 + 1 MiB parts"
    assert head["Metadata"]["sha256"] == digest.hex() == hashlib.sha256(data).hexdigest()
    source = tmp_path / "clip.mp4"
    source.write_bytes(data)
    uri = store.put_file("sitting-1/cand-7/review/clip.mp4", source, "video/mp4")
    head = _raw_client(s3_endpoint).head_object(Bucket=s3_endpoint.bucket,
                                                Key=f"{s3_prefix}/sitting-1/cand-7/review/clip.mp4")
    assert (head["ContentType"], head["Metadata"]["sha256"]) == ("video/mp4", digest.hex())
    assert store.fetch(uri, tmp_path / "back.mp4").read_bytes() == data


def test_s3_resealing_an_object_without_stored_hash_hashes_it_and_a_size_mismatch_is_refused(s3_endpoint, s3_prefix):
    store = _s3_store(s3_endpoint, s3_prefix)
    _raw_client(s3_endpoint).put_object(Bucket=s3_endpoint.bucket, Key=f"{s3_prefix}/{KEY}", Body=b"from elsewhere")
    assert store.seal(KEY, 14) == (sha(b"from elsewhere"), store.uri(KEY))
    with pytest.raises(StorageError, match="already sealed with 14 bytes"):
        store.seal(KEY, 15)


def test_s3_server_errors_map_to_the_store_errors(s3_endpoint, s3_prefix):
    client = _raw_client(s3_endpoint)
    with pytest.raises(ClientError) as corrupt:
        client.put_object(Bucket=s3_endpoint.bucket, Key=f"{s3_prefix}/x", Body=b"sent",
                          ChecksumSHA256=base64.b64encode(sha(b"other bytes")).decode())
    mapped = translate(corrupt.value, "put")
    assert type(mapped) is StorageError and "checksum" in str(mapped)
    with pytest.raises(ClientError) as missing:
        client.get_object(Bucket=s3_endpoint.bucket, Key=f"{s3_prefix}/absent")
    assert type(translate(missing.value, "get")) is ObjectMissing
    store = S3Store(client, "no-such-bucket-here")
    with pytest.raises(StorageError, match="NoSuchBucket"):
        store.write(KEY, 0, b"x")


@pytest.mark.parametrize(("code", "status", "expected"), [
    ("SlowDown", 503, StorageFull),
    ("XMinioStorageFull", 507, StorageFull),
    ("StorageFull", 507, StorageFull),
    ("ServiceUnavailable", 503, StorageFull),
    ("XAmzContentSHA256Mismatch", 400, StorageError),
    ("BadDigest", 400, StorageError),
    ("NoSuchKey", 404, ObjectMissing),
    ("AccessDenied", 403, StorageError),
])
def test_error_codes_that_no_local_server_produces_on_demand_map_too(code, status, expected):
    error = ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                        "PutObject")
    assert type(translate(error, "put")) is expected


def test_an_unreachable_endpoint_is_a_storage_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                              aws_access_key_id="k", aws_secret_access_key="s",
                              config=client_config(max_attempts=1, connect_timeout_s=1, path_style=True))
        store = S3Store(client, "bucket")
        with pytest.raises(StorageError) as err:
            store.write(KEY, 0, b"x")
        assert not isinstance(err.value, StorageFull)


def test_open_store_picks_the_backend_from_the_url(tmp_path):
    store = open_store(StorageSettings(url="s3://media-bucket/exams/2026", s3_endpoint_url="http://127.0.0.1:1",
                                       s3_access_key="k", s3_secret_key="s"))
    assert isinstance(store, S3Store)
    assert store.uri(KEY) == f"s3://media-bucket/exams/2026/{KEY}"
    assert store.key_of(f"s3://media-bucket/exams/2026/{KEY}") == KEY
    assert store.local_path(store.uri(KEY)) is None
    assert isinstance(open_store(StorageSettings(url=(tmp_path / "m").as_uri())), FilesystemStore)
    with pytest.raises(ValueError, match="s3://"):
        open_store(StorageSettings(url="s3:///no-bucket"))


def test_filesystem_paths_are_checked_without_leaving_the_root(tmp_path):
    root = tmp_path / "store"
    store = FilesystemStore(root)
    assert store.key_of(store.uri("a/b c.seg")) == "a/b c.seg"
    for key in ("../x", "a/../../x", "/etc/passwd", "", "."):
        with pytest.raises(StorageError):
            store.write(key, 0, b"x")
    sibling = tmp_path / "store-other" / "a"  # shares the root's name as a prefix
    for uri in (sibling.as_uri(), root.as_uri(), (root / ".." / "x").as_uri()):
        with pytest.raises(StorageError):
            store.key_of(uri)


def test_a_filesystem_store_rooted_at_slash_reads_any_absolute_path(tmp_path):
    (tmp_path / "f.jpg").write_bytes(b"jpeg")
    store = FilesystemStore(Path("/"))  # how `proctor report` reads thumbnails named by file:// URIs
    assert store.local_path((tmp_path / "f.jpg").as_uri()).read_bytes() == b"jpeg"
    assert store.key_of("file:////etc//hosts") == "etc/hosts"
    with pytest.raises(StorageError):
        store.key_of("file:///")
