"""gRPC servicer: protobuf in, protobuf out; every rule lives in the logic classes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc

from auth_face.core import Core
from auth_face.enrolment import Enrolments
from auth_face.login import Logins
from auth_face.review import Reviews
from auth_face.sessions import Sessions
from proctor.auth.v1 import auth_face_pb2 as pb
from proctor.auth.v1 import auth_face_pb2_grpc as pb_grpc
from proctor_runtime.context import current_claims

SERVICE = "proctor.auth.v1.AuthFace"
# before login the client holds no token: rate-limited per candidate and per client address instead
PUBLIC_METHODS = tuple(f"/{SERVICE}/{m}" for m in ("StartLivenessChallenge", "VerifyLogin", "ClaimOverride"))

Ctx = grpc.aio.ServicerContext


@dataclass
class Logic:
    core: Core
    enrolments: Enrolments
    logins: Logins
    sessions: Sessions
    reviews: Reviews


class AuthFaceServicer(pb_grpc.AuthFaceServicer):
    def __init__(self, logic: Logic) -> None:
        self.logic = logic
        self.ready = logic.core.require_ready

    async def EnrolCandidate(self, request: pb.EnrolCandidateRequest, context: Ctx) -> pb.EnrolCandidateResponse:
        self.ready()
        return await self.logic.enrolments.enrol(current_claims(), request)

    async def BulkEnrol(self, request_iterator: AsyncIterator[pb.BulkEnrolRequest],
                        context: Ctx) -> AsyncIterator[pb.BulkEnrolResult]:
        self.ready()
        async for result in self.logic.enrolments.bulk(current_claims(), request_iterator):
            yield result

    async def GetEnrolment(self, request: pb.GetEnrolmentRequest, context: Ctx) -> pb.Enrolment:
        self.ready()
        return await self.logic.enrolments.get(current_claims(), request)

    async def StartLivenessChallenge(self, request: pb.StartLivenessChallengeRequest,
                                     context: Ctx) -> pb.LivenessChallenge:
        self.ready()
        return await self.logic.logins.start(request, peer_host(context.peer()))

    async def VerifyLogin(self, request: pb.VerifyLoginRequest, context: Ctx) -> pb.VerifyLoginResponse:
        self.ready()
        return await self.logic.logins.verify(request, peer_host(context.peer()))

    async def ReVerify(self, request: pb.ReVerifyRequest, context: Ctx) -> pb.ReVerifyResponse:
        self.ready()
        return await self.logic.enrolments.reverify(current_claims(), request)

    async def RefreshSession(self, request: pb.RefreshSessionRequest, context: Ctx) -> pb.SessionTokenResponse:
        self.ready()
        return await self.logic.sessions.refresh(current_claims(), request)

    async def GetSession(self, request: pb.GetSessionRequest, context: Ctx) -> pb.SessionInfo:
        self.ready()
        return await self.logic.sessions.get(current_claims(), request)

    async def RevokeSession(self, request: pb.RevokeSessionRequest, context: Ctx) -> pb.SessionInfo:
        self.ready()
        return await self.logic.sessions.revoke(current_claims(), request)

    async def StaffOverride(self, request: pb.StaffOverrideRequest, context: Ctx) -> pb.StaffOverrideResponse:
        self.ready()
        return await self.logic.sessions.staff_override(current_claims(), request)

    async def ClaimOverride(self, request: pb.ClaimOverrideRequest, context: Ctx) -> pb.SessionTokenResponse:
        self.ready()
        return await self.logic.sessions.claim(request, peer_host(context.peer()))

    async def ListManualReview(self, request: pb.ListManualReviewRequest,
                               context: Ctx) -> pb.ListManualReviewResponse:
        self.ready()
        return await self.logic.reviews.list(current_claims(), request)

    async def ResolveManualReview(self, request: pb.ResolveManualReviewRequest,
                                  context: Ctx) -> pb.ResolveManualReviewResponse:
        self.ready()
        return await self.logic.reviews.resolve(current_claims(), request)

    async def DeleteTemplates(self, request: pb.DeleteTemplatesRequest, context: Ctx) -> pb.DeleteTemplatesResponse:
        self.ready()
        return await self.logic.enrolments.delete(current_claims(), request)

    async def GetModelInfo(self, request: pb.GetModelInfoRequest, context: Ctx) -> pb.ModelInfo:
        self.ready()
        return self.logic.enrolments.model_info(current_claims())


def peer_host(peer: str) -> str:
    """'ipv4:1.2.3.4:5678' -> '1.2.3.4', 'ipv6:[::1]:5678' -> '[::1]' (the rate-limit key)."""
    parts = peer.split(":")
    return ":".join(parts[1:-1]) if len(parts) > 2 else peer
