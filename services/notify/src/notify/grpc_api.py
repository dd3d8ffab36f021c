"""gRPC servicer: protobuf in, protobuf out; the rules live in ``logic``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from notify.logic import NotifyLogic
from proctor.common.v1 import common_pb2
from proctor.notify.v1 import notify_pb2 as pb
from proctor.notify.v1 import notify_pb2_grpc as pb_grpc
from proctor_runtime.context import current_claims

SERVICE = "proctor.notify.v1.Notify"

Ctx = grpc.aio.ServicerContext


class NotifyServicer(pb_grpc.NotifyServicer):
    def __init__(self, logic: NotifyLogic) -> None:
        self.logic = logic

    async def SubscribeIncidents(self, request: pb.SubscribeIncidentsRequest,  # type: ignore[override]
                                 context: Ctx) -> AsyncIterator[Any]:
        async for item in self.logic.subscribe_incidents(current_claims(), request):
            yield item

    async def SubscribeCandidateNotices(self, request: pb.SubscribeCandidateNoticesRequest,  # type: ignore[override]
                                        context: Ctx) -> AsyncIterator[Any]:
        async for item in self.logic.subscribe_notices(current_claims(), request):
            yield item

    async def AcknowledgeIncident(self, request: pb.AcknowledgeIncidentRequest, context: Ctx) -> pb.IncidentView:
        return await self.logic.acknowledge(current_claims(), request)

    async def ResolveIncident(self, request: pb.ResolveIncidentRequest, context: Ctx) -> pb.IncidentView:
        return await self.logic.resolve(current_claims(), request)

    async def EscalateIncident(self, request: pb.EscalateIncidentRequest, context: Ctx) -> pb.IncidentView:
        return await self.logic.escalate(current_claims(), request)

    async def GetIncident(self, request: pb.GetIncidentRequest, context: Ctx) -> pb.IncidentDetail:
        return await self.logic.get_incident(current_claims(), request)

    async def ListIncidents(self, request: pb.ListIncidentsRequest, context: Ctx) -> pb.ListIncidentsResponse:
        return await self.logic.list_incidents(current_claims(), request)

    async def SummarizeIncidents(self, request: pb.SummarizeIncidentsRequest, context: Ctx) -> pb.IncidentSummary:
        return await self.logic.summarize(current_claims(), request)

    async def ReplyHelp(self, request: pb.ReplyHelpRequest, context: Ctx) -> common_pb2.ChatMessage:
        return await self.logic.reply_help(current_claims(), request)

    async def ListHelpThreads(self, request: pb.ListHelpThreadsRequest, context: Ctx) -> pb.ListHelpThreadsResponse:
        return await self.logic.list_help_threads(current_claims(), request)

    async def ListHelpThread(self, request: pb.ListHelpThreadRequest, context: Ctx) -> pb.ListHelpThreadResponse:
        return await self.logic.list_help_thread(current_claims(), request)

    async def SendCandidateNotice(self, request: pb.SendCandidateNoticeRequest, context: Ctx) -> common_pb2.Notice:
        return await self.logic.send_notice(current_claims(), request)
