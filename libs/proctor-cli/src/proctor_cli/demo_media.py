"""The demo's recordings: what the desktop client and the phone app upload to media-ingest.

Real media: webcam clips from the shared test data when present (a browser-style VP9/Opus WebM
for the phone, H.264/AAC fragmented MP4 for the desktop), ffmpeg's test sources otherwise, cut
into 2-second self-contained segments once and cached under the state directory. Each recorder
uploads a segment as it is "recorded", keeps recording through a network loss and uploads the
backlog on reconnect, then closes the stream with its own hash-chain head.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc

from media_ingest.client import Segment, StreamUploader
from proctor.common.v1 import common_pb2
from proctor.media.v1 import media_ingest_pb2 as mpb
from proctor.media.v1 import media_ingest_pb2_grpc
from proctor_runtime.devinfra import repo_root
from proctor_runtime.events import ts

SEGMENT_S = 2
FIT_640x360 = "scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2,fps=15"
CROWD = -1  # a desktop camera that shows other people (a real group photo): the anomaly detectors' case
Metadata = tuple[tuple[str, str], ...]
H264 = common_pb2.MediaFormat(container=common_pb2.MEDIA_CONTAINER_FMP4, video_codec=common_pb2.VIDEO_CODEC_H264,
                              audio_codec=common_pb2.AUDIO_CODEC_AAC, width=640, height=360, frame_rate=15)
VP9 = common_pb2.MediaFormat(container=common_pb2.MEDIA_CONTAINER_WEBM, video_codec=common_pb2.VIDEO_CODEC_VP9,
                             audio_codec=common_pb2.AUDIO_CODEC_OPUS, width=640, height=360, frame_rate=15,
                             mime_type="video/webm;codecs=vp9,opus")


def _cut(source: list[str], out: Path, webm: bool, seconds: int, segment_s: int = SEGMENT_S) -> list[bytes]:
    files = sorted(out.glob("seg*"))
    if len(files) < seconds // segment_s:
        out.mkdir(parents=True, exist_ok=True)
        for f in files:
            f.unlink()
        codecs = (["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "400k", "-c:a", "libopus"]
                  if webm else ["-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac"])
        container = (["-segment_format", "webm"] if webm else
                     ["-segment_format", "mp4", "-segment_format_options",
                      "movflags=frag_keyframe+empty_moov+default_base_moof"])
        subprocess.run(["ffmpeg", "-v", "error", "-y", *source, "-t", str(seconds), "-vf",
                        FIT_640x360, "-ac", "1", "-ar", "48000", *codecs, "-g", str(15 * SEGMENT_S),
                        "-keyint_min", str(15 * SEGMENT_S), "-f", "segment", "-segment_time", str(segment_s),
                        *container, str(out / ("seg%03d." + ("webm" if webm else "mp4")))],
                       check=True, timeout=300)
        files = sorted(out.glob("seg*"))
    return [f.read_bytes() for f in files]


SCREEN = ["-f", "lavfi", "-i", "testsrc=size=640x360:rate=15", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono"]


def screen_segments(cache: Path, segment_s: int, seconds: int = 40) -> list[bytes]:
    """The desktop screen recording cut in ``segment_s``-second segments (H.264, 2-s GOP)."""
    if segment_s == SEGMENT_S:
        return _cut(SCREEN, cache / "demo-media-v2" / "screen", False, seconds)
    return _cut(SCREEN, cache / "demo-media-v2" / f"screen-{segment_s}s", False, max(seconds, 4 * segment_s),
                segment_s)


def sources(cache: Path, seconds: int = 40) -> dict[int, tuple[common_pb2.MediaFormat, list[bytes]]]:
    """Segments per stream kind (camera/screen/phone/room scan), made once."""
    videos = repo_root().parent / "shared" / "testdata" / "faces" / "video"
    clip = videos / "pai_center_focus.mp4"
    loop = ["-stream_loop", "-1"]
    # a webcam clip from the shared data; on a fresh machine a real face shipped in a PyPI package, moving
    camera = [*loop, "-i", str(clip if clip.exists() else _astronaut_clip(cache)), "-f", "lavfi", "-i",
              "sine=frequency=300"]
    screen = SCREEN
    phone_clip = videos / "lamia_head_turns.webm"
    phone = ([*loop, "-i", str(phone_clip), "-f", "lavfi", "-i", "sine=frequency=500"] if phone_clip.exists()
             else ["-f", "lavfi", "-i", "smptebars=size=640x360:rate=15", "-f", "lavfi", "-i", "sine=frequency=500"])
    scan = ["-f", "lavfi", "-i", "mandelbrot=size=640x360:rate=15", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono"]
    group = Path(__import__("insightface").__file__).parent / "data" / "images" / "t1.jpg"
    crowd = ["-loop", "1", "-i", str(group), "-f", "lavfi", "-i", "sine=frequency=300"]
    base = cache / "demo-media-v2"  # v2: aspect ratio kept (portrait clips pillarboxed)
    return {
        CROWD: (H264, _cut(crowd, base / "crowd", False, seconds)),
        common_pb2.STREAM_KIND_DESKTOP_CAMERA: (H264, _cut(camera, base / "camera", False, seconds)),
        common_pb2.STREAM_KIND_DESKTOP_SCREEN: (H264, _cut(screen, base / "screen", False, seconds)),
        common_pb2.STREAM_KIND_PHONE_EVIDENCE: (VP9, _cut(phone, base / "phone", True, seconds)),
        common_pb2.STREAM_KIND_PHONE_ROOM_SCAN: (VP9, _cut(scan, base / "scan", True, 3 * SEGMENT_S)),
    }


@dataclass
class Recorder:
    """One stream being recorded and uploaded by a candidate's device."""

    stub: media_ingest_pb2_grpc.MediaIngestStub
    md: Metadata
    sitting_id: str
    candidate_id: str
    kind: int
    fmt: common_pb2.MediaFormat
    clip: list[bytes]
    recorded: list[Segment] = field(default_factory=list)
    stream_id: str = ""

    async def open(self) -> None:
        opened = await self.stub.OpenStream(mpb.OpenStreamRequest(
            sitting_id=self.sitting_id, candidate_id=self.candidate_id, kind=self.kind, format=self.fmt,
            client_stream_key=f"{self.candidate_id}-{common_pb2.StreamKind.Name(self.kind).lower()}",
            client_start_time=ts(datetime.now(UTC))), metadata=self.md)
        self.stream_id = opened.stream.stream_id

    def record_one(self) -> None:
        data = self.clip[len(self.recorded) % len(self.clip)]
        start = datetime.now(UTC) - timedelta(seconds=SEGMENT_S)
        self.recorded.append(Segment(data, start, timedelta(seconds=SEGMENT_S)))

    async def flush(self) -> None:
        """Upload whatever is recorded and not yet committed (resumes where the server says)."""
        await StreamUploader(self.stub, self.md, self.stream_id, chunk_bytes=128 * 1024).upload(self.recorded)

    async def close(self) -> mpb.CloseStreamResponse:
        return await StreamUploader(self.stub, self.md, self.stream_id).close(self.recorded)

    async def record_until(self, end: datetime, offline: tuple[datetime, datetime] | None = None) -> None:
        """Record a segment every SEGMENT_S seconds until ``end``, uploading as it goes (except while
        offline: segments pile up locally and go up on reconnect)."""
        while datetime.now(UTC) < end:
            await asyncio.sleep(SEGMENT_S)
            self.record_one()
            now = datetime.now(UTC)
            if offline is None or not offline[0] <= now < offline[1]:
                # network trouble: the segment stays local; the next flush resumes
                with contextlib.suppress(grpc.aio.AioRpcError):
                    await self.flush()


def _astronaut_clip(cache: Path) -> Path:
    """skimage's astronaut photo as a 10-s clip with a slowly moving crop (a person who moves a little)."""
    import cv2
    from skimage import data

    still, clip = cache / "astronaut.png", cache / "astronaut-moving.mp4"
    if not clip.exists():
        still.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(still), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-loop", "1", "-i", str(still), "-t", "10", "-vf",
                        "crop=400:400:50+20*sin(t):20+10*cos(t/2),fps=15,format=yuv420p", "-c:v", "libx264",
                        "-preset", "veryfast", str(clip)], check=True, timeout=120)
    return clip


def camera_photo(segment: bytes, cache: Path) -> bytes:
    """A JPEG of the person the desktop camera shows (the candidates' ID photo in the demo, so that
    anomaly's identity re-checks compare like with like)."""
    source = cache / "demo-camera-first.mp4"
    source.write_bytes(segment)
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(source), "-ss", "1", "-frames:v", "1", "-f", "image2",
                          "-c:v", "mjpeg", "-q:v", "2", "pipe:1"], check=True, capture_output=True, timeout=60)
    return out.stdout
