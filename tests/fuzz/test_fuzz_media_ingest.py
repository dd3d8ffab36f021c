"""Bad input against every MediaIngest RPC (see fuzz_campaign for the phases and the property), with a
real exam-session behind it. The victim's camera stream has segment 0 sealed and segment 1 half
committed; afterwards its committed offsets, manifest and stored bytes must be exactly as before,
and every segment the fuzzee's stream committed must match its stored bytes and the hash chain."""

import hashlib
import uuid
from datetime import timedelta

import grpc
import pytest
from exam_world import token
from fuzz_campaign import Target, campaign_tests
from fuzz_check import close_fuzz_channel, fuzz_channel
from fuzz_protos import Pool
from fuzz_settings import campaign
from fuzz_tokens import bad_tokens
from hypothesis import given
from hypothesis import strategies as st
from ingest_harness import segments_of, sitting, start_ingest, still_jpeg, stop_ingest
from media_support import chunk, committed_bytes, committed_bytes_match

from media_ingest.grpc_api import SERVICE
from media_ingest.stills import is_jpeg
from proctor.common.v1 import common_pb2
from proctor.media.v1 import media_ingest_pb2 as pb
from proctor_runtime.events import ts
from proctor_runtime.tokens import Claims, Role

pytestmark = pytest.mark.infra
SEGMENTS = segments_of(2, size=3000, seed="fuzz")
JPEG = still_jpeg(quality=30)  # a real still (about 20 KB): mutations reach the per-still rules


async def half_uploaded(ingest, who, key):
    """A camera stream: segment 0 sealed, 1000 of segment 1's 3000 bytes committed."""
    opened = await ingest.open(who, key=key)
    sid = opened.stream.stream_id
    s0, s1 = SEGMENTS
    await ingest.stub.AppendChunk(pb.AppendChunkRequest(chunk=chunk(sid, 0, 0, s0.data, len(s0.data), s0.sha256)),
                                  metadata=who.desktop)
    await ingest.stub.AppendChunk(pb.AppendChunkRequest(chunk=chunk(sid, 1, 0, s1.data[:1000])), metadata=who.desktop)
    return sid


async def _snapshot(ingest, stream_id, root):
    staff = ingest.staff()
    offset = await ingest.stub.GetCommittedOffset(pb.GetCommittedOffsetRequest(stream_id=stream_id), metadata=staff)
    manifest = await ingest.stub.GetManifest(pb.GetManifestRequest(stream_id=stream_id), metadata=staff)
    manifest.stream.ClearField("last_activity_at")
    return (offset.SerializeToString(deterministic=True), manifest.SerializeToString(deterministic=True),
            committed_bytes(ingest, manifest, offset))


def _seeds(ingest):
    def seeds(method, ids):
        stream, sid, cid = ids["stream_id"], ids["sitting_id"], ids["candidate_id"]
        s1 = SEGMENTS[1]
        table = {
            "OpenStream": lambda: [pb.OpenStreamRequest(
                sitting_id=sid, candidate_id=cid, kind=common_pb2.STREAM_KIND_DESKTOP_SCREEN,
                format=common_pb2.MediaFormat(container=1, video_codec=2, audio_codec=1),
                client_stream_key="fuzz-key", device_id=f"desk-{cid}")],
            "UploadChunks": lambda: [pb.UploadChunksRequest(header=pb.UploadHeader(stream_id=stream)),
                                     pb.UploadChunksRequest(chunk=chunk(stream, 1, 1000, s1.data[1000:2000])),
                                     pb.UploadChunksRequest(chunk=chunk(stream, 1, 2000, s1.data[2000:], 3000,
                                                                        s1.sha256))],
            "AppendChunk": lambda: [pb.AppendChunkRequest(chunk=chunk(stream, 1, 1000, s1.data[1000:]))],
            "SubmitStills": lambda: [pb.SubmitStillsRequest(stream_id=stream, stills=[
                pb.Still(captured_at=ts(ingest.clock.now + timedelta(seconds=i)), jpeg=JPEG) for i in (1, 2)])],
            "CloseStream": lambda: [pb.CloseStreamRequest(stream_id=stream, segment_count=2, total_bytes=6000,
                                                          chain_head=b"\x01" * 32, reason=1)],
        }
        make = table.get(method)
        return make() if make else None

    return seeds


@pytest.fixture(scope="module")
async def target(postgres, kafka_bootstrap, tmp_path_factory):
    db = f"fuzz_exam_{uuid.uuid4().hex[:10]}"
    postgres.psql(f'CREATE DATABASE "{db}"')
    root = tmp_path_factory.mktemp("fuzz-media-objects")
    ingest = await start_ingest(postgres.settings.pg_dsn_for(db), postgres, kafka_bootstrap, root,
                                open_per_candidate_per_minute=1_000_000)
    await sitting(ingest, candidates=3)
    ingest.clock.move_to(ingest.clock.now + timedelta(minutes=1))
    c0, c1 = await ingest.candidate("c0", "desk-c0"), await ingest.candidate("c1", "desk-c1")
    victim_stream = await half_uploaded(ingest, c0, "victim")
    fuzzee_stream = await half_uploaded(ingest, c1, "fuzzee")
    phone_stream = (await ingest.open(c1, kind=common_pb2.STREAM_KIND_PHONE_EVIDENCE, key="phone")).stream.stream_id
    channel = fuzz_channel(f"127.0.0.1:{ingest.host.port}")
    exam, sid, now = ingest.exam, ingest.sitting_id, ingest.clock.now.timestamp()
    world = type("W", (), {"signers": {"auth-face": exam.auth_face}, "h": exam})
    victim_claims = Claims(sub="c0", role=Role.CANDIDATE, iat=int(now), exp=int(now) + 3600, jti="v",
                           kid=exam.auth_face.kid, sitting_id=sid, candidate_id="c0", device_id="desk-c0")
    wrong = {"other_candidate": c1.desktop, "other_phone": c1.phone, "own_phone_on_desktop_stream": c0.phone,
             "proctor_other_room": exam.proctor(("r2",)),
             "same_candidate_other_sitting": token(world, "auth-face", sub="c0", role=Role.CANDIDATE,
                                                   sitting_id="s-other", candidate_id="c0", device_id="desk-c0"),
             "other_desktop_of_victim": token(world, "auth-face", sub="c0", role=Role.CANDIDATE, sitting_id=sid,
                                              candidate_id="c0", device_id="desk-evil")}
    anyone = {"none": (), "victim": c0.desktop, "fuzzee": c1.desktop, "fuzzee_phone": c1.phone,
              "staff": ingest.staff(), "service": ingest.service(), "proctor_r1": exam.proctor(("r1",))}
    victim = {"sitting_id": sid, "candidate_id": "c0", "stream_id": victim_stream}
    fuzzee = {"sitting_id": sid, "candidate_id": "c1", "stream_id": fuzzee_stream}
    pool = Pool({"sitting_id": [sid, "s-other"], "candidate_id": ["c0", "c1", "c2", "nobody"],
                 "stream_id": [victim_stream, fuzzee_stream, phone_stream, "st-unknown"],
                 "client_stream_key": ["victim", "fuzzee", "phone"], "device_id": ["desk-c0", "desk-c1"],
                 "page_token": ["", "0", "-5", "99999999999999999999", "abc"]})

    async def known_good():
        await committed_bytes_match(ingest, fuzzee_stream)
        await committed_bytes_match(ingest, victim_stream)
        # the witness c2 uploads a whole stream and closes it verified
        c2 = await ingest.candidate("c2", "desk-c2")
        opened = await ingest.open(c2, key="witness")
        stream = opened.stream.stream_id
        still = pb.Still(captured_at=ts(ingest.clock.now), jpeg=JPEG)  # live stills while it records
        reply = await ingest.stub.SubmitStills(pb.SubmitStillsRequest(stream_id=stream, stills=[still]),
                                               metadata=c2.desktop)
        assert reply.accepted == 1, reply
        uploader = ingest.uploader(c2.desktop, stream)
        await uploader.upload(SEGMENTS)
        closed = await uploader.close(SEGMENTS)
        assert closed.verification.verified, closed

    t = Target(SERVICE, channel, frozenset(), victim, fuzzee, pool,
               bad_tokens(exam.auth_face, victim_claims, now), wrong, anyone,
               snapshot=lambda: _snapshot(ingest, victim_stream, root), known_good=known_good, seeds=_seeds(ingest),
               owners=("fuzzee", "fuzzee_phone"))
    t.notes["victim_desktop"] = c0.desktop
    t.notes["victim_anchor"] = ingest.clock.now  # the victim's stream was opened at this (unmoved) time
    t.baseline = await t.snapshot()
    yield t
    await close_fuzz_channel(channel)
    await stop_ingest(ingest, postgres)
    postgres.psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _owner_garbage(stream: str, kind: str, at: int, junk: bytes) -> tuple[str, pb.MediaChunk]:
    """A chunk for the victim's stream that its owner might send by mistake, each one invalid."""
    s0, s1 = SEGMENTS
    junk = junk or b"\x00"
    if kind == "hash_of_other_bytes":
        good = chunk(stream, 1, 1000, s1.data[1000:1000 + len(junk)])
        return kind, pb.MediaChunk(stream_id=stream, segment_index=1, offset=1000, data=junk[:1] + good.data[1:],
                                   sha256=good.sha256) if junk[:1] != good.data[:1] else (kind, pb.MediaChunk(
                                       stream_id=stream, segment_index=1, offset=1000, data=good.data,
                                       sha256=bytes(32)))[1]
    if kind == "conflicting_overlap":
        offset = at % 1000
        data = bytes(b ^ 0xFF for b in s1.data[offset:offset + len(junk) + 1])
        return kind, chunk(stream, 1, offset, data)
    if kind == "gap":
        return kind, chunk(stream, 1, 1001 + at % 5000, junk)
    if kind == "rewrite_sealed":
        return kind, chunk(stream, 0, at % 3000, bytes(b ^ 0x55 for b in s0.data[at % 3000:at % 3000 + 10]))
    if kind == "bad_seal_sha":
        return kind, chunk(stream, 1, 1000, s1.data[1000:], 3000, hashlib.sha256(junk).digest())
    if kind == "bad_seal_size":
        return kind, chunk(stream, 1, 1000, s1.data[1000:], 3000 + 1 + at % 100, s1.sha256)
    if kind == "empty":
        return kind, pb.MediaChunk(stream_id=stream, segment_index=1, offset=1000, data=b"",
                                   sha256=hashlib.sha256(b"").digest())
    return kind, chunk(stream, 2**32 - 1, 0, junk)  # "segment_far_away": beyond any sane segment count


OWNER_GARBAGE = ("hash_of_other_bytes", "conflicting_overlap", "gap", "rewrite_sealed", "bad_seal_sha", "bad_seal_size",
                 "empty", "segment_far_away")


@campaign()
@given(kind=st.sampled_from(OWNER_GARBAGE), at=st.integers(0, 2**16), junk=st.binary(max_size=2048),
       unary=st.booleans())
async def test_owner_garbage_on_the_victims_stream_is_refused(target, kind, at, junk, unary):
    """The victim's own desktop sends broken chunks for its half-uploaded segment: each refused with a
    precise reason, nothing committed (checked by test_victim_unchanged below)."""
    stream = target.victim["stream_id"]
    label, bad = _owner_garbage(stream, kind, at, junk)
    md = target.notes["victim_desktop"]

    def refused(outcome):
        return f"{label} was accepted" if outcome.code == grpc.StatusCode.OK and not outcome.cancelled_by_us else None

    if unary:
        await target.send("AppendChunk", f"owner:{label}", [pb.AppendChunkRequest(chunk=bad).SerializeToString()], md,
                          refused)
    else:
        frames = [pb.UploadChunksRequest(header=pb.UploadHeader(stream_id=stream)), pb.UploadChunksRequest(chunk=bad)]
        outcome = await target.send("UploadChunks", f"owner:{label}", [f.SerializeToString() for f in frames], md)
        acks = [pb.UploadChunksResponse.FromString(r) for r in outcome.responses]
        assert not any(a.WhichOneof("frame") in ("chunk_ack", "segment_ack") for a in acks), (label, acks)


STILL_GARBAGE = {"junk": (grpc.StatusCode.INVALID_ARGUMENT, "STILL_NOT_JPEG"),
                 "truncated": (grpc.StatusCode.INVALID_ARGUMENT, "STILL_NOT_JPEG"),
                 "too_large": (grpc.StatusCode.RESOURCE_EXHAUSTED, "STILL_TOO_LARGE"),
                 "no_time": (grpc.StatusCode.INVALID_ARGUMENT, "STILL_TIME_INVALID"),
                 "too_early": (grpc.StatusCode.INVALID_ARGUMENT, "STILL_TIME_INVALID"),
                 "too_late": (grpc.StatusCode.INVALID_ARGUMENT, "STILL_TIME_INVALID"),
                 "too_many": (grpc.StatusCode.INVALID_ARGUMENT, "TOO_MANY_STILLS")}


def _bad_stills(kind: str, at: int, junk: bytes, anchor) -> list[pb.Still]:
    """Stills the victim's own desktop might send by mistake, each batch invalid."""
    when = ts(anchor + timedelta(seconds=1))
    if kind == "junk":
        return [pb.Still(captured_at=when, jpeg=b"\x00" + junk)]
    if kind == "truncated":
        cut = JPEG[:at % (len(JPEG) - 2)]
        return [pb.Still(captured_at=when, jpeg=cut if not is_jpeg(cut) else b"")]
    if kind == "too_large":
        return [pb.Still(captured_at=when, jpeg=JPEG[:-2] + bytes(256 * 1024 + at % 1000) + b"\xff\xd9")]
    if kind == "no_time":
        return [pb.Still(jpeg=JPEG)]
    if kind == "too_early":
        return [pb.Still(captured_at=ts(anchor - timedelta(seconds=61 + at)), jpeg=JPEG)]
    if kind == "too_late":
        return [pb.Still(captured_at=ts(anchor + timedelta(hours=24, seconds=1 + at)), jpeg=JPEG)]
    return [pb.Still(captured_at=when, jpeg=JPEG)] * (65 + at % 100)  # "too_many"


@campaign(0.5)
@given(kind=st.sampled_from(sorted(STILL_GARBAGE)), at=st.integers(0, 2**16), junk=st.binary(max_size=2048),
       good_before=st.integers(0, 3))
async def test_owner_garbage_stills_are_refused(target, kind, at, junk, good_before):
    """The victim's own desktop sends broken live stills (after 0-3 good ones in the same call): the whole
    call is refused with the precise reason of the broken one."""
    anchor = target.notes["victim_anchor"]
    good = [pb.Still(captured_at=ts(anchor + timedelta(seconds=i)), jpeg=JPEG) for i in range(good_before)]
    req = pb.SubmitStillsRequest(stream_id=target.victim["stream_id"], stills=[*good, *_bad_stills(kind, at, junk,
                                                                                                     anchor)])
    code, reason = STILL_GARBAGE[kind]

    def precise(outcome):
        got = (outcome.code, outcome.detail.reason if outcome.detail else None)
        return None if got == (code, reason) else f"{kind}: got {got}, not {(code, reason)}"

    await target.send("SubmitStills", f"owner:{kind}", [req.SerializeToString()], target.notes["victim_desktop"],
                      precise)


async def test_regression_undecodable_message_in_a_client_stream(target):
    """Found by this campaign: a client-stream message that is no protobuf was answered UNKNOWN without a
    detail (gRPC's deserializer failed before any handler); now INVALID_ARGUMENT REQUEST_MALFORMED."""
    header = pb.UploadChunksRequest(header=pb.UploadHeader(stream_id=target.fuzzee["stream_id"]))
    outcome = await target.send("UploadChunks", "regression", [header.SerializeToString(), b"\x12\xff\xff\x03"],
                                target.anyone["fuzzee"])
    assert (outcome.code, outcome.detail.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_MALFORMED"), outcome


async def test_regression_close_with_billions_of_segments(target):
    """Found by this campaign (PROCTOR_FUZZ_EXAMPLES=400): CloseStream with segment_count 2^32-1 listed
    every missing index in memory under the stream's row lock; the test process (the service) grew to
    22 GB and was OOM-killed. Now INVALID_ARGUMENT FIELD_INVALID above UploadLimits.max_segments."""
    close = pb.CloseStreamRequest(stream_id=target.fuzzee["stream_id"], segment_count=2**32 - 1, total_bytes=1,
                                  accept_missing=True, note="x")
    outcome = await target.send("CloseStream", "regression", [close.SerializeToString()], target.anyone["fuzzee"])
    assert (outcome.code, outcome.detail.reason, outcome.detail.metadata["field"]) == (
        grpc.StatusCode.INVALID_ARGUMENT, "FIELD_INVALID", "segment_count"), outcome


globals().update(campaign_tests(SERVICE))
