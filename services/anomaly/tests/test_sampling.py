"""Frame sampling from segments: keyframes-only vs decode-what-is-needed, capture times and offsets,
the display rotation, downscaling, and segments that cannot be decoded."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest
from anomaly_clips import T0, astronaut_portrait, room, session_pack, webcam_frame, write_clip

from anomaly.sampling import SamplingStats, SegmentUnreadable, choose_mode, keyframe_interval, sample_frames
from proctor.common.v1 import common_pb2 as c


def levels_clip(path, seconds=5, fps=10, gop=10, codec="libx264", size=(320, 240), bframes=False):
    """Second i shows a picture whose mean grey level is 40 + 30 i: which second a sample came from
    can be read back from the picture."""
    scenes = []
    for i in range(seconds):
        image = room(size).astype(np.float32)
        image = image - image.mean() + 40 + 30 * i
        scenes.append((np.clip(image, 0, 255).astype(np.uint8), 1.0))
    write_clip(path, scenes, fps=fps, gop=gop, codec=codec)
    if bframes:  # re-encode with x264's default B-frames
        with av.open(str(path)) as src, av.open(str(path.with_suffix(".b.mp4")), "w") as out:
            stream = out.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
            stream.codec_context.gop_size = gop
            stream.codec_context.options = {"preset": "ultrafast", "bf": "3", "sc_threshold": "0"}
            for frame in src.decode(video=0):
                frame.pict_type = av.video.frame.PictureType.NONE
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
        return path.with_suffix(".b.mp4")
    return path


def sample(path, **kw):
    stats = SamplingStats()
    frames = list(sample_frames(path, stream_kind=c.STREAM_KIND_DESKTOP_CAMERA, segment_id="stream-1:7",
                                media_start=T0, stream_offset=timedelta(seconds=100),
                                keyframe_interval=kw.pop("keyframe_interval", keyframe_interval(path)),
                                stats=stats, **kw))
    return frames, stats


def second_of(frame) -> int:
    return round((float(cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY).mean()) - 40) / 30)


def test_keyframes_only_when_the_interval_allows(tmp_path):
    path = levels_clip(tmp_path / "k.mp4", gop=10)  # a keyframe every second
    assert keyframe_interval(path) == timedelta(seconds=1)
    frames, stats = sample(path)
    assert stats.mode == "keyframes" and stats.sampled == 5 and stats.decoded == 5 and stats.packets == 50
    assert [f.captured_at - T0 for f in frames] == [timedelta(seconds=i) for i in range(5)]
    assert [f.stream_offset for f in frames] == [timedelta(seconds=100 + i) for i in range(5)]
    assert [second_of(f) for f in frames] == [0, 1, 2, 3, 4]
    assert all(f.keyframe and f.segment_id == "stream-1:7" and f.image.shape == (240, 320, 3) for f in frames)


def test_decode_mode_decodes_only_up_to_each_sample(tmp_path):
    path = levels_clip(tmp_path / "d.mp4", gop=40)  # keyframes at 0 and 4 s
    frames, stats = sample(path)
    assert stats.mode == "decode" and stats.sampled == 5
    assert [second_of(f) for f in frames] == [0, 1, 2, 3, 4]
    assert [f.captured_at - T0 for f in frames] == [timedelta(seconds=i) for i in range(5)]
    assert stats.decoded == 31 + 1  # GOP 1: up to the 3 s sample (frame 30); GOP 2: its keyframe only
    assert [f.keyframe for f in frames] == [True, False, False, False, True]


def test_forced_modes_and_rates(tmp_path):
    path = levels_clip(tmp_path / "r.mp4", gop=10)
    frames, stats = sample(path, mode="decode", rate=2.0)
    assert stats.mode == "decode" and [round((f.captured_at - T0).total_seconds(), 1) for f in frames] == [
        0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5]
    frames, stats = sample(path, rate=0.5)  # keyframes every 1 s, samples every 2 s
    assert stats.mode == "keyframes" and [second_of(f) for f in frames] == [0, 2, 4]
    assert choose_mode(timedelta(seconds=1.25), 1.0) == "keyframes"  # the phone clips' GOP
    assert choose_mode(timedelta(seconds=1.3), 1.0) == "decode"
    assert choose_mode(None, 1.0) == "decode"


def test_b_frames_are_sampled_in_presentation_order(tmp_path):
    path = levels_clip(tmp_path / "b.mp4", gop=25, bframes=True)
    frames, stats = sample(path, mode="decode")
    assert [second_of(f) for f in frames] == [0, 1, 2, 3, 4]
    assert stats.decoded < stats.packets


def test_declined_keyframes_are_never_decoded_and_each_question_follows_the_frame_before(tmp_path):
    """Adaptive sampling: ``want`` is asked for each sample time only once the frames before it were
    consumed (a B-frame stream holds a keyframe back in the decoder otherwise), and a declined
    keyframe is not decoded at all."""
    path = levels_clip(tmp_path / "b.mp4", seconds=6, gop=10, bframes=True)
    events: list[str] = []

    def want(t):
        second = round((t - T0).total_seconds())
        events.append(f"ask {second}")
        return second % 3 == 0

    stats = SamplingStats()
    for frame in sample_frames(path, stream_kind=c.STREAM_KIND_DESKTOP_CAMERA, segment_id="s:0", media_start=T0,
                               stream_offset=timedelta(0), keyframe_interval=keyframe_interval(path), stats=stats,
                               want=want):
        events.append(f"got {second_of(frame)}")
    assert stats.mode == "keyframes"
    assert events == ["ask 0", "got 0", "ask 1", "ask 2", "ask 3", "got 3", "ask 4", "ask 5"]
    assert stats.decoded == 2 and stats.sampled == 2 and stats.skipped == 4
    everything, _ = sample(path)
    assert [second_of(f) for f in everything] == [0, 1, 2, 3, 4, 5]  # the same clip, nothing declined


def test_in_decode_mode_a_declined_frame_is_decoded_but_not_yielded(tmp_path):
    path = levels_clip(tmp_path / "long-gop.mp4", gop=25, bframes=True)
    frames, stats = sample(path, mode="decode", want=lambda t: (t - T0).total_seconds() > 2.5)
    assert [second_of(f) for f in frames] == [3, 4] and stats.skipped == 3


def test_vp9_webm_from_a_browser(tmp_path):
    path = levels_clip(tmp_path / "v.webm", codec="libvpx-vp9", gop=20)
    frames, stats = sample(path)
    assert stats.mode == "decode" and [second_of(f) for f in frames] == [0, 1, 2, 3, 4]


def test_display_rotation_is_honoured(tmp_path):
    """A phone stores a portrait picture sideways with a -90 degree display matrix: the sampled
    frame must be the upright picture."""
    upright = webcam_frame(astronaut_portrait(), size=(240, 320), face_height=200)  # portrait 240x320
    stored = cv2.rotate(upright, cv2.ROTATE_90_COUNTERCLOCKWISE)  # what the sensor wrote: 320x240
    path = write_clip(tmp_path / "rot.mp4", [(stored, 2.0)], gop=10, rotation=-90)
    frames, stats = sample(path)
    assert stats.rotation == 90 and frames[0].image.shape == (320, 240, 3)
    got = frames[0].image.astype(np.float32)
    assert np.abs(got - upright).mean() < 6
    assert np.abs(got - cv2.rotate(upright, cv2.ROTATE_180)).mean() > 20


def test_longest_side_downscaled_to_the_maximum(tmp_path):
    wide = cv2.resize(room(), (1280, 720))
    frames, _ = sample(write_clip(tmp_path / "hd.mp4", [(wide, 1.0)], gop=10))
    assert frames[0].image.shape == (360, 640, 3)
    tall = cv2.resize(room(), (720, 1280))
    frames, _ = sample(write_clip(tmp_path / "tall.mp4", [(cv2.rotate(tall, cv2.ROTATE_90_CLOCKWISE), 1.0)],
                                  gop=10, rotation=90))
    assert frames[0].image.shape == (640, 360, 3)  # upright 720x1280 -> 640 high
    frames, _ = sample(tmp_path / "hd.mp4", max_width=0)
    assert frames[0].image.shape == (720, 1280, 3)


def audio_only(path):
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=48000)
        stream.layout = "mono"
        for i in range(20):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = 48000, i * 1024, Fraction(1, 48000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.mark.parametrize("make, reason", [
    (lambda p: p.write_bytes(np.random.default_rng(3).bytes(50_000)) and p, "open_failed"),
    (lambda p: p.write_bytes(b"") or p, "open_failed"),
    (lambda p: audio_only(p), "no_video_track"),
])
def test_undecodable_segments_raise_a_clear_error(tmp_path, make, reason):
    path = tmp_path / "bad.mp4"
    path = make(path) or path
    with pytest.raises(SegmentUnreadable) as err:
        list(sample_frames(path, stream_kind=1, segment_id="s:0", media_start=T0, stream_offset=timedelta(0),
                           keyframe_interval=None))
    assert err.value.reason == reason and path.name in str(err.value)


def test_a_truncated_segment_keeps_what_decodes_or_raises(tmp_path):
    good = levels_clip(tmp_path / "t.mp4", gop=10)
    data = good.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])  # a plain MP4 writes its index last: nothing is readable
    with pytest.raises(SegmentUnreadable):
        list(sample_frames(cut, stream_kind=1, segment_id="s:0", media_start=T0, stream_offset=timedelta(0),
                           keyframe_interval=None))
    fragmented = tmp_path / "frag.mp4"
    with av.open(str(good)) as src, av.open(str(fragmented), "w", format="mp4",
                                            options={"movflags": "frag_keyframe+empty_moov"}) as out:
        stream = out.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    data = fragmented.read_bytes()
    fragmented.write_bytes(data[: int(len(data) * 0.6)])
    frames, _ = sample(fragmented)
    assert 1 <= len(frames) < 5 and [second_of(f) for f in frames] == list(range(len(frames)))


@pytest.mark.shared_data
def test_real_phone_clip_comes_out_upright(shared_faces):
    path = shared_faces / "video" / "pai_center_left_center.mp4"
    frames, stats = sample(path)
    assert stats.mode == "keyframes" and stats.rotation == 90 and len(frames) == 13
    assert frames[0].image.shape == (640, 362, 3)  # upright 480x848, longest side capped at 640
    from proctor_faces import analyse

    a = analyse(frames[0].image, session_pack(), max_faces=1)
    assert a.face_count == 1 and abs(a.faces[0].landmarks.pose.roll) < 15
