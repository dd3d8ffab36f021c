"""The upload server end to end in process: real exam-session, PostgreSQL, Kafka, filesystem storage."""

import asyncio
import hashlib
from datetime import timedelta

import grpc
import pytest
from exam_harness import START
from ingest_harness import Ingest, segments_of, sitting, start_ingest, stop_ingest

from media_ingest.chain import chain_over
from media_ingest.client import chain_head, chunk_messages
from proctor.common.v1 import common_pb2
from proctor.events.v1 import incident_pb2, media_pb2
from proctor.exam.v1 import exam_session_pb2 as epb
from proctor.media.v1 import media_ingest_pb2 as pb
from proctor_runtime.testing.helpers import bearer, kafka_events, refused
from proctor_runtime.tokens import Role
from proctor_runtime.topics import INCIDENTS, MEDIA_SEGMENTS_RECEIVED, MEDIA_STREAMS

CAMERA, SCREEN, PHONE, SCAN = (common_pb2.STREAM_KIND_DESKTOP_CAMERA, common_pb2.STREAM_KIND_DESKTOP_SCREEN,
                               common_pb2.STREAM_KIND_PHONE_EVIDENCE, common_pb2.STREAM_KIND_PHONE_ROOM_SCAN)


async def test_uploader_sends_chunks_as_large_as_the_server_allows(ingest: Ingest):
    c = await ingest.candidate("c0")
    sid = (await ingest.open(c, CAMERA)).stream.stream_id
    segs = segments_of(2, 1_500_000, "b")  # a 30-s camera segment is ~1 MB; these need two chunks of 1 MiB
    up = ingest.uploader(c.desktop, sid)
    await up.upload(segs)
    assert up.stats.chunks_sent == 4 and up.stats.sealed_indexes == [0, 1]
    assert (await up.close(segs)).verification.verified


async def test_upload_resume_close_and_verify(ingest: Ingest, kafka_bootstrap):
    c = await ingest.candidate("c0")
    opened = await ingest.open(c, CAMERA, key="cam-1")
    sid = opened.stream.stream_id
    assert not opened.reopened and opened.limits.max_chunk_bytes == 1 << 20
    segs = segments_of(3, 300_000, "a")
    up = ingest.uploader(c.desktop, sid, chunk_bytes=64 * 1024)
    await up.upload(segs, only=[0])
    # the client restarts: re-open with the same key gives the same stream and where to resume
    again = await ingest.open(c, CAMERA, key="cam-1")
    assert again.reopened and again.stream.stream_id == sid and again.committed.contiguous_segments == 1
    up2 = ingest.uploader(c.desktop, sid, chunk_bytes=100_000)
    await up2.upload(segs)
    assert up2.stats.sealed_indexes == [1, 2], "segment 0 was not sent again"
    closed = await up2.close(segs)
    assert closed.verification.verified and closed.stream.state == pb.STREAM_STATE_VERIFIED, closed
    assert up2.stats.chunks_sent == 6  # 300,000 bytes in chunks of 100,000 as asked
    # bytes identical in storage; the manifest's chain is the spec's chain over what the client sent
    manifest = await ingest.stub.GetManifest(pb.GetManifestRequest(stream_id=sid), metadata=ingest.staff())
    assert [s.segment_index for s in manifest.segments] == [0, 1, 2]
    for seg, entry in zip(segs, manifest.segments, strict=True):
        path = ingest.objects.local_path(entry.object_uri)
        assert path is not None and path.read_bytes() == seg.data
        assert entry.sha256 == seg.sha256 and entry.size_bytes == len(seg.data)
    expected = chain_over(sid, [(i, len(s.data), s.sha256) for i, s in enumerate(segs)])
    assert [e.chain_hash for e in manifest.segments] == expected and manifest.chain_head == expected[-1]
    assert manifest.chain_head == chain_head(sid, segs)
    received = await kafka_events(kafka_bootstrap, MEDIA_SEGMENTS_RECEIVED.name, media_pb2.MediaSegmentReceived,
                                  ingest.sitting_id, 3)
    assert sorted(e.segment_index for e in received) == [0, 1, 2]
    first = next(e for e in received if e.segment_index == 0)
    assert first.meta.event_id == f"{sid}:0:received" and first.object_uri == manifest.segments[0].object_uri
    assert first.size_bytes == 300_000 and first.stream_kind == CAMERA and first.media_duration.seconds == 4
    kinds = await kafka_events(kafka_bootstrap, MEDIA_STREAMS.name, media_pb2.MediaStreamEvent, ingest.sitting_id,
                               lambda got: any(e.kind == media_pb2.MEDIA_STREAM_EVENT_KIND_STREAM_VERIFIED
                                               for e in got))
    assert [e.kind for e in kinds][:1] == [media_pb2.MEDIA_STREAM_EVENT_KIND_STREAM_OPENED]
    assert kinds[-1].kind == media_pb2.MEDIA_STREAM_EVENT_KIND_STREAM_VERIFIED and kinds[-1].stream_id == sid
    # closing again with the same totals is idempotent; other totals are refused
    assert (await up2.close(segs)).verification.verified
    await refused(up2.close(segs[:2]), grpc.StatusCode.FAILED_PRECONDITION, "STREAM_ALREADY_CLOSED")
    await refused(up2.upload(segs), grpc.StatusCode.FAILED_PRECONDITION, "STREAM_CLOSED")


async def test_chunk_rules_over_the_wire(ingest: Ingest):
    c = await ingest.candidate("c0")
    sid = (await ingest.open(c, CAMERA)).stream.stream_id
    seg = segments_of(1, 200_000, "r")[0]
    chunks = chunk_messages(sid, 0, seg, 50_000)

    async def append(chunk: pb.MediaChunk) -> pb.AppendChunkResponse:
        return await ingest.stub.AppendChunk(pb.AppendChunkRequest(chunk=chunk), metadata=c.desktop)

    assert (await append(chunks[0])).chunk_ack.committed_bytes == 50_000
    dup = await append(chunks[0])
    assert dup.chunk_ack.duplicate and dup.chunk_ack.committed_bytes == 50_000
    gap = await refused(append(chunks[2]), grpc.StatusCode.OUT_OF_RANGE, "OFFSET_GAP")
    assert gap.metadata["committed_offset"] == "50000"
    bad = pb.MediaChunk()
    bad.CopyFrom(chunks[0])
    bad.data = b"x" * 50_000
    bad.sha256 = hashlib.sha256(bad.data).digest()
    await refused(append(bad), grpc.StatusCode.ABORTED, "CHUNK_CONFLICT")
    bad.sha256 = b"\x00" * 32
    await refused(append(bad), grpc.StatusCode.INVALID_ARGUMENT, "CHUNK_HASH_MISMATCH")
    big = pb.MediaChunk(stream_id=sid, segment_index=0, offset=50_000, data=b"y" * (1 << 20 | 1))
    big.sha256 = hashlib.sha256(big.data).digest()
    await refused(append(big), grpc.StatusCode.INVALID_ARGUMENT, "CHUNK_TOO_LARGE")
    # a wrong whole-segment hash on the seal: refused, nothing sealed, the right seal still works
    for chunk in chunks[1:3]:
        await append(chunk)
    wrong = pb.MediaChunk()
    wrong.CopyFrom(chunks[3])
    wrong.seal.sha256 = hashlib.sha256(b"other").digest()
    await refused(append(wrong), grpc.StatusCode.INVALID_ARGUMENT, "SEGMENT_HASH_MISMATCH")
    committed = await ingest.stub.GetCommittedOffset(pb.GetCommittedOffsetRequest(stream_id=sid), metadata=c.desktop)
    assert committed.contiguous_segments == 0 and not committed.segments[0].complete
    assert committed.segments[0].committed_bytes == 150_000, "a refused chunk commits none of its bytes"
    sealed = await append(chunks[3])
    assert sealed.segment_ack.sha256 == seg.sha256 and not sealed.segment_ack.duplicate
    again = await append(chunks[3])
    assert again.chunk_ack.duplicate and again.segment_ack.duplicate
    await refused(append(wrong), grpc.StatusCode.FAILED_PRECONDITION, "SEGMENT_SEALED")
    # closing with a segment missing: precise refusal with the missing ranges
    await refused(ingest.stub.CloseStream(pb.CloseStreamRequest(stream_id=sid, segment_count=4, total_bytes=1),
                                          metadata=c.desktop), grpc.StatusCode.FAILED_PRECONDITION, "STREAM_INCOMPLETE")


async def test_who_may_touch_a_stream(ingest: Ingest):
    c0, c1 = await ingest.candidate("c0"), await ingest.candidate("c1")
    sid = (await ingest.open(c0, CAMERA)).stream.stream_id
    seg = segments_of(1, 10_000, "w")[0]
    chunk = chunk_messages(sid, 0, seg, 10_000)[0]
    # another candidate writing into c0's stream
    detail = await refused(ingest.stub.AppendChunk(pb.AppendChunkRequest(chunk=chunk), metadata=c1.desktop),
                           grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_STREAM")
    assert detail.message_zh and detail.message_en
    await refused(ingest.uploader(c1.desktop, sid).upload([seg]), grpc.StatusCode.PERMISSION_DENIED,
                  "NOT_YOUR_STREAM")
    # c0's phone on the desktop stream; c0's desktop opening a phone stream
    await refused(ingest.stub.AppendChunk(pb.AppendChunkRequest(chunk=chunk), metadata=c0.phone),
                  grpc.StatusCode.PERMISSION_DENIED, "WRONG_TOKEN_KIND")
    await refused(ingest.open(c0, PHONE, metadata=c0.desktop), grpc.StatusCode.PERMISSION_DENIED, "WRONG_TOKEN_KIND")
    # c0 opening a stream for c1
    fmt = common_pb2.MediaFormat(container=common_pb2.MEDIA_CONTAINER_WEBM)
    await refused(ingest.stub.OpenStream(pb.OpenStreamRequest(
        sitting_id=ingest.sitting_id, candidate_id="c1", kind=CAMERA, format=fmt, client_stream_key="x"),
        metadata=c0.desktop), grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_STREAM")
    # the same desktop client on another machine (another device id) cannot take over the stream
    other_device = bearer(ingest.exam.face_token("c0", "desk-2"))
    await refused(ingest.stub.AppendChunk(pb.AppendChunkRequest(chunk=chunk), metadata=other_device),
                  grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_STREAM")
    await refused(ingest.stub.AppendChunk(pb.AppendChunkRequest(chunk=chunk)), grpc.StatusCode.UNAUTHENTICATED,
                  "TOKEN_MISSING")
    # reads: a proctor of the other room may not, of the candidate's room may; candidates not manifests
    ts_now = ingest.clock.now.timestamp()
    proctor = ingest.exam.admin.issue(sub="p", role=Role.PROCTOR, ttl_s=600, rooms=("r2",),
                                      sitting_id=ingest.sitting_id, now=ts_now)[0]
    await refused(ingest.stub.GetUploadStatus(pb.GetUploadStatusRequest(sitting_id=ingest.sitting_id,
                                                                        candidate_id="c0"), metadata=bearer(proctor)),
                  grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE")
    mine = ingest.exam.admin.issue(sub="p", role=Role.PROCTOR, ttl_s=600, rooms=("r1",),
                                   sitting_id=ingest.sitting_id, now=ts_now)[0]
    status = await ingest.stub.GetUploadStatus(pb.GetUploadStatusRequest(sitting_id=ingest.sitting_id,
                                                                         candidate_id="c0"), metadata=bearer(mine))
    assert [s.stream_id for s in status.streams] == [sid]
    await refused(ingest.stub.GetManifest(pb.GetManifestRequest(stream_id=sid), metadata=c0.desktop),
                  grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")
    await refused(ingest.stub.GetUploadStatus(pb.GetUploadStatusRequest(sitting_id=ingest.sitting_id,
                                                                        candidate_id="c0"), metadata=c1.desktop),
                  grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_STREAM")
    # a candidate not yet logged in cannot record; an unknown candidate is NOT_FOUND from exam-session
    not_logged = bearer(ingest.exam.face_token("c2"))
    await refused(ingest.stub.OpenStream(pb.OpenStreamRequest(
        sitting_id=ingest.sitting_id, candidate_id="c2", kind=CAMERA, format=fmt, client_stream_key="y"),
        metadata=not_logged), grpc.StatusCode.FAILED_PRECONDITION, "WRONG_STATE")
    ghost = bearer(ingest.exam.face_token("nobody"))
    await refused(ingest.stub.OpenStream(pb.OpenStreamRequest(
        sitting_id=ingest.sitting_id, candidate_id="nobody", kind=CAMERA, format=fmt, client_stream_key="y"),
        metadata=ghost), grpc.StatusCode.NOT_FOUND, "CANDIDATE_NOT_FOUND")
    await refused(ingest.stub.OpenStream(pb.OpenStreamRequest(
        sitting_id=ingest.sitting_id, candidate_id="c0", kind=CAMERA, client_stream_key="z"),
        metadata=c0.desktop), grpc.StatusCode.INVALID_ARGUMENT, "UNSUPPORTED_FORMAT")


async def test_every_required_stream_verified_completes_the_candidate(ingest: Ingest, kafka_bootstrap):
    c = await ingest.candidate("c0")
    scan_segs = segments_of(2, 50_000, "scan")
    scan = await ingest.open(c, SCAN)
    up = ingest.uploader(c.phone, scan.stream.stream_id)
    await up.upload(scan_segs)
    assert (await up.close(scan_segs)).verification.verified
    # exam-session consumed ROOM_SCAN_RECORDED from Kafka: the candidate moved to ROOM_SCANNED
    async with asyncio.timeout(20):
        while True:
            state = await ingest.exam.stub.GetCandidateState(epb.GetCandidateStateRequest(
                sitting_id=ingest.sitting_id, candidate_id="c0"), metadata=ingest.staff())
            if state.candidate.state == common_pb2.CANDIDATE_STATE_ROOM_SCANNED:
                break
            await asyncio.sleep(0.2)
    status = await ingest.stub.GetUploadStatus(pb.GetUploadStatusRequest(
        sitting_id=ingest.sitting_id, candidate_id="c0"), metadata=c.desktop)
    assert not status.progress.complete and status.progress.streams_total == 4
    assert set(status.progress.missing_kinds) == {CAMERA, SCREEN, PHONE}
    for kind, md in ((CAMERA, c.desktop), (SCREEN, c.desktop), (PHONE, c.phone)):
        segs = segments_of(2, 40_000, f"k{kind}")
        opened = await ingest.open(c, kind)
        up = ingest.uploader(md, opened.stream.stream_id)
        await up.upload(segs)
        assert (await up.close(segs)).verification.verified
    status = await ingest.stub.GetUploadStatus(pb.GetUploadStatusRequest(
        sitting_id=ingest.sitting_id, candidate_id="c0"), metadata=c.phone)
    assert status.progress.complete and status.progress.streams_verified == 4 and status.HasField("complete_at")
    events = await kafka_events(kafka_bootstrap, MEDIA_STREAMS.name, media_pb2.MediaStreamEvent, ingest.sitting_id,
                                lambda got: any(e.kind == media_pb2.MEDIA_STREAM_EVENT_KIND_CANDIDATE_UPLOAD_COMPLETE
                                                for e in got))
    done = [e for e in events if e.kind == media_pb2.MEDIA_STREAM_EVENT_KIND_CANDIDATE_UPLOAD_COMPLETE]
    assert len(done) == 1 and done[0].progress.complete and len(done[0].streams) == 4
    assert sum(e.kind == media_pb2.MEDIA_STREAM_EVENT_KIND_ROOM_SCAN_RECORDED for e in events) == 1


async def test_a_failed_verification_is_flagged_not_hidden(ingest: Ingest, kafka_bootstrap):
    c = await ingest.candidate("c0")
    segs = segments_of(3, 20_000, "f")
    sid = (await ingest.open(c, SCREEN)).stream.stream_id
    up = ingest.uploader(c.desktop, sid)
    await up.upload(segs)
    tampered = [segs[0], segs[2], segs[1]]  # the client's chain says another order: mismatch
    closed = await up.close(tampered)
    assert closed.stream.state == pb.STREAM_STATE_VERIFICATION_FAILED
    assert not closed.verification.chain_matches and "CHAIN_MISMATCH" in closed.verification.problems
    incidents = await kafka_events(kafka_bootstrap, INCIDENTS.name, incident_pb2.IncidentEvent, ingest.sitting_id, 1)
    assert incidents[0].incident.kind == common_pb2.INCIDENT_KIND_MEDIA_INVALID
    assert incidents[0].incident.source == common_pb2.INCIDENT_SOURCE_MEDIA
    # staff closing a stream that lost segments: allowed only with a reason, recorded as missing
    sid2 = (await ingest.open(c, CAMERA)).stream.stream_id
    up2 = ingest.uploader(c.desktop, sid2)
    await up2.upload(segs, only=[0, 2])
    req = pb.CloseStreamRequest(stream_id=sid2, segment_count=3, accept_missing=True)
    await refused(ingest.stub.CloseStream(req, metadata=ingest.staff()), grpc.StatusCode.INVALID_ARGUMENT,
                  "FIELD_REQUIRED")
    req.note = "candidate's disk failed during the exam (ticket 4411)"
    closed = await ingest.stub.CloseStream(req, metadata=ingest.staff())
    assert list(closed.verification.missing_segments) == [1]
    assert closed.stream.state == pb.STREAM_STATE_VERIFICATION_FAILED


async def test_late_uploads_are_kept_and_flagged_then_the_window_closes(ingest: Ingest, kafka_bootstrap):
    c = await ingest.candidate("c0")
    segs = segments_of(2, 10_000, "late")
    sid = (await ingest.open(c, CAMERA)).stream.stream_id
    up = ingest.uploader(c.desktop, sid)
    await up.upload(segs, only=[0])
    ingest.clock.move_to(START + timedelta(minutes=151))  # upload deadline is start + 150 min
    await up.upload(segs)
    status = await ingest.stub.GetUploadStatus(pb.GetUploadStatusRequest(
        sitting_id=ingest.sitting_id, candidate_id="c0"), metadata=c.desktop)
    assert status.streams[0].late and status.progress.late
    manifest = await ingest.stub.GetManifest(pb.GetManifestRequest(stream_id=sid), metadata=ingest.staff())
    assert [s.late for s in manifest.segments] == [False, True]
    late = await kafka_events(kafka_bootstrap, MEDIA_STREAMS.name, media_pb2.MediaStreamEvent, ingest.sitting_id,
                              lambda got: any(e.kind == media_pb2.MEDIA_STREAM_EVENT_KIND_LATE_UPLOAD for e in got))
    assert any(e.kind == media_pb2.MEDIA_STREAM_EVENT_KIND_LATE_UPLOAD for e in late)
    # the deadline sweep announces the incomplete upload once, with an incident
    assert await ingest.uploads.sweep_deadlines() == 1
    assert await ingest.uploads.sweep_deadlines() == 0
    missed = await kafka_events(
        kafka_bootstrap, MEDIA_STREAMS.name, media_pb2.MediaStreamEvent, ingest.sitting_id,
        lambda got: any(e.kind == media_pb2.MEDIA_STREAM_EVENT_KIND_UPLOAD_DEADLINE_MISSED for e in got))
    deadline_event = next(e for e in missed if e.kind == media_pb2.MEDIA_STREAM_EVENT_KIND_UPLOAD_DEADLINE_MISSED)
    assert set(deadline_event.progress.missing_kinds) == {SCREEN, PHONE, SCAN}
    ingest.clock.move_to(START + timedelta(minutes=150, days=8))
    fresh = ingest.uploader(bearer(ingest.exam.face_token("c0")), sid)
    await refused(fresh.upload(segments_of(3, 10_000, "late")), grpc.StatusCode.FAILED_PRECONDITION,
                  "UPLOAD_WINDOW_CLOSED")


async def test_a_rebound_phone_replaces_the_old_phones_open_streams(ingest: Ingest):
    c = await ingest.candidate("c0")
    old = await ingest.open(c, PHONE)
    # the phone restarts and is bound again (new device id) with a new bind code
    code = await ingest.exam.stub.IssueBindCode(epb.IssueBindCodeRequest(
        sitting_id=ingest.sitting_id, candidate_id="c0"), metadata=c.desktop)
    bound = await ingest.exam.stub.BindPhone(epb.BindPhoneRequest(bind_code=code.bind_code, device=common_pb2.DeviceInfo(
        kind=common_pb2.DEVICE_KIND_PHONE, device_id="phone-new")))
    await refused(ingest.open(c, PHONE), grpc.StatusCode.UNAUTHENTICATED, "DEVICE_REPLACED")
    new = await ingest.open(c, PHONE, metadata=bearer(bound.device_token))
    status = await ingest.stub.GetUploadStatus(pb.GetUploadStatusRequest(
        sitting_id=ingest.sitting_id, candidate_id="c0"), metadata=ingest.staff())
    by_id = {s.stream_id: s for s in status.streams}
    assert by_id[old.stream.stream_id].state == pb.STREAM_STATE_VERIFICATION_FAILED
    assert "DEVICE_REPLACED" in by_id[old.stream.stream_id].problems
    assert by_id[new.stream.stream_id].state == pb.STREAM_STATE_OPEN


@pytest.fixture
def small_disk(tmp_path):
    """A real 2 MiB ext4 filesystem (loop mount) to fill up."""
    import os
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    image, mount = tmp_path / "disk.img", tmp_path / "mnt"
    mount.mkdir()
    subprocess.run(["truncate", "-s", "2M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True, capture_output=True)
    if subprocess.run(["mount", "-o", "loop", str(image), str(mount)], capture_output=True).returncode != 0:
        pytest.skip("loop mounts are not available on this machine")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


async def test_a_full_disk_refuses_precisely_and_acknowledges_only_durable_bytes(
        pg_dsn, postgres, kafka_bootstrap, small_disk):
    ingest = await start_ingest(pg_dsn, postgres, kafka_bootstrap, small_disk)
    try:
        await sitting(ingest)
        c = await ingest.candidate("c0")
        sid = (await ingest.open(c, CAMERA)).stream.stream_id
        segs = segments_of(12, 250_000, "full")  # 3 MB onto a 2 MiB filesystem
        up = ingest.uploader(c.desktop, sid, chunk_bytes=50_000)
        detail = await refused(up.upload(segs), grpc.StatusCode.RESOURCE_EXHAUSTED, "STORAGE_FULL")
        assert detail.message_zh and "retry" in detail.message_en
        committed = await up.committed()
        assert 0 < committed.bytes_committed < sum(len(s.data) for s in segs)
        # every acknowledged byte is on the disk, and exactly the client's bytes
        for progress in committed.segments:
            key = f"raw/{ingest.sitting_id}/c0/1/{sid}/{progress.segment_index:06d}.seg"
            stored = ingest.objects.read(key, 0, progress.committed_bytes)
            assert stored == segs[progress.segment_index].data[:progress.committed_bytes]
        assert up.stats.acked_bytes and all(
            committed.contiguous_segments > i or {p.segment_index: p.committed_bytes
                                                  for p in committed.segments}.get(i, 0) >= acked
            for i, acked in up.stats.acked_bytes.items())
    finally:
        await stop_ingest(ingest, postgres)
