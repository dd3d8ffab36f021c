"""Helpers of the exam-session tests: a controllable clock, tokens, sitting specs, flow steps."""

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import grpc

from exam_session.app import build
from exam_session.config import Settings
from proctor.common.v1 import common_pb2
from proctor.exam.v1 import exam_session_pb2 as pb
from proctor.exam.v1 import exam_session_pb2_grpc
from proctor_runtime.events import ts
from proctor_runtime.testing.helpers import bearer, detail, refused  # noqa: F401
from proctor_runtime.tokens import Role, TokenSigner


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def move_to(self, when: datetime) -> None:
        self.now = when

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Harness:
    stub: exam_session_pb2_grpc.ExamSessionStub
    host: object
    clock: Clock
    auth_face: TokenSigner
    admin: TokenSigner
    sitting_id: str = field(default_factory=lambda: f"s-{uuid.uuid4().hex[:8]}")
    channel: grpc.aio.Channel | None = None

    @property
    def logic(self):
        return self.host.logic  # type: ignore[attr-defined]

    def staff(self) -> tuple[tuple[str, str], ...]:
        return bearer(self.admin.issue(sub="staff-1", role=Role.STAFF, ttl_s=3600,
                                       now=self.clock.now.timestamp())[0])

    def proctor(self, rooms: tuple[str, ...], role: Role = Role.PROCTOR) -> tuple[tuple[str, str], ...]:
        return bearer(self.admin.issue(sub="proctor-1", role=role, ttl_s=3600, rooms=rooms,
                                       sitting_id=self.sitting_id, now=self.clock.now.timestamp())[0])

    def face_token(self, candidate_id: str, device: str = "desk-1", iat_shift: float = 0) -> str:
        """What auth-face issues after a successful face login (signed with auth-face's key)."""
        return self.auth_face.issue(sub=candidate_id, role=Role.CANDIDATE, ttl_s=4 * 3600,
                                    sitting_id=self.sitting_id, candidate_id=candidate_id, device_id=device,
                                    now=self.clock.now.timestamp() + iat_shift)[0]


def make_sitting(sitting_id: str, start: datetime, n: int = 5, kind: int = common_pb2.SITTING_KIND_FORMAL,
                 **policy: object) -> pb.Sitting:
    s = pb.Sitting(sitting_id=sitting_id, name="Demo sitting", kind=kind)
    s.timeline.CopyFrom(pb.Timeline(
        login_opens=ts(start - timedelta(minutes=30)), waiting_room_opens=ts(start - timedelta(minutes=10)),
        start=ts(start), last_entry=ts(start + timedelta(minutes=30)), end=ts(start + timedelta(minutes=90)),
        upload_deadline=ts(start + timedelta(minutes=150))))
    for i in range(n):
        s.questions.add(question_id=f"q{i}", type=pb.QUESTION_TYPE_SINGLE_CHOICE, option_ids=["A", "B", "C", "D"],
                        content_ref=f"bank://q{i}")
    for key, value in policy.items():
        setattr(s.policy, key, value)
    return s


START = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 Asia/Shanghai


async def setup_sitting(h: Harness, candidates: int = 3, rooms: tuple[str, ...] = ("r1",), **kw) -> pb.Sitting:
    created = await h.stub.CreateSitting(pb.CreateSittingRequest(sitting=make_sitting(h.sitting_id, START, **kw)),
                                         metadata=h.staff())
    rows = [pb.CandidateRow(line=i + 2, candidate_id=f"c{i}", name=f"考生{i}", sitting_id=h.sitting_id,
                            room_id=rooms[i % len(rooms)], id_photo_ref=f"photos/c{i}.jpg")
            for i in range(candidates)]
    result = await h.stub.ImportCandidates(pb.ImportCandidatesRequest(rows=rows), metadata=h.staff())
    assert result.created == candidates, result
    return created


async def walk_to_waiting(h: Harness, cid: str, device: str = "desk-1") -> tuple[tuple[str, str], ...]:
    """Login, bind a phone, record the room scan (media event), enter the waiting room."""
    token = h.face_token(cid, device)
    await h.stub.Login(pb.LoginRequest(sitting_id=h.sitting_id, candidate_id=cid, face_login_token=token,
                                       device=common_pb2.DeviceInfo(kind=1, device_id=device)))
    md = bearer(token)
    code = await h.stub.IssueBindCode(pb.IssueBindCodeRequest(sitting_id=h.sitting_id, candidate_id=cid),
                                      metadata=md)
    await h.stub.BindPhone(pb.BindPhoneRequest(bind_code=code.bind_code, device=common_pb2.DeviceInfo(
        kind=common_pb2.DEVICE_KIND_PHONE, device_id=f"phone-{cid}")))
    await h.logic.room_scan_recorded(h.sitting_id, cid, "media-evt-1")
    if h.clock.now < START - timedelta(minutes=10):
        h.clock.move_to(START - timedelta(minutes=10))
    await h.stub.EnterWaitingRoom(pb.EnterWaitingRoomRequest(sitting_id=h.sitting_id, candidate_id=cid),
                                  metadata=md)
    return md


async def serve(settings: Settings, auth_face: TokenSigner, admin: TokenSigner, clock: Clock | None = None,
                ) -> Harness:
    """exam-session built and started in this event loop with a test clock (default: 40 minutes before
    START), its consumer in its group, and a client channel to it (``shut`` closes both)."""
    clock = clock or Clock(START - timedelta(minutes=40))
    host = await build(settings, clock)
    await host.start()
    async with asyncio.timeout(30):
        await host.consumers[0].ready.wait()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{host.port}")
    return Harness(exam_session_pb2_grpc.ExamSessionStub(channel), host, clock, auth_face, admin, channel=channel)


async def shut(h: Harness) -> None:
    assert h.channel is not None
    await h.channel.close()
    await h.host.stop()  # type: ignore[attr-defined]
