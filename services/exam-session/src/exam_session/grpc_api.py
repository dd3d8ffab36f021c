"""gRPC servicer: protobuf in, protobuf out; every rule lives in ``logic``/``domain``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from exam_session.logic import ExamSessionLogic
from proctor.exam.v1 import exam_session_pb2 as pb
from proctor.exam.v1 import exam_session_pb2_grpc as pb_grpc
from proctor_runtime.context import current_claims

SERVICE = "proctor.exam.v1.ExamSession"
# no bearer token: the request itself carries the credential (face-login token, bind code)
PUBLIC_METHODS = (f"/{SERVICE}/Login", f"/{SERVICE}/BindPhone")

Ctx = grpc.aio.ServicerContext


class ExamSessionServicer(pb_grpc.ExamSessionServicer):
    def __init__(self, logic: ExamSessionLogic) -> None:
        self.logic = logic

    async def CreateSitting(self, request: pb.CreateSittingRequest, context: Ctx) -> pb.Sitting:
        return await self.logic.create_sitting(current_claims(), request.sitting)

    async def GetSitting(self, request: pb.GetSittingRequest, context: Ctx) -> pb.Sitting:
        return await self.logic.get_sitting(current_claims(), request.sitting_id)

    async def ListSittings(self, request: pb.ListSittingsRequest, context: Ctx) -> pb.ListSittingsResponse:
        return await self.logic.list_sittings(current_claims(), request)

    async def ImportCandidates(self, request: pb.ImportCandidatesRequest,
                               context: Ctx) -> pb.ImportCandidatesResponse:
        return await self.logic.import_candidates(current_claims(), request)

    async def ListRooms(self, request: pb.ListRoomsRequest, context: Ctx) -> pb.ListRoomsResponse:
        return await self.logic.list_rooms(current_claims(), request.sitting_id)

    async def ListCandidates(self, request: pb.ListCandidatesRequest,
                             context: Ctx) -> pb.ListCandidatesResponse:
        return await self.logic.list_candidates(current_claims(), request)

    async def GetCandidateState(self, request: pb.GetCandidateStateRequest,
                                context: Ctx) -> pb.CandidateStatus:
        return await self.logic.candidate_status(current_claims(), request)

    async def Login(self, request: pb.LoginRequest, context: Ctx) -> pb.LoginResponse:
        return await self.logic.login(request)

    async def IssueBindCode(self, request: pb.IssueBindCodeRequest,
                            context: Ctx) -> pb.IssueBindCodeResponse:
        return await self.logic.issue_bind_code(current_claims(), request)

    async def BindPhone(self, request: pb.BindPhoneRequest, context: Ctx) -> pb.BindPhoneResponse:
        return await self.logic.bind_phone(request, _peer_host(context.peer()))

    async def EnterWaitingRoom(self, request: pb.EnterWaitingRoomRequest,
                               context: Ctx) -> pb.CandidateStatus:
        return await self.logic.enter_waiting(current_claims(), request)

    async def Enter(self, request: pb.EnterRequest, context: Ctx) -> pb.EnterResponse:
        return await self.logic.enter(current_claims(), request)

    async def GetCurrentQuestion(self, request: pb.GetCurrentQuestionRequest,
                                 context: Ctx) -> pb.CurrentQuestion:
        return await self.logic.current_question(current_claims(), request)

    async def SaveAnswer(self, request: pb.SaveAnswerRequest, context: Ctx) -> pb.SaveAnswerResponse:
        return await self.logic.save_answer(current_claims(), request)

    async def Advance(self, request: pb.AdvanceRequest, context: Ctx) -> pb.AdvanceResponse:
        return await self.logic.advance(current_claims(), request)

    async def SyncOfflineAnswers(self, request: pb.SyncOfflineAnswersRequest,
                                 context: Ctx) -> pb.SyncOfflineAnswersResponse:
        return await self.logic.sync_offline(current_claims(), request)

    async def Heartbeat(self, request: pb.HeartbeatRequest, context: Ctx) -> pb.HeartbeatResponse:
        return await self.logic.heartbeat(current_claims(), request)

    async def ReportTelemetry(self, request: pb.ReportTelemetryRequest,
                              context: Ctx) -> pb.ReportTelemetryResponse:
        return await self.logic.report_telemetry(current_claims(), request)

    async def SendHelpMessage(self, request: pb.SendHelpMessageRequest,
                              context: Ctx) -> pb.SendHelpMessageResponse:
        return await self.logic.send_help(current_claims(), request)

    async def Finish(self, request: pb.FinishRequest, context: Ctx) -> pb.CandidateStatus:
        return await self.logic.finish(current_claims(), request)

    async def StaffTransition(self, request: pb.StaffTransitionRequest,
                              context: Ctx) -> pb.CandidateStatus:
        return await self.logic.staff_transition(current_claims(), request)

    async def ExportAnswerSheet(self, request: pb.ExportAnswerSheetRequest,
                                context: Ctx) -> pb.AnswerSheet:
        return await self.logic.export_sheet(current_claims(), request)

    async def StreamAnswerSheets(self, request: pb.StreamAnswerSheetsRequest,
                                 context: Ctx) -> AsyncIterator[pb.AnswerSheet]:
        async for sheet in self.logic.stream_sheets(current_claims(), request):
            yield sheet


def _peer_host(peer: str) -> str:
    """'ipv4:1.2.3.4:5678' -> '1.2.3.4' (the rate-limit key)."""
    parts = peer.split(":")
    return ":".join(parts[1:-1]) if len(parts) > 2 else peer
