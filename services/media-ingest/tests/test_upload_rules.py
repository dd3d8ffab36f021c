"""Chunk rules, the hash chain and the filesystem store (durable writes, seal, refusal of a full disk)."""

import hashlib
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from media_ingest.chain import chain_next, chain_over, chain_seed
from media_ingest.domain import (
    Chunk,
    Limits,
    SegmentState,
    check_chunk,
    check_overlap,
    check_seal,
    plan_chunk,
    ranges,
)
from proctor_runtime.errors import Aborted, FailedPrecondition, InvalidArgument, OutOfRange, ResourceExhausted
from proctor_storage.store import FilesystemStore, StorageError, StorageFull


def chunk(index: int, offset: int, data: bytes, seal: bytes | None = None) -> Chunk:
    whole = seal
    return Chunk(index, offset, data, hashlib.sha256(data).digest(),
                 seal_size=None if whole is None else len(whole),
                 seal_sha256=None if whole is None else hashlib.sha256(whole).digest())


def test_chain_matches_the_spec_by_hand():
    sid = "stream-1"
    seed = hashlib.sha256(b"proctor.media.chain.v1" + sid.encode()).digest()
    assert chain_seed(sid) == seed
    d0, d1 = hashlib.sha256(b"a").digest(), hashlib.sha256(b"bb").digest()
    c0 = hashlib.sha256(seed + struct.pack(">I", 0) + struct.pack(">Q", 1) + d0).digest()
    c1 = hashlib.sha256(c0 + struct.pack(">I", 1) + struct.pack(">Q", 2) + d1).digest()
    assert chain_over(sid, [(0, 1, d0), (1, 2, d1)]) == [c0, c1]
    assert chain_next(c0, 1, 2, d1) == c1
    assert chain_over(sid, [(0, 1, d0), (2, 2, d1)]) == [c0], "a gap ends the chain"


def test_contiguous_chunks_append_and_resends_are_duplicates():
    seg = SegmentState(0, committed_bytes=4)
    plan = plan_chunk(seg, chunk(0, 4, b"5678"))
    assert (plan.append_at, plan.append, plan.duplicate) == (4, b"5678", False)
    resend = plan_chunk(seg, chunk(0, 0, b"1234"))
    assert resend.duplicate and resend.overlap == b"1234"
    straddle = plan_chunk(seg, chunk(0, 2, b"34ab"))
    assert (straddle.overlap, straddle.append_at, straddle.append) == (b"34", 4, b"ab")


def test_a_gap_and_conflicting_bytes_are_refused_precisely():
    seg = SegmentState(3, committed_bytes=4)
    with pytest.raises(OutOfRange) as err:
        plan_chunk(seg, chunk(3, 5, b"x"))
    assert err.value.reason == "OFFSET_GAP" and err.value.metadata["committed_offset"] == "4"
    plan = plan_chunk(seg, chunk(3, 0, b"12"))
    with pytest.raises(Aborted) as conflict:
        check_overlap(plan, b"99", 3)
    assert conflict.value.reason == "CHUNK_CONFLICT"


def test_sealed_segments_are_immutable():
    whole = b"hello world"
    seg = SegmentState(1, committed_bytes=11, sealed=True, size=11, sha256=hashlib.sha256(whole).digest())
    assert plan_chunk(seg, chunk(1, 6, b"world")).duplicate
    with pytest.raises(FailedPrecondition) as err:
        plan_chunk(seg, chunk(1, 6, b"world!!"))
    assert err.value.reason == "SEGMENT_SEALED"


@pytest.mark.parametrize(("bad", "error", "reason"), [
    (Chunk(0, 0, b"", hashlib.sha256(b"").digest()), InvalidArgument, "FIELD_REQUIRED"),
    (Chunk(0, 0, b"x" * 11, hashlib.sha256(b"x" * 11).digest()), InvalidArgument, "CHUNK_TOO_LARGE"),
    (Chunk(0, 0, b"abc", b"\x00" * 32), InvalidArgument, "CHUNK_HASH_MISMATCH"),
    (Chunk(0, 95, b"abcdef", hashlib.sha256(b"abcdef").digest()), ResourceExhausted, "SEGMENT_TOO_LARGE"),
    (Chunk(0, 0, b"abc", hashlib.sha256(b"abc").digest(), seal_size=4, seal_sha256=b""), InvalidArgument,
     "SEGMENT_SIZE_MISMATCH"),
    (Chunk(7, 0, b"abc", hashlib.sha256(b"abc").digest()), InvalidArgument, "SEGMENT_INDEX_INVALID"),
])
def test_bad_chunks(bad, error, reason):
    with pytest.raises(error) as err:
        check_chunk(bad, Limits(max_chunk_bytes=10, max_segment_bytes=100, max_segments=5), stream_bytes=0)
    assert err.value.reason == reason


def test_seal_hash_is_checked():
    c = chunk(0, 0, b"abc", seal=b"abc")
    check_seal(c, hashlib.sha256(b"abc").digest())
    with pytest.raises(InvalidArgument):
        check_seal(c, hashlib.sha256(b"abd").digest())


def test_ranges():
    assert ranges([3, 4, 5, 9]) == "3-5,9"
    assert ranges([]) == ""


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=300), st.lists(st.tuples(st.integers(0, 300), st.integers(1, 64)),
                                                       max_size=40))
def test_any_order_of_resends_and_overlaps_rebuilds_exactly_the_segment(segment, sends):
    """Chunks at arbitrary (valid or not) offsets: whatever is accepted, the committed bytes are
    always a prefix of the real segment."""
    committed = b""
    for start, length in sends:
        start = min(start, len(segment) - 1)
        data = segment[start:start + length]
        try:
            plan = plan_chunk(SegmentState(0, committed_bytes=len(committed)), chunk(0, start, data))
        except OutOfRange:
            continue
        check_overlap(plan, committed[plan.overlap_start:plan.overlap_start + len(plan.overlap)], 0)
        committed = committed[:plan.append_at] + plan.append
        assert segment.startswith(committed)


def test_filesystem_store_writes_durably_and_seals(tmp_path: Path):
    store = FilesystemStore(tmp_path)
    store.write("s/1/000000.mp4", 0, b"hello ")
    store.write("s/1/000000.mp4", 6, b"world")
    assert (tmp_path / "s/1/000000.mp4.part").stat().st_size == 11
    assert store.read("s/1/000000.mp4", 3, 5) == b"lo wo"
    digest, uri = store.seal("s/1/000000.mp4", 11)
    assert digest == hashlib.sha256(b"hello world").digest()
    assert uri.startswith("file://") and (tmp_path / "s/1/000000.mp4").read_bytes() == b"hello world"
    assert store.seal("s/1/000000.mp4", 11)[0] == digest, "sealing again is idempotent"
    assert store.key_of(uri) == "s/1/000000.mp4"
    fetched = store.fetch(uri, tmp_path / "copy")
    assert fetched.read_bytes() == b"hello world" and store.local_path(uri) == tmp_path / "s/1/000000.mp4"
    (tmp_path / "src.bin").write_bytes(b"thumb")
    thumb = store.put_file("s/1/thumbs/0.jpg", tmp_path / "src.bin", "image/jpeg")
    assert Path(store.local_path(thumb) or "").read_bytes() == b"thumb"
    with pytest.raises(StorageError):
        store.key_of("s3://bucket/key")
    with pytest.raises(Exception, match="escapes"):
        store.write("../evil", 0, b"x")


def test_a_full_disk_is_storage_full_and_nothing_is_half_acknowledged(tmp_path: Path):
    """A real small filesystem (a loop-mounted 1 MiB ext4 image) filled up."""
    if subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() != "0":
        pytest.skip("mounting a small filesystem needs root")
    image, mount = tmp_path / "disk.img", tmp_path / "mnt"
    mount.mkdir()
    subprocess.run(["truncate", "-s", "1M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True, capture_output=True)
    if subprocess.run(["mount", "-o", "loop", str(image), str(mount)], capture_output=True).returncode != 0:
        pytest.skip("loop mounts are not available on this machine")
    try:
        store = FilesystemStore(mount)
        with pytest.raises(StorageFull):
            for i in range(40):
                store.write(f"seg{i}", 0, b"x" * 64 * 1024)
    finally:
        subprocess.run(["umount", str(mount)], check=True)
