"""Helpers of the auth-face tests: a controllable clock, tokens, frames, flow steps, Kafka reads."""

import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import cv2
import grpc
import numpy as np

from auth_face.domain import Step
from proctor.auth.v1 import auth_face_pb2 as pb
from proctor.auth.v1 import auth_face_pb2_grpc
from proctor.common.v1 import common_pb2
from proctor_runtime.events import ts
from proctor_runtime.testing.helpers import Metadata, bearer, detail, kafka_events, refused  # noqa: F401
from proctor_runtime.tokens import Role, TokenSigner, TokenVerifier

START = datetime(2026, 12, 1, 1, 35, tzinfo=UTC)
CLIP_STEPS = [Step.TURN_LEFT, Step.LOOK_UP, Step.TURN_RIGHT]  # what lamia_head_turns.webm shows, in order


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Harness:
    stub: auth_face_pb2_grpc.AuthFaceStub
    channel: grpc.aio.Channel
    host: object
    clock: Clock
    admin: TokenSigner
    verifier: TokenVerifier  # auth-face's public key: checks the session tokens it issues
    steps: list[Step]  # the next liveness challenge (the service's challenge generator reads it)
    bootstrap: str
    sitting_id: str = field(default_factory=lambda: f"s-{uuid.uuid4().hex[:8]}")

    @property
    def logic(self):
        return self.host.logic  # type: ignore[attr-defined]

    def _token(self, sub: str, role: Role, **kw) -> Metadata:
        return bearer(self.admin.issue(sub=sub, role=role, ttl_s=3600, now=self.clock.now.timestamp(), **kw)[0])

    def staff(self) -> Metadata:
        return self._token("staff-1", Role.STAFF)

    def proctor(self, rooms: tuple[str, ...], role: Role = Role.PROCTOR) -> Metadata:
        return self._token("proctor-1", role, sitting_id=self.sitting_id, rooms=rooms)

    def service(self, name: str = "anomaly") -> Metadata:
        return self._token(name, Role.SERVICE)

    def use_steps(self, steps: Sequence[Step]) -> None:
        self.steps[:] = list(steps)

    async def enrol(self, cid: str, photo: bytes, **kw) -> pb.EnrolCandidateResponse:
        return await self.stub.EnrolCandidate(pb.EnrolCandidateRequest(
            sitting_id=self.sitting_id, candidate_id=cid, id_photo=photo, **kw), metadata=self.staff())

    async def challenge(self, cid: str, device: str = "desk-1") -> pb.LivenessChallenge:
        return await self.stub.StartLivenessChallenge(pb.StartLivenessChallengeRequest(
            sitting_id=self.sitting_id, candidate_id=cid, device=desktop(device)))

    def login_request(self, challenge_id: str, cid: str, frames: Sequence[tuple[float, bytes]],
                      device: str = "desk-1", start: datetime | None = None) -> pb.VerifyLoginRequest:
        return pb.VerifyLoginRequest(challenge_id=challenge_id, sitting_id=self.sitting_id, candidate_id=cid,
                                     device=desktop(device), frames=frame_set(frames, start or self.clock.now))

    async def login(self, cid: str, frames: Sequence[tuple[float, bytes]], device: str = "desk-1",
                    capture_s: float = 12.0) -> pb.VerifyLoginResponse:
        """Start a challenge, 'capture' for ``capture_s`` seconds, send the frames."""
        ch = await self.challenge(cid, device)
        captured_from = self.clock.now + timedelta(seconds=0.5)
        self.clock.advance(seconds=capture_s)
        return await self.stub.VerifyLogin(self.login_request(ch.challenge_id, cid, frames, device, captured_from))




def desktop(device_id: str) -> common_pb2.DeviceInfo:
    return common_pb2.DeviceInfo(kind=common_pb2.DEVICE_KIND_DESKTOP, device_id=device_id)


def jpeg(img: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def frame_set(frames: Sequence[tuple[float, bytes]], start: datetime) -> pb.FrameSet:
    out = pb.FrameSet()
    for i, (t, data) in enumerate(frames):
        out.frames.add(jpeg=data, capture_time=ts(start + timedelta(seconds=t)), step_index=min(i // 30, 2))
    return out


def still_frames(photo: bytes, n: int = 12) -> list[tuple[float, bytes]]:
    """The same photo sent again and again as the challenge answer."""
    return [(i * 0.25, photo) for i in range(n)]


def huge_jpeg(width: int = 8660, height: int = 5780) -> bytes:
    """A real ~50-megapixel JPEG (flat colour: small in bytes, huge in pixels)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (120, 130, 140)).save(out, "JPEG", quality=30)
    return out.getvalue()


def failure_names(resp: pb.VerifyLoginResponse) -> list[str]:
    return [pb.LoginFailureReason.Name(f.reason).removeprefix("LOGIN_FAILURE_REASON_") for f in resp.failures]
