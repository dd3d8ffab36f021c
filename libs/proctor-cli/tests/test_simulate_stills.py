"""``proctor simulate``'s segment lengths and live stills, on their own (no services): the stills of an
encoded segment, the rendered lengths in whole segments, where injections fall, which still a client sends
when and with which capture time, and how it sends them (online, offline, backlog, retry)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest

from media_ingest.config import Settings as MediaIngestSettings
from proctor.common.v1 import common_pb2 as c
from proctor.media.v1 import media_ingest_pb2 as mpb
from proctor_cli.simulate import command, plan, report
from proctor_cli.simulate.candidate import Recorder, Stubs
from proctor_cli.simulate.media import (
    DURATION_S,
    FPS,
    NORMAL_MIN_S,
    Footage,
    H,
    Identity,
    Sources,
    W,
    anomaly_seconds,
    encode,
    normal_seconds,
    stills_of,
    whole_segments,
)
from proctor_cli.simulate.stills import StillLimits, StillSender, capture_time, fit, positions, still_position
from proctor_cli.simulate.studio import Feed, camera_feed

T0 = datetime(2026, 6, 7, 9, 0, tzinfo=UTC)


def _flashes(seconds: int) -> np.ndarray:
    """Black frames, except the first frame of each second: grey, brighter every second (20 + 20 k)."""
    seq = np.zeros((seconds * FPS, H, W, 3), np.uint8)
    for k in range(seconds):
        seq[k * FPS] = 20 + 20 * k
    return seq


def _decoded(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


@pytest.mark.parametrize(("segment_s", "count"), [(10, 1), (4, 2)])
def test_stills_of_a_segment_are_its_frames_at_each_second(tmp_path, segment_s, count):
    seq = _flashes(segment_s * count)
    files = encode(seq, tmp_path, segment_s)
    assert len(files) == count
    for s, path in enumerate(files):
        stills = stills_of(path.read_bytes())
        assert len(stills) == segment_s  # one per second of the segment
        for k, jpeg in enumerate(stills):
            image = _decoded(jpeg)
            assert image.shape == (H, W, 3)
            # the frame at k s into this segment (the only non-black frame of that second)
            assert abs(float(image.mean()) - (20 + 20 * (s * segment_s + k))) < 4


def test_stills_of_scales_down_to_the_longest_side(tmp_path):
    files = encode(_flashes(2), tmp_path, 2)
    stills = stills_of(files[0].read_bytes(), max_side=320)
    assert [_decoded(j).shape for j in stills] == [(180, 320, 3)] * 2


def test_footage_caches_segments_and_stills_on_disk_and_in_memory(tmp_path):
    src = Sources([], [], [], [], origin="test", cache=tmp_path)
    made = src.footage("flash", lambda: _flashes(4), 2)
    assert len(made.segments) == 2 and [len(s) for s in made.stills] == [2, 2]
    folder = next(tmp_path.glob("simulate-*/flash-2s"))
    assert (folder / "stills-done").exists() and (folder / "still-0001-001.jpg").exists()
    assert src.footage("flash", _never, 2) is made  # memoised

    again = Sources([], [], [], [], origin="test", cache=tmp_path).footage("flash", _never, 2)
    assert again == made  # from disk, not rendered again


def _never() -> np.ndarray:
    raise AssertionError("rendered again")


def test_lengths_are_whole_segments():
    assert set(DURATION_S.values()) == {10, 30}  # whole 10-s segments (the short sittings' length)
    assert all(anomaly_seconds(k, 10) == DURATION_S[k] for k in DURATION_S)
    for seg in (1, 2, 4, 10, 30):
        for k, seconds in DURATION_S.items():
            got = anomaly_seconds(k, seg)
            assert got % seg == 0 and seconds <= got < seconds + seg
    assert whole_segments(0.2, 10) == 10 and whole_segments(20.0, 10) == 20 and whole_segments(20.01, 10) == 30
    # a clip shorter than a segment (lamia's window is 4.6 s) still gives whole segments, at least 20 s
    assert normal_seconds(4.6, 10) == 20 and normal_seconds(12.5, 10) == 30 and normal_seconds(4.6, 4) == 20
    assert all(normal_seconds(s, seg) % seg == 0 and normal_seconds(s, seg) >= NORMAL_MIN_S
               for s in (0.5, 4.6, 7.2, 11.8, 30.0) for seg in (1, 2, 4, 10))


class _Sources:
    """What ``plan.build`` needs of the media sources."""

    def __init__(self) -> None:
        self.identities = [Identity("a", Path("a.mp4")), Identity("b", Path("b.mp4"), away=(Path("b.mp4"), [(0, 1)]))]

    def kinds(self, identity: Identity) -> list[int]:
        kinds: list[int] = [c.INCIDENT_KIND_IDENTITY_MISMATCH, c.INCIDENT_KIND_MULTIPLE_FACES, c.INCIDENT_KIND_NO_FACE]
        return kinds + ([c.INCIDENT_KIND_GAZE_AWAY] if identity.away else [])


@pytest.mark.parametrize("segment_s", [1, 2, 4, 10, 30])
def test_camera_injections_start_on_a_segment_and_end_a_segment_before_the_exam(segment_s):
    # speed 30: a 180-s exam, room for 30-s segments
    cfg = plan.SimConfig(candidates=20, cheaters=10, speed=30, seed=3, segment_s=segment_s)
    timeline = plan.Timeline.compressed(cfg, T0)
    plans = plan.build(cfg, _Sources(), timeline)  # type: ignore[arg-type]
    camera = [(p, i) for p in plans for i in p.injections if not i.telemetry]
    assert len(camera) == 10
    for p, inj in camera:
        assert inj.at_s % segment_s == 0 and inj.at_s >= plan.WARM_UP_S
        # the anomaly lasts its own length whatever the segments; its footage takes whole segments
        assert inj.seconds == DURATION_S[inj.kind]
        footage = anomaly_seconds(inj.kind, segment_s)
        # the recording (from about 1 s into the exam, whole segments only) holds all of its segments
        assert inj.at_s + footage <= segment_s * ((timeline.exam_s - 2) // segment_s)
        others = [(i.at_s, i.at_s + i.seconds) for i in p.injections if i is not inj]
        if p.drop is not None:
            others.append((p.drop.at_s, p.drop.at_s + p.drop.seconds))
        assert all(inj.at_s + footage + plan.APART_S <= a or inj.at_s >= b + plan.APART_S for a, b in others)


def test_still_position_and_capture_time():
    assert still_position(0, 10) == (0, 0) and still_position(9, 10) == (0, 9) and still_position(10, 10) == (1, 0)
    assert still_position(23.5, 10) == (2, 3) and still_position(7, 2) == (3, 1)
    assert capture_time(T0, 10, 2, 3) == T0 + timedelta(seconds=23)
    every = list(positions(10, 1.0, 3))
    assert [(i, k) for _, i, k in every] == [(i, k) for i in range(3) for k in range(10)]
    assert all(capture_time(T0, 10, i, k) == T0 + timedelta(seconds=e) for e, i, k in every)
    # a shorter interval repeats no frame; a longer one skips some; none after the last whole segment
    assert [(i, k) for _, i, k in positions(2, 0.5, 2)] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [(i, k) for _, i, k in positions(10, 4.0, 2)] == [(0, 0), (0, 4), (0, 8), (1, 2), (1, 6)]


def _footage(tag: str, segments: int, segment_s: int) -> Footage:
    return Footage([f"{tag}{s}".encode() for s in range(segments)],
                   [[f"{tag}{s}.{k}".encode() for k in range(segment_s)] for s in range(segments)])


def test_camera_stills_show_the_anomaly_within_its_ground_truth():
    seg = 10
    inj = plan.Injection(c.INCIDENT_KIND_IDENTITY_MISMATCH, at_s=20, seconds=30)
    feed = camera_feed(_footage("n", 2, seg), [(inj, _footage("x", 3, seg))], seg)
    _check_truth(feed, inj, seg, 7, [b"n0", b"n1", b"x0", b"x1", b"x2", b"n1", b"n0"], 20, 50)


def test_an_anomaly_shorter_than_a_segment_ends_inside_it():
    # 30-s segments, a 10-s anomaly: its segment shows it for the first 10 s (stills "x0.0".."x0.9"), then the
    # person again ("y..." below stands for that honest rest of the anomaly footage)
    seg = 30
    inj = plan.Injection(c.INCIDENT_KIND_NO_FACE, at_s=30, seconds=10)
    anomaly = Footage([b"x0"], [[(b"x0.%d" if k < 10 else b"y0.%d") % k for k in range(seg)]])
    feed = camera_feed(_footage("n", 2, seg), [(inj, anomaly)], seg)
    _check_truth(feed, inj, seg, 3, [b"n0", b"x0", b"n0"], 30, 40)


def _check_truth(feed: Feed, inj: plan.Injection, seg: int, count: int, segments: list[bytes], start_s: int,
                 end_s: int) -> None:
    assert feed.stills is not None
    rec = Recorder(_stubs(None), (), {}, c.STREAM_KIND_DESKTOP_CAMERA, c.MediaFormat(), feed, seg, started=T0)
    for _ in range(count):
        rec.record()
    assert [s.data for s in rec.recorded] == segments
    # segment i is captured from the recording's start + i segments; the truth is when the anomaly shows
    assert [s.start for s in rec.recorded] == [T0 + timedelta(seconds=seg * i) for i in range(count)]
    assert (inj.start, inj.end) == (T0 + timedelta(seconds=start_s), T0 + timedelta(seconds=end_s))
    for e, i, k in positions(seg, 1.0, count):
        shown = feed.stills(i)[k]
        at = capture_time(T0, seg, i, k)
        assert shown.startswith(b"x") == (inj.start <= at < inj.end), (e, shown)
        assert rec.recorded[i].start + timedelta(seconds=k) == at


class _Media:
    """A MediaIngest stub's SubmitStills: records what it got; fails as told first."""

    def __init__(self, failures: list[grpc.StatusCode] | None = None) -> None:
        self.calls: list[mpb.SubmitStillsRequest] = []
        self.failures = list(failures or [])

    async def SubmitStills(self, request, metadata=()):
        if self.failures:
            raise grpc.aio.AioRpcError(self.failures.pop(0), grpc.aio.Metadata(), grpc.aio.Metadata(), "down")
        self.calls.append(request)
        return mpb.SubmitStillsResponse(accepted=len(request.stills))


def _stubs(media):
    return Stubs(exam=None, auth=None, media=media, staff=())  # type: ignore[arg-type]


def _sender(media: _Media, faults: list[str | None], per_call: int = 3) -> StillSender:
    return StillSender(media, (), "s1", StillLimits(1.0, 256 * 1024, 640, per_call),  # type: ignore[arg-type]
                       lambda i: [f"{i}.{k}".encode() for k in range(10)], 10, faults.append)


async def test_sender_sends_one_still_per_call_online_and_the_backlog_in_order_after_a_drop():
    media, faults = _Media(), []
    sender = _sender(media, faults)
    online = {"up": False}
    done = asyncio.Event()
    task = asyncio.create_task(sender._send(lambda: online["up"], done))
    for k in range(7):  # captured while offline: kept
        sender._capture(T0, 0, k)
    await asyncio.sleep(0.3)
    assert media.calls == [] and len(sender.backlog) == 7
    online["up"] = True  # reconnect: the backlog first, oldest first, at most 3 per call
    await asyncio.sleep(0.3)
    sender._capture(T0, 0, 7)  # then, keeping up: one per call
    await asyncio.sleep(0.3)
    done.set()
    await asyncio.wait_for(task, 2)
    assert [len(call.stills) for call in media.calls] == [3, 3, 1, 1]
    sent = [s for call in media.calls for s in call.stills]
    assert [s.jpeg for s in sent] == [f"0.{k}".encode() for k in range(8)]
    assert [s.captured_at.ToDatetime(UTC) for s in sent] == [T0 + timedelta(seconds=k) for k in range(8)]
    assert sender.counts() == {"captured": 8, "sent": 8, "accepted": 8, "unsent": 0} and faults == []


async def test_sender_retries_unavailable_with_the_same_request_and_counts_refusals():
    media, faults = _Media([grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAVAILABLE]), []
    sender = _sender(media, faults)
    sender._capture(T0, 1, 2)
    await sender._submit(list(sender.backlog), lambda: True)
    assert len(media.calls) == 1 and media.calls[0].stills[0].jpeg == b"1.2" and sender.sent == 1 and not faults
    media.failures = [grpc.StatusCode.FAILED_PRECONDITION] * 2
    for k in (3, 4):
        sender._capture(T0, 1, k)
        await sender._submit(sender.backlog[:1], lambda: True)
    assert sender.backlog == [] and sender.sent == 1
    assert len(faults) == 2 and faults[0] and "FAILED_PRECONDITION" in faults[0] and faults[1] is None


async def test_sender_runs_in_real_time_until_the_last_whole_segment():
    media, faults = _Media(), []
    sender = StillSender(media, (), "s1", StillLimits(1.0, 0, 0, 64),  # type: ignore[arg-type]
                         lambda i: [f"{i}.{k}".encode() for k in range(2)], 2, faults.append)
    started = datetime.now(UTC)
    await asyncio.wait_for(sender.run(started, started + timedelta(seconds=3.5), lambda: True), 6)
    # 3.5 s: one whole 2-s segment recorded, so its two stills and no more
    assert [s.jpeg for call in media.calls for s in call.stills] == [b"0.0", b"0.1"]
    assert [len(call.stills) for call in media.calls] == [1, 1] and not faults


def test_fit_keeps_a_still_within_the_limits():
    jpeg = cv2.imencode(".jpg", np.asarray(np.random.default_rng(1).integers(0, 255, (H, W, 3)), np.uint8))[1]
    jpeg = jpeg.tobytes()
    assert fit(jpeg, 640, 0) is jpeg and fit(jpeg, 0, 0) is jpeg
    small = fit(jpeg, 320, 0)
    assert small is not None and _decoded(small).shape == (180, 320, 3)
    squeezed = fit(jpeg, 640, len(jpeg) // 2)
    assert squeezed is not None and len(squeezed) <= len(jpeg) // 2
    assert fit(jpeg, 640, 100) is None


def test_limits_announced_by_the_server():
    limits = mpb.UploadLimits(still_interval=timedelta(seconds=1), still_max_bytes=262144, still_max_side=640,
                              max_stills_per_call=64)
    assert StillLimits.announced(limits) == StillLimits(1.0, 262144, 640, 64)
    assert StillLimits.announced(mpb.UploadLimits(segment_duration=timedelta(seconds=10))) is None


def test_report_counts_stills_per_stream_kind():
    class Rec:
        def __init__(self, counts):
            self.stills = None if counts is None else type("S", (), {"counts": lambda _self: counts})()

    streams = [{"desktop_camera": Rec({"captured": 5, "sent": 5, "accepted": 4, "unsent": 0}),
                "desktop_screen": Rec(None)},
               {"desktop_camera": Rec({"captured": 3, "sent": 2, "accepted": 2, "unsent": 1}),
                "phone_evidence": Rec({"captured": 4, "sent": 4, "accepted": 4, "unsent": 0})}]
    assert report.stills_flow(streams) == {
        "desktop_camera": {"streams": 2, "captured": 8, "sent": 7, "accepted": 6, "unsent": 1},
        "phone_evidence": {"streams": 1, "captured": 4, "sent": 4, "accepted": 4, "unsent": 0}}


def test_default_segment_lengths():
    # media-ingest's 30 s when the compressed exam leaves room for them, 10 s in a short one; or as asked
    long, short = plan.SimConfig(speed=30), plan.SimConfig(speed=60)
    assert (long.segment_s, long.phone_segment_s, long.screen_segment_s) == (30, 30, 30)
    assert (short.segment_s, short.phone_segment_s, short.screen_segment_s) == (10, 10, 10)
    asked = plan.SimConfig(speed=30, segment_s=4)
    assert (asked.segment_s, asked.phone_segment_s) == (4, 30)
    assert MediaIngestSettings().segment_seconds(c.STREAM_KIND_DESKTOP_CAMERA) == long.segment_s
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    args = parser.parse_args(["simulate"])
    assert (args.segment_seconds, args.phone_segment_seconds, args.screen_segment_seconds) == (0, 0, 0)
    assert parser.parse_args(["simulate", "--segment-seconds", "2"]).segment_seconds == 2
    assert Feed(lambda i, _s: b"").stills is None  # the screen and the room scan send no stills
