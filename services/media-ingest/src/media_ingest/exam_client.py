"""What media-ingest asks exam-session, with its own service identity: a candidate's state (attempt,
room, bound phone, the attempt's upload deadline) when a stream opens, and a sitting's required
streams (cached briefly: sittings do not change once created)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import grpc

from proctor.common.v1 import common_pb2
from proctor.exam.v1 import exam_session_pb2 as pb
from proctor.exam.v1 import exam_session_pb2_grpc as pb_grpc
from proctor_runtime import channels
from proctor_runtime.errors import DomainError, NotFound, Unavailable
from proctor_runtime.identity import ServiceIdentity
from proctor_runtime.interceptor import ERROR_DETAIL_KEY


def required_kinds(policy: pb.SittingPolicy) -> list[int]:
    """The streams a candidate must upload: the policy's list, else every kind the sitting uses
    (no phone kinds without a phone, no room scan without the room-scan rule)."""
    if policy.required_streams:
        return sorted(set(policy.required_streams))
    kinds = [common_pb2.STREAM_KIND_DESKTOP_CAMERA, common_pb2.STREAM_KIND_DESKTOP_SCREEN]
    if policy.require_phone:
        kinds.append(common_pb2.STREAM_KIND_PHONE_EVIDENCE)
        if policy.require_room_scan:
            kinds.append(common_pb2.STREAM_KIND_PHONE_ROOM_SCAN)
    return kinds


@dataclass
class ExamSessionClient:
    target: str
    identity: ServiceIdentity
    timeout_s: float = 5.0
    sitting_cache_s: float = 30.0

    def __post_init__(self) -> None:
        self.channel = channels.channel(self.target)
        self.stub = pb_grpc.ExamSessionStub(self.channel)
        self._sittings: dict[str, tuple[float, pb.Sitting]] = {}

    async def close(self) -> None:
        await self.channel.close()

    async def candidate(self, sitting_id: str, candidate_id: str) -> pb.CandidateStatus:
        request = pb.GetCandidateStateRequest(sitting_id=sitting_id, candidate_id=candidate_id)
        return await self._call(self.stub.GetCandidateState, request)  # type: ignore[no-any-return]

    async def sitting(self, sitting_id: str) -> pb.Sitting:
        cached = self._sittings.get(sitting_id)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self.sitting_cache_s:
            return cached[1]
        sitting: pb.Sitting = await self._call(self.stub.GetSitting, pb.GetSittingRequest(sitting_id=sitting_id))
        del sitting.questions[:]  # only the timeline and policy are needed
        self._sittings[sitting_id] = (now, sitting)
        return sitting

    async def _call(self, method: grpc.aio.UnaryUnaryMultiCallable, request: object) -> object:
        try:
            return await method(request, timeout=self.timeout_s, metadata=self.identity.metadata())
        except grpc.aio.AioRpcError as exc:
            raise _translate(exc) from exc


def _detail(exc: grpc.aio.AioRpcError) -> common_pb2.ErrorDetail | None:
    for key, value in exc.trailing_metadata() or ():
        if key == ERROR_DETAIL_KEY:
            return common_pb2.ErrorDetail.FromString(value)
    return None


def _translate(exc: grpc.aio.AioRpcError) -> DomainError:
    code = exc.code()
    found = _detail(exc)
    if code == grpc.StatusCode.NOT_FOUND and found is not None:
        return NotFound(found.reason, found.message_en, found.message_zh, dict(found.metadata))
    return Unavailable("DEPENDENCY_UNAVAILABLE", f"exam-session did not answer ({code.name}); retry shortly",
                       "考试服务暂时不可用，请稍后重试", {"dependency": "exam-session"})
