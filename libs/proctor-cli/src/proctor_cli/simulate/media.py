"""The simulated candidates' pictures: real people from real clips and photos, and the injected anomalies.

Every identity is a real person filmed in a real clip (``../shared/testdata/faces/video``; on a fresh
machine a slowly moving crop of a real photo shipped in a PyPI package: scikit-image's astronaut, the
insightface wheel's Tom Hanks). Frames are decoded once with ffmpeg (display rotation honoured) to
640x360 at 15 fps. Desktop camera (and phone evidence) segments are those frames, looped forwards and
backwards to a whole number of segments (at least ``NORMAL_MIN_S``), encoded as the desktop client does
(H.264 + AAC fragmented MP4, ``segment_s`` seconds each, 1-s GOP); an injected anomaly replaces a run
of segments: frames that really show it for its own length (``DURATION_S``), from the first segment's
start, then the person's honest footage to the end of the last segment:

- ``MULTIPLE_FACES``: a second real face (another identity's photo) composited into the frames;
- ``FACE_MASKED``: a real photo of a person wearing a mask;
- ``GAZE_AWAY``: the identity's own footage looking away (the ``pai`` clip's away part, lamia's profiles);
- ``NO_FACE``: an empty room (a real room photo, with sensor noise);
- ``IDENTITY_MISMATCH``: the candidate leaves (4 s of empty room) and another identity sits down.

Each encoded segment of an analysed stream also has its live analysis stills: the frames at 0 s, 1 s, ...
of the segment (its keyframes), decoded from the segment itself and saved as JPEG; the clients send them
as they are captured (``stills.py``).

Everything rendered is cached under ``<state>/cache/<CACHE_VERSION>`` (segments and their stills side by
side), and kept in memory once loaded.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import math
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from proctor.common.v1 import common_pb2 as c
from proctor_runtime.devinfra import repo_root

FPS = 15
W, H = 640, 360
FIT = f"scale={W}:{H}:force_original_aspect_ratio=decrease,pad={W}:{H}:(ow-iw)/2:(oh-ih)/2,fps={FPS}"
CACHE_VERSION = "simulate-v3"  # v2: 10-s anomaly lengths, footage looped to whole segments, stills; v3: pai away window
NORMAL_MIN_S = 20  # the honest footage is looped to at least this long (then to whole segments)
STILL_QUALITY = 80  # JPEG quality of the live analysis stills

# injected anomaly kinds (camera) and how long each lasts (seconds of media, whatever the segment length:
# the segments that hold it are ``anomaly_seconds`` long, honest footage after it)
MULTIPLE_FACES = c.INCIDENT_KIND_MULTIPLE_FACES
FACE_MASKED = c.INCIDENT_KIND_FACE_MASKED
GAZE_AWAY = c.INCIDENT_KIND_GAZE_AWAY
NO_FACE = c.INCIDENT_KIND_NO_FACE
IDENTITY_MISMATCH = c.INCIDENT_KIND_IDENTITY_MISMATCH
DURATION_S: dict[int, int] = {MULTIPLE_FACES: 10, FACE_MASKED: 10, GAZE_AWAY: 10, NO_FACE: 10, IDENTITY_MISMATCH: 30}
SWAP_GAP_S = 4  # the candidate leaves before the other person sits down


def whole_segments(seconds: float, segment_s: int) -> int:
    """``seconds`` rounded up to a whole number of ``segment_s``-second segments (at least one)."""
    return segment_s * max(1, math.ceil(seconds / segment_s - 1e-9))


def anomaly_seconds(kind: int, segment_s: int) -> int:
    """How much footage an injected camera anomaly takes with ``segment_s``-second segments: its own length
    rounded up to whole segments (the anomaly first, honest footage after it)."""
    return whole_segments(DURATION_S[kind], segment_s)


def normal_seconds(clip_s: float, segment_s: int) -> int:
    """How long the honest footage is looped to: a whole forwards-and-backwards cycle of the clip (so the
    loop of segments has almost no seam), at least ``NORMAL_MIN_S``, in whole segments."""
    return whole_segments(max(NORMAL_MIN_S, 2 * clip_s), segment_s)


def shared_faces() -> Path | None:
    root = repo_root().parent / "shared" / "testdata" / "faces"
    return root if (root / "video").is_dir() else None


def _insightface_image(name: str) -> Path:
    spec = importlib.util.find_spec("insightface")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "images" / name


@dataclass(frozen=True)
class Identity:
    name: str
    clip: Path  # the person on camera (honest footage)
    window: tuple[float, float] | None = None  # the part of the clip that is honest footage
    liveness_clip: Path | None = None  # footage with head movements (for the liveness challenge)
    away: tuple[Path, list[tuple[float, float]]] | None = None  # own footage looking away: clip, windows


def identities(cache: Path) -> list[Identity]:
    root = shared_faces()
    if root is None:
        return [Identity("astronaut", _moving_still(cache, "astronaut")),
                Identity("hanks", _moving_still(cache, "hanks"))]
    v = root / "video"
    lamia = v / "lamia_head_turns.webm"
    return [
        Identity("lp_d3", v / "lp_d3.mp4", liveness_clip=v / "lp_d3.mp4"),
        Identity("lamia", lamia, (5.4, 10.0), liveness_clip=lamia, away=(lamia, [(0.0, 1.2), (3.1, 5.1)])),
        Identity("pai", v / "pai_center_focus.mp4", away=(v / "pai_center_left_center.mp4", [(5.7, 10.3)])),
        Identity("lp_d12", v / "lp_d12.mp4", liveness_clip=v / "lp_d12.mp4"),
        Identity("lp_d18", v / "lp_d18.mp4", liveness_clip=v / "lp_d18.mp4"),
        Identity("lp_d19", v / "lp_d19.mp4", liveness_clip=v / "lp_d19.mp4"),
    ]


def _moving_still(cache: Path, which: str) -> Path:
    """A real photo from a PyPI package as a 10-s clip with a slowly moving crop (a person who moves a little)."""
    clip = cache / f"{which}-moving.mp4"
    if clip.exists():
        return clip
    cache.mkdir(parents=True, exist_ok=True)
    still = cache / f"{which}.png"
    if which == "astronaut":
        from skimage import data

        cv2.imwrite(str(still), cv2.cvtColor(np.asarray(data.astronaut()), cv2.COLOR_RGB2BGR))
        crop = "crop=400:400:50+20*sin(t):20+10*cos(t/2)"
    else:
        image = cv2.imread(str(_insightface_image("Tom_Hanks_54745.png")))
        cv2.imwrite(str(still), cv2.copyMakeBorder(image, 60, 60, 90, 90, cv2.BORDER_REPLICATE))
        crop = "crop=iw-40:ih-30:20+15*sin(t/1.3):15+10*cos(t/2)"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-loop", "1", "-i", str(still), "-t", "10", "-vf",
                    f"{crop},noise=alls=4:allf=t,fps={FPS},format=yuv420p", "-c:v", "libx264", "-preset", "veryfast",
                    str(clip)], check=True, timeout=120)
    return clip


@functools.lru_cache(maxsize=32)
def frames(clip: Path, window: tuple[float, float] | None = None) -> np.ndarray:
    """(n, H, W, 3) BGR frames of the clip at FPS, fitted to WxH (aspect kept, black bars)."""
    cut = ["-ss", str(window[0]), "-t", str(window[1] - window[0])] if window else []
    out = subprocess.run(["ffmpeg", "-v", "error", *cut, "-i", str(clip), "-an", "-vf", FIT, "-f", "rawvideo",
                          "-pix_fmt", "bgr24", "pipe:1"], check=True, capture_output=True, timeout=300).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, H, W, 3)


def still_scene(image: np.ndarray, seconds: float, seed: int) -> np.ndarray:
    """A photo filmed by a webcam: fitted to WxH, a slow drift of a few pixels and sensor noise."""
    h, w = image.shape[:2]
    scale = min(W / w, H / h)
    fitted = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((H, W, 3), np.uint8)
    y0, x0 = (H - fitted.shape[0]) // 2, (W - fitted.shape[1]) // 2
    canvas[y0:y0 + fitted.shape[0], x0:x0 + fitted.shape[1]] = fitted
    rng = np.random.default_rng(seed)
    out = np.empty((round(seconds * FPS), H, W, 3), np.uint8)
    for i in range(len(out)):
        dx, dy = 3 * np.sin(i / 11.0), 2 * np.cos(i / 17.0)
        moved = cv2.warpAffine(canvas, np.float32([[1, 0, dx], [0, 1, dy]]), (W, H), borderMode=cv2.BORDER_REFLECT)
        out[i] = np.clip(moved + rng.normal(0, 2.0, moved.shape), 0, 255).astype(np.uint8)
    return out


def loop_to(source: np.ndarray, seconds: float) -> np.ndarray:
    """Play the frames forwards then backwards until ``seconds`` are filled (no jump at the seams)."""
    n = round(seconds * FPS)
    cycle = np.concatenate([source, source[::-1]]) if len(source) > 1 else source
    reps = -(-n // len(cycle))
    return np.concatenate([cycle] * reps)[:n]


def composite(base: np.ndarray, face: np.ndarray, height: int = 100) -> np.ndarray:
    """Paste a second person's head (a real photo) into every frame, in an upper corner, smaller than the
    candidate's (further from the camera) and drifting a little, as a person standing behind would."""
    fh, fw = face.shape[:2]
    scale = height / fh
    face = cv2.resize(face, (max(1, round(fw * scale)), height), interpolation=cv2.INTER_AREA)
    fh, fw = face.shape[:2]
    out = base.copy()
    for i in range(len(out)):
        x = W - fw - 20 + int(6 * np.sin(i / 9.0))
        y = 20 + int(4 * np.cos(i / 13.0))
        out[i, y:y + fh, x:x + fw] = face
    return out


@dataclass(frozen=True)
class Footage:
    """A recording's encoded segments and, per segment, its stills (JPEG of the frame at 0 s, 1 s, ...)."""

    segments: list[bytes]
    stills: list[list[bytes]]


@dataclass
class Sources:
    """What the simulator draws on: identities, extra people, masked people, empty rooms."""

    identities: list[Identity]
    others: list[Path]  # photos of other people (a second face)
    masked: list[Path]
    rooms: list[Path]
    origin: str
    cache: Path
    _memo: dict[str, Footage] = field(default_factory=dict)  # "<key>-<segment_s>s" -> its footage

    def kinds(self, identity: Identity) -> list[int]:
        """The camera anomalies that can be shown honestly for this identity."""
        kinds = [MULTIPLE_FACES, NO_FACE]
        if len(self.identities) > 1:
            kinds.append(IDENTITY_MISMATCH)
        if self.masked:
            kinds.append(FACE_MASKED)
        if identity.away is not None:
            kinds.append(GAZE_AWAY)
        return kinds

    def base(self, identity: Identity) -> np.ndarray:
        return frames(identity.clip, identity.window)

    def id_photos(self, identity: Identity) -> list[bytes]:
        """Frames of the person to choose a registration photo from (1 s, 2 s, ... into their footage)."""
        seq = self.base(identity)
        picks = [min(len(seq) - 1, k * FPS) for k in (1, 2, 3, 4, 0)]
        return [cv2.imencode(".jpg", seq[i], [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes() for i in picks]

    def anomaly_frames(self, identity: Identity, kind: int, variant: int, segment_s: int) -> np.ndarray:
        """The anomaly for ``DURATION_S[kind]`` seconds, then the person's honest footage to whole segments."""
        shown = self._anomaly(identity, kind, variant, DURATION_S[kind])
        rest = anomaly_seconds(kind, segment_s) * FPS - len(shown)
        if rest <= 0:
            return shown
        return np.concatenate([shown, loop_to(self.base(identity), rest / FPS)[:rest]])

    def _anomaly(self, identity: Identity, kind: int, variant: int, seconds: int) -> np.ndarray:
        base = loop_to(self.base(identity), seconds)
        if kind == MULTIPLE_FACES:
            path = self.others[variant % len(self.others)]
            other = _read(path)
            if path.name == "t1.jpg":  # the insightface group photo: the frontal man on the left
                other = np.ascontiguousarray(other[190:480, 0:240])
            return composite(base, other)
        if kind == FACE_MASKED:
            return still_scene(_read(self.masked[variant % len(self.masked)]), seconds, variant)
        if kind == NO_FACE:
            return still_scene(_read(self.rooms[variant % len(self.rooms)]), seconds, variant)
        if kind == GAZE_AWAY:
            assert identity.away is not None
            clip, windows = identity.away
            away = np.concatenate([frames(clip, w) for w in windows])
            return loop_to(away, seconds)
        if kind == IDENTITY_MISMATCH:
            people = [i for i in self.identities if i.name != identity.name]
            stranger = people[variant % len(people)]
            empty = still_scene(_read(self.rooms[variant % len(self.rooms)]), SWAP_GAP_S, variant)
            return np.concatenate([empty, loop_to(self.base(stranger), seconds - SWAP_GAP_S)])
        raise ValueError(kind)

    def footage(self, key: str, render: Callable[[], np.ndarray], segment_s: int) -> Footage:
        """Encoded segments of a frame sequence and their stills (made once, cached on disk and in memory)."""
        name = f"{key}-{segment_s}s"
        if name in self._memo:
            return self._memo[name]
        out = self.cache / CACHE_VERSION / name
        files = sorted(out.glob("seg*.mp4"))
        if not (out / "done").exists():
            files = encode(render(), out, segment_s)
            (out / "stills-done").unlink(missing_ok=True)
        if not (out / "stills-done").exists():
            write_stills(files, out)
        self._memo[name] = Footage([f.read_bytes() for f in files], read_stills(out, len(files)))
        return self._memo[name]

    def normal(self, identity: Identity, segment_s: int) -> Footage:
        """The person's honest footage, looped to whole segments (a clip may be shorter than one)."""
        def render() -> np.ndarray:
            base = self.base(identity)
            return loop_to(base, normal_seconds(len(base) / FPS, segment_s))
        return self.footage(f"normal-{identity.name}", render, segment_s)

    def anomaly(self, identity: Identity, kind: int, variant: int, segment_s: int) -> Footage:
        name = c.IncidentKind.Name(kind).removeprefix("INCIDENT_KIND_").lower()
        # the key names the anomaly's own length: the footage differs from that of the same anomaly filling
        # whole segments of another length
        return self.footage(f"{name}{DURATION_S[kind]}-{identity.name}-{variant}",
                            lambda: self.anomaly_frames(identity, kind, variant, segment_s), segment_s)

    def phone(self, identity: Identity, segment_s: int) -> Footage:
        """The phone's evidence video (the candidate seen by the second camera), recorded as a native app
        does (the platform's H.264 encoder; a browser's VP9 would make the worker transcode every segment)."""
        return self.normal(identity, segment_s)


def _read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    if image is None:
        raise FileNotFoundError(path)
    return np.asarray(image)


def sources(cache: Path) -> Sources:
    root = shared_faces()
    ids = identities(cache)
    if root is None:
        return Sources(ids, others=[_insightface_image("t1.jpg")], masked=[], rooms=_packaged_rooms(cache),
                       origin="packaged images (skimage astronaut and scenes, insightface Tom Hanks and t1 group "
                              "photo)", cache=cache)
    verification = sorted(p for p in (root / "verification").glob("lfw_*/*.jpg"))
    masked = sorted((root / "masked" / "with_mask").glob("mask_bing_with_mask0*.jpg"))[:8]
    rooms = sorted((root / "no_face").glob("room_train_clean_*.png"))
    return Sources(ids, others=verification[::5], masked=masked, rooms=rooms,
                   origin="../shared/testdata/faces (clips lp_d3/d12/d18/d19, lamia, pai; lfw photos; masked web "
                          "photos; room photos)", cache=cache)


def _packaged_rooms(cache: Path) -> list[Path]:
    """Empty scenes shipped with scikit-image (no face in them)."""
    from skimage import data

    out = []
    for name in ("coffee", "rocket"):
        path = cache / f"scene-{name}.png"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            image = np.asarray(getattr(data, name)())
            cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        out.append(path)
    return out


def encode(seq: np.ndarray, out: Path, segment_s: int, webm: bool = False) -> list[Path]:
    """Encode frames as the clients do: H.264/AAC fragmented MP4 (desktop) or VP9/Opus WebM (phone),
    self-contained ``segment_s``-second segments with a 1-s GOP."""
    out.mkdir(parents=True, exist_ok=True)
    for f in out.glob("seg*"):
        f.unlink()
    n = len(seq) - len(seq) % (segment_s * FPS)
    seconds = n / FPS
    codecs = (["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "400k", "-c:a", "libopus"]
              if webm else ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac"])
    container = (["-segment_format", "webm"] if webm else
                 ["-segment_format", "mp4", "-segment_format_options",
                  "movflags=frag_keyframe+empty_moov+default_base_moof"])
    pattern = str(out / ("seg%04d." + ("webm" if webm else "mp4")))
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{W}x{H}", "-r",
                    str(FPS), "-i", "pipe:0", "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000", "-t",
                    str(seconds), "-ac", "1", "-ar", "48000", *codecs, "-g", str(FPS), "-keyint_min", str(FPS),
                    "-force_key_frames", f"expr:gte(t,n_forced*{segment_s})", "-f", "segment", "-segment_time",
                    str(segment_s), *container, pattern],
                   input=np.ascontiguousarray(seq[:n]).tobytes(), check=True, timeout=600)
    (out / "done").write_text(hashlib.sha256(seq[:n].tobytes()).hexdigest())
    return sorted(out.glob("seg*.mp4" if not webm else "seg*.webm"))


def to_jpeg(image: np.ndarray, max_side: int = max(W, H), quality: int = STILL_QUALITY) -> bytes:
    """A BGR frame as JPEG, scaled down (aspect kept) when its longer side exceeds ``max_side``."""
    h, w = image.shape[:2]
    if max(h, w) > max_side:
        scale = max_side / max(h, w)
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return bytes(buf.tobytes())


def stills_of(segment: bytes, max_side: int = max(W, H), quality: int = STILL_QUALITY) -> list[bytes]:
    """The live analysis stills of one encoded segment: the frames at 0 s, 1 s, 2 s, ... of it (its
    keyframes with a 1-s GOP: the first frame at or after each whole second), as JPEG."""
    import av

    out: list[bytes] = []
    first: float | None = None
    with av.open(io.BytesIO(segment), mode="r") as container:
        for frame in container.decode(video=0):
            t = frame.time
            if t is None:
                continue
            if first is None:
                first = t
            if t - first >= len(out) - 0.5 / FPS:
                out.append(to_jpeg(frame.to_ndarray(format="bgr24"), max_side, quality))
    return out


def write_stills(segments: list[Path], out: Path) -> None:
    """Save every segment's stills beside it (``still-<segment>-<k>.jpg``), then the ``stills-done`` marker."""
    for f in out.glob("still-*.jpg"):
        f.unlink()
    for s, path in enumerate(segments):
        for k, jpeg in enumerate(stills_of(path.read_bytes())):
            (out / f"still-{s:04d}-{k:03d}.jpg").write_bytes(jpeg)
    (out / "stills-done").write_text(str(len(segments)))


def read_stills(out: Path, count: int) -> list[list[bytes]]:
    """The stills ``write_stills`` saved, per segment in order."""
    stills: list[list[bytes]] = [[] for _ in range(count)]
    for f in sorted(out.glob("still-*.jpg")):
        stills[int(f.stem.split("-")[1])].append(f.read_bytes())
    return stills
