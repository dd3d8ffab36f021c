"""notify's own gRPC API, called over loopback with the browser's proctor token.

The console holds no credentials of its own: the browser's ``Authorization: Bearer`` header is
passed through as gRPC metadata unchanged (after a syntax check), so every authorisation decision
is the gRPC server's. The request id is made here, never taken from the browser.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import grpc
from aiohttp import web

from notify.console.errors import ConsoleError
from proctor.common.v1 import common_pb2
from proctor.notify.v1 import notify_pb2, notify_pb2_grpc
from proctor_runtime import channels

MAX_AUTHORIZATION_CHARS = 8192
UNARY_TIMEOUT_S = 10.0

Metadata = tuple[tuple[str, str], ...]
REQUEST_ID = web.RequestKey("request_id", str)  # set by the server's middleware for every request


def request_id_of(request: web.Request) -> str:
    return request.get(REQUEST_ID) or ""


@dataclass(frozen=True)
class Caller:
    """Who is calling, as far as the console passes it on: the raw header and a fresh request id."""

    authorization: str  # "" when the browser sent none (the gRPC server answers TOKEN_MISSING)
    request_id: str

    @property
    def metadata(self) -> Metadata:
        pairs = [("x-request-id", self.request_id)]
        if self.authorization:
            pairs.append(("authorization", self.authorization))
        return tuple(pairs)


def caller_of(request: web.Request) -> Caller:
    request_id = request_id_of(request) or uuid.uuid4().hex
    header = request.headers.get("Authorization", "").strip()
    if header:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if (scheme.lower() != "bearer" or not token or len(header) > MAX_AUTHORIZATION_CHARS
                or not token.isascii() or not token.isprintable() or " " in token):
            raise ConsoleError(401, "TOKEN_INVALID", "authorization must be 'Bearer <token>'",
                               "身份令牌格式错误", code="UNAUTHENTICATED")
        header = f"Bearer {token}"
    return Caller(header, request_id)


class NotifyClient:
    """One loopback channel shared by every browser; each HTTP request is one gRPC call on it."""

    def __init__(self, target: str) -> None:
        self.channel = channels.channel(target, options=[
            ("grpc.max_receive_message_length", 16 * 1024 * 1024),
            ("grpc.keepalive_time_ms", 30_000),
        ])
        self.stub = notify_pb2_grpc.NotifyStub(self.channel)

    async def close(self) -> None:
        await self.channel.close()

    async def acknowledge(self, req: notify_pb2.AcknowledgeIncidentRequest,
                          caller: Caller) -> notify_pb2.IncidentView:
        return await self.stub.AcknowledgeIncident(req, metadata=caller.metadata, timeout=UNARY_TIMEOUT_S)

    async def resolve(self, req: notify_pb2.ResolveIncidentRequest, caller: Caller) -> notify_pb2.IncidentView:
        return await self.stub.ResolveIncident(req, metadata=caller.metadata, timeout=UNARY_TIMEOUT_S)

    async def escalate(self, req: notify_pb2.EscalateIncidentRequest, caller: Caller) -> notify_pb2.IncidentView:
        return await self.stub.EscalateIncident(req, metadata=caller.metadata, timeout=UNARY_TIMEOUT_S)

    async def get_incident(self, req: notify_pb2.GetIncidentRequest, caller: Caller) -> notify_pb2.IncidentDetail:
        return await self.stub.GetIncident(req, metadata=caller.metadata, timeout=UNARY_TIMEOUT_S)

    async def list_incidents(self, req: notify_pb2.ListIncidentsRequest,
                             caller: Caller) -> notify_pb2.ListIncidentsResponse:
        return await self.stub.ListIncidents(req, metadata=caller.metadata, timeout=UNARY_TIMEOUT_S)

    async def list_threads(self, req: notify_pb2.ListHelpThreadsRequest,
                           caller: Caller) -> notify_pb2.ListHelpThreadsResponse:
        return await self.stub.ListHelpThreads(req, metadata=caller.metadata, timeout=UNARY_TIMEOUT_S)

    async def list_thread(self, req: notify_pb2.ListHelpThreadRequest,
                          caller: Caller) -> notify_pb2.ListHelpThreadResponse:
        return await self.stub.ListHelpThread(req, metadata=caller.metadata, timeout=UNARY_TIMEOUT_S)

    async def reply(self, req: notify_pb2.ReplyHelpRequest, caller: Caller) -> common_pb2.ChatMessage:
        return await self.stub.ReplyHelp(req, metadata=caller.metadata, timeout=UNARY_TIMEOUT_S)

    async def send_notice(self, req: notify_pb2.SendCandidateNoticeRequest, caller: Caller) -> common_pb2.Notice:
        return await self.stub.SendCandidateNotice(req, metadata=caller.metadata, timeout=UNARY_TIMEOUT_S)

    def subscribe(self, req: notify_pb2.SubscribeIncidentsRequest,
                  caller: Caller) -> grpc.aio.UnaryStreamCall:
        """The proctor feed; the caller cancels the call when the browser goes away."""
        return self.stub.SubscribeIncidents(req, metadata=caller.metadata)
