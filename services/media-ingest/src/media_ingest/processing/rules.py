"""The rules of the worker: what a probed segment is flagged with, and how it is normalised.

Normalisation (decision): review players and anomaly get fragmented MP4 with H.264 video and AAC
audio, one codec pair for every segment of a stream so the stitched HLS playlist is playable
everywhere (hls.js, Safari, ffmpeg).
- H.264 video is stream-copied (packets bit-identical to the upload); VP8, VP9, AV1 and H.265 are
  transcoded to H.264 (libx264, a fast preset, a keyframe every ``keyframe_interval_s``).
- AAC audio is stream-copied (except ADTS AAC from MPEG-TS, re-encoded: the MP4 header needs an
  AudioSpecificConfig the TS does not carry); Opus (browser MediaRecorder) and PCM are transcoded
  to AAC-LC. Opus
  in MP4 is valid but Safari/iOS HLS players do not reliably play it, and mixing Opus and AAC
  segments in one playlist would break it; AAC encoding of speech costs little next to any video
  work (measured in ``bench.py``).
- ``ProcessingAction`` describes the video track, the one that matters as evidence: REMUXED means
  the frames are the uploaded ones (audio may still have been re-encoded: see the per-track
  actions in the database); TRANSCODED means the video was re-encoded; an audio-only segment is
  REMUXED or TRANSCODED by its audio; NONE means nothing usable was produced (``probe.ok`` false).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from media_ingest.processing.config import MediaSettings
from proctor.common.v1 import common_pb2 as common
from proctor.events.v1 import media_pb2 as media

COPY, TRANSCODE, ABSENT = "copy", "transcode", "none"

VIDEO_CODECS = {"h264": common.VIDEO_CODEC_H264, "hevc": common.VIDEO_CODEC_H265, "vp8": common.VIDEO_CODEC_VP8,
                "vp9": common.VIDEO_CODEC_VP9, "av1": common.VIDEO_CODEC_AV1}
AUDIO_CODECS = {"aac": common.AUDIO_CODEC_AAC, "opus": common.AUDIO_CODEC_OPUS}
_FAMILIES = {common.MEDIA_CONTAINER_FMP4: "mp4", common.MEDIA_CONTAINER_MP4: "mp4",
             common.MEDIA_CONTAINER_WEBM: "matroska", common.MEDIA_CONTAINER_MATROSKA: "matroska",
             common.MEDIA_CONTAINER_MPEG_TS: "mpegts"}
_REAL_AUDIO = (common.AUDIO_CODEC_AAC, common.AUDIO_CODEC_OPUS, common.AUDIO_CODEC_PCM)


def video_codec(name: str) -> int:
    return VIDEO_CODECS.get(name, common.VIDEO_CODEC_UNSPECIFIED)


def audio_codec(name: str) -> int:
    if name.startswith("pcm_"):
        return common.AUDIO_CODEC_PCM
    return AUDIO_CODECS.get(name, common.AUDIO_CODEC_UNSPECIFIED)


CONTAINER_FAMILIES = frozenset(_FAMILIES.values())  # what clients record into (common.v1.MediaContainer)


def family(format_name: str) -> str:
    """Container family of an ffmpeg demuxer name ("mov,mp4,m4a,..." -> "mp4")."""
    names = format_name.split(",")
    for fam, marker in (("mp4", "mp4"), ("matroska", "matroska"), ("matroska", "webm"), ("mpegts", "mpegts")):
        if marker in names:
            return fam
    return format_name


@dataclass(frozen=True)
class Track:
    codec: str  # ffmpeg codec name
    start_s: float
    end_s: float
    packets: int
    width: int = 0
    height: int = 0
    frame_rate: float = 0.0
    sample_rate: int = 0
    keyframes_s: tuple[float, ...] = ()  # presentation times of the keyframes (video)


@dataclass(frozen=True)
class SegmentInfo:
    """What probing the raw segment found."""

    size_bytes: int
    family: str = ""  # "mp4", "matroska", "mpegts", another demuxer name; "" if unreadable
    video: Track | None = None
    audio: Track | None = None
    truncated: str = ""  # why it looks cut short
    error: str = ""  # why (part of) it could not be read
    corrupt_packets: int = 0

    @property
    def readable(self) -> bool:
        return any(t is not None and t.packets > 0 for t in (self.video, self.audio))

    @property
    def start_s(self) -> float:
        return min((t.start_s for t in (self.video, self.audio) if t is not None and t.packets), default=0.0)

    @property
    def duration_s(self) -> float:
        tracks = [t for t in (self.video, self.audio) if t is not None and t.packets]
        return max(t.end_s for t in tracks) - self.start_s if tracks else 0.0


@dataclass(frozen=True)
class Expectation:
    """What the upload said the segment is."""

    declared: common.MediaFormat
    stream_kind: int
    client_duration_s: float | None  # client end - start (or the declared media duration)
    size_bytes: int = 0  # from MediaSegmentReceived; 0 = unknown


@dataclass
class Verdict:
    ok: bool
    flags: list[int] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def flag(self, flag: int, detail: str = "") -> None:
        if flag not in self.flags:
            self.flags.append(flag)
        if detail:
            self.details.append(detail)

    def fail(self, flag: int, detail: str) -> None:
        self.ok = False
        self.flag(flag, detail)

    @property
    def detail(self) -> str:
        return "; ".join(self.details)[:500]


def judge(info: SegmentInfo, expect: Expectation, settings: MediaSettings) -> Verdict:
    """Flags of a probed segment. ``ok``: there is media to normalise (at least one track)."""
    if info.size_bytes == 0:
        return Verdict(False, [media.MEDIA_FLAG_ZERO_LENGTH], ["the segment object is empty"])
    verdict = Verdict(info.readable)
    if not info.readable:
        verdict.flag(media.MEDIA_FLAG_CORRUPT, info.error or "no audio or video packets could be read")
    if info.truncated:
        verdict.flag(media.MEDIA_FLAG_TRUNCATED, info.truncated)
    if 0 < expect.size_bytes != info.size_bytes:
        verdict.flag(media.MEDIA_FLAG_TRUNCATED if info.size_bytes < expect.size_bytes else media.MEDIA_FLAG_CORRUPT,
                     f"object has {info.size_bytes} bytes, the upload committed {expect.size_bytes}")
    if info.readable:
        _check_tracks(info, expect, verdict)
        _check_duration(info, expect, settings, verdict)
    return verdict


def _check_tracks(info: SegmentInfo, expect: Expectation, verdict: Verdict) -> None:
    declared = expect.declared
    if info.video is None and declared.video_codec != common.VIDEO_CODEC_NONE:
        verdict.flag(media.MEDIA_FLAG_NO_VIDEO_TRACK, "no video track")
    wants_audio = declared.audio_codec in _REAL_AUDIO or (
        declared.audio_codec == common.AUDIO_CODEC_UNSPECIFIED
        and expect.stream_kind == common.STREAM_KIND_DESKTOP_CAMERA)
    if info.audio is None and wants_audio:
        verdict.flag(media.MEDIA_FLAG_NO_AUDIO_TRACK, "no audio track")
    real_video = declared.video_codec not in (common.VIDEO_CODEC_UNSPECIFIED, common.VIDEO_CODEC_NONE)
    if info.video is not None and real_video and video_codec(info.video.codec) != declared.video_codec:
        verdict.flag(media.MEDIA_FLAG_UNEXPECTED_CODEC, f"video is {info.video.codec}, declared "
                     f"{common.VideoCodec.Name(declared.video_codec)}")
    real_audio = declared.audio_codec in _REAL_AUDIO
    if info.audio is not None and real_audio and audio_codec(info.audio.codec) != declared.audio_codec:
        verdict.flag(media.MEDIA_FLAG_UNEXPECTED_CODEC, f"audio is {info.audio.codec}, declared "
                     f"{common.AudioCodec.Name(declared.audio_codec)}")
    wanted_family = _FAMILIES.get(declared.container)
    if wanted_family and info.family != wanted_family:
        verdict.flag(media.MEDIA_FLAG_UNEXPECTED_CODEC, f"container is {info.family}, declared "
                     f"{common.MediaContainer.Name(declared.container)}")


def _check_duration(info: SegmentInfo, expect: Expectation, settings: MediaSettings, verdict: Verdict) -> None:
    if expect.client_duration_s is None or expect.client_duration_s <= 0:
        return
    allowed = max(settings.duration_tolerance_s, settings.duration_tolerance_ratio * expect.client_duration_s)
    if abs(info.duration_s - expect.client_duration_s) > allowed:
        verdict.flag(media.MEDIA_FLAG_DURATION_MISMATCH, f"media lasts {info.duration_s:.3f} s, the client range "
                     f"{expect.client_duration_s:.3f} s")


@dataclass(frozen=True)
class Plan:
    video: str  # COPY, TRANSCODE or ABSENT
    audio: str

    @property
    def action(self) -> int:
        main = self.video if self.video != ABSENT else self.audio
        return {COPY: media.PROCESSING_ACTION_REMUXED, TRANSCODE: media.PROCESSING_ACTION_TRANSCODED}.get(
            main, media.PROCESSING_ACTION_NONE)


def plan(info: SegmentInfo) -> Plan:
    """Stream copy when the codec is what review players take (H.264, AAC), else transcode."""
    video = ABSENT if info.video is None or not info.video.packets else (
        COPY if info.video.codec == "h264" else TRANSCODE)
    # AAC in MPEG-TS is ADTS without the AudioSpecificConfig an MP4 header needs: re-encoded
    audio = ABSENT if info.audio is None or not info.audio.packets else (
        COPY if info.audio.codec == "aac" and info.family != "mpegts" else TRANSCODE)
    return Plan(video, audio)


def is_gap(gap_s: float, settings: MediaSettings) -> bool:
    """A capture gap between two consecutive segments of a stream (next start - previous end)."""
    return gap_s > settings.gap_tolerance_s
